"""ws_gen.py -- generated websocket market data, tied to the REST datasets.

Gen(seed, trade_ratio) produces a deterministic (random.Random(seed)) mix of
events over the subscribed symbols: trades and single-level book updates.
Each symbol gets a price grid (2..8 decimals, chosen so the price has >= 5
significant digits) around the last REST trade price of its dataset (43000
if none) and a synthetic book of 50 bids + 50 asks one tick apart around the
mid; updates touch the 60 levels nearest the mid on either side, ~35% of the
touches of an existing level remove it (size "0").  Trades print 1..3 ticks
off the mid, buy or sell.  Sizes come from a seeded pool of 512 decimal texts.

Trades become real at send time: RestSink.trade() appends each one to the
namespace's REST dataset (tid = dataset max + 1..10, timestampms = send
time), so /v1/trades since_tid and /_admin/.../truth include it at once.

Candles: CandleFeed keeps data.candle_accumulate buckets for a symbol,
starting from the whole dataset and adding the trades appended since.
"""

import decimal
import math
import random

import data

N_LEVELS = 50
TOUCH = 60


def price_decimals(p):
    """Decimals of the price grid for price p (Decimal > 0)."""
    if p <= 0:
        return 2
    return max(2, min(8, 4 - math.floor(math.log10(p))))


def amount_pool(rng, n=512):
    out = []
    for _ in range(n):
        v = 10 ** rng.uniform(-4, 1.3)
        dec = rng.choice((2, 4, 5, 6, 8))
        txt = "%.*f" % (dec, max(v, 10 ** -dec))
        out.append(txt)
    return out


class SymGen:
    """One symbol's grid and synthetic book."""

    __slots__ = ("sym", "low", "dec", "div", "mid", "bids", "asks", "_pt",
                 "want_trade", "want_depth", "last_u")

    def __init__(self, sym, last_price, rng, amounts):
        self.sym = sym.upper()
        self.low = sym.lower()
        p = decimal.Decimal(last_price) if last_price else decimal.Decimal(43000)
        self.dec = price_decimals(p)
        self.div = 10 ** self.dec
        self.mid = max(N_LEVELS + TOUCH + 10, int(p * self.div))
        self._pt = {}
        self.bids = {}
        self.asks = {}
        na = len(amounts)
        for i in range(N_LEVELS):
            self.bids[self.mid - 1 - i] = amounts[int(rng.random() * na)]
            self.asks[self.mid + 1 + i] = amounts[int(rng.random() * na)]
        self.want_trade = True
        self.want_depth = True
        self.last_u = None

    def pt(self, tick):
        s = self._pt.get(tick)
        if s is None:
            q, r = divmod(tick, self.div)
            s = self._pt[tick] = "%d.%0*d" % (q, self.dec, r)
        return s

    def top(self, n=None):
        """-> (bids, asks) as [(price, qty)] best first (n<=0/None: all)."""
        b = sorted(self.bids, reverse=True)
        a = sorted(self.asks)
        if n and n > 0:
            b, a = b[:n], a[:n]
        return [(self.pt(k), self.bids[k]) for k in b], [(self.pt(k), self.asks[k]) for k in a]


class Gen:
    """Deterministic event mix over the active symbols."""

    def __init__(self, seed, trade_ratio):
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.amounts = amount_pool(self.rng)
        self.ratio = float(trade_ratio)
        self.syms = []

    def add(self, sym, last_price):
        st = SymGen(sym, last_price, self.rng, self.amounts)
        self.syms.append(st)
        return st

    def remove(self, sym):
        self.syms = [s for s in self.syms if s.sym != sym.upper()]

    def event(self):
        """-> (st, is_trade, flag, tick, qty, gap): flag is "buy"/"sell" for a
        trade, True (bid) / False (ask) for a book update; gap 0..9."""
        r = self.r
        syms = self.syms
        st = syms[int(r() * len(syms))]
        am = self.amounts
        x = r()
        if (x < self.ratio and st.want_trade) or not st.want_depth:
            off = 1 + int(r() * 3)
            if r() < 0.5:
                return st, True, "buy", st.mid + off, am[int(r() * 512)], int(r() * 10)
            return st, True, "sell", st.mid - off, am[int(r() * 512)], int(r() * 10)
        is_bid = r() < 0.5
        j = int(r() * TOUCH)
        book = st.bids if is_bid else st.asks
        tick = st.mid - 1 - j if is_bid else st.mid + 1 + j
        q = am[int(r() * 512)]
        if tick in book and r() < 0.35:
            del book[tick]
            q = "0"
        else:
            book[tick] = q
        return st, False, is_bid, tick, q, 0


def dataset(ns, sym):
    """The namespace's writable dataset for sym (created empty if missing)."""
    sym = sym.upper()
    ds = ns.writable(sym)
    if ds is None:
        ds = data.Dataset(sym, "generated", [], [], [], [], [], bytearray(), info={"origin": "ws"})
        ds.owner = ns
        ns.datasets[sym] = ds
        ns._symbols = None
    return ds


def last_price(ns, sym):
    ds = ns.datasets.get(sym.upper())
    if ds is not None:
        for i in range(len(ds) - 1, max(-1, len(ds) - 1000), -1):
            if not ds.broken[i]:
                return ds.price[i]
    return None


def recent_trades(ns, sym, n=50):
    """The n most recent non-broken REST trades, newest first:
    [(tid, ts, price, amount, side)]."""
    ds = ns.datasets.get(sym.upper())
    out = []
    if ds is None:
        return out
    i = len(ds) - 1
    while i >= 0 and len(out) < n:
        if not ds.broken[i]:
            out.append((ds.tids[i], ds.ts[i], ds.price[i], ds.amount[i], ds.side[i]))
        i -= 1
    return out


class RestSink:
    """Appends sent trades to the namespace's REST data (looked up anew per
    batch, so an admin /config that replaces the namespace is followed)."""

    def __init__(self, registry, token):
        self.registry = registry
        self.token = token
        self.ns = None
        self.cache = {}

    def refresh(self):
        ns = self.registry.get(self.token)
        if ns is not self.ns:
            self.ns = ns
            self.cache = {}
        else:
            for sym, ds in list(self.cache.items()):
                if ns.datasets.get(sym) is not ds:
                    del self.cache[sym]
        return ns

    def prime(self, sym):
        """Make sym's dataset writable now (the copy-on-write clone happens
        before streaming rather than on the first trade)."""
        sym = sym.upper()
        self.cache[sym] = dataset(self.refresh(), sym)

    def next_tid(self, sym, gap):
        ds = self.cache.get(sym)
        if ds is None:
            ds = self.cache[sym] = dataset(self.ns or self.refresh(), sym)
        return (ds.tids[-1] if ds.tids else data.TID_BASE) + 1 + gap

    def trade(self, sym, tid, ts, price, qty, side):
        self.cache[sym].append_trade(tid, ts, price, qty, side, True)


class CandleFeed:
    """Candle buckets of one symbol and frame, kept up to date incrementally."""

    def __init__(self, ns, sym, frame_ms):
        self.sym = sym.upper()
        self.frame = frame_ms
        ds = ns.datasets.get(self.sym)
        self.ds = ds
        self.buckets = {}
        self.n = 0
        self.update(ns)

    def update(self, ns):
        ds = ns.datasets.get(self.sym)
        if ds is not self.ds:
            self.ds, self.buckets, self.n = ds, {}, 0
        if ds is None:
            return
        n = len(ds)
        if n > self.n:
            data.candle_accumulate(self.buckets, ds.ts[self.n:], ds.price[self.n:], ds.amount[self.n:],
                                   ds.broken[self.n:], self.frame)
            self.n = n

    def parts(self, limit=data.MAX_CANDLES):
        return data.candle_parts(self.buckets, limit)
