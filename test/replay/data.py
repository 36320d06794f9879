"""data.py -- the replay server's trade data model: datasets, fixtures, generator.

A Dataset holds the trades of one symbol as parallel columns sorted by tid
(tids, timestampms, price text, amount text, side, broken flag) plus each
trade's REST JSON text rendered once, in two variants:

  * plain:  {"timestamp":..,"timestampms":..,"tid":..,"price":"..","amount":"..",
             "exchange":"gemini","type":".."}
  * breaks: the same with ,"broken":true|false appended (include_breaks=true).

Pages are built by slicing those lists and joining the strings, and cursors
are found with bisect, so serving a 500-trade page costs a few microseconds
no matter how large the dataset is.  Prices and amounts are kept as the exact
decimal text they were read or generated with; they never become floats.

Two kinds of datasets exist:

  * recorded  -- load_fixtures(): real Gemini trades taken from the fixtures
    (v2 websocket `trade` messages and the `trades` arrays of l2 snapshots in
    v2_marketdata_l2_session_*.jsonl, and REST pages rest_v1_trades_<sym>_*.json),
    de-duplicated by tid per symbol;
  * generated -- generate(): deterministic from a seed (random.Random(seed)):
    irregular tid gaps (incl. ~1e9 jumps), bursts of trades sharing one
    millisecond (some bigger than a 500-trade page and straddling page
    boundaries), decimals of varied scale, auction/block sides, ~0.5% broken,
    optional impossible timestamps (`bad_times`) and ints sent as strings.

Datasets are shared between namespaces copy-on-write: a namespace clones one
before changing it (state.Namespace.writable), so nothing here is per-request.
The websocket side (ws*.py) reads the same Dataset objects and appends the
trades it generates with Dataset.append_trade (O(1), views kept); a recorded
session with "rest_follows" (ws_config.py) takes its live trades out with
Dataset.remove_tids and puts each back with Dataset.insert_trade when the
replay reaches it.
"""

import bisect
import datetime
import decimal
import glob
import itertools
import json
import os
import random
import time

PAGE = 500
DEFAULT_START = "2026-01-05T23:30:00Z"
DEFAULT_SPAN_S = 7200
TID_BASE = 2840140000000000
SIDES = ("buy", "sell", "auction", "block")

# candle time frames accepted by /v2/candles, in ms
FRAMES = {
    "1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
    "1hr": 3_600_000, "6hr": 21_600_000, "1day": 86_400_000,
}
MAX_CANDLES = 1440

_DEC_CTX = decimal.Context(prec=80)

# quote currencies used to split a symbol into base/quote (longest first)
_QUOTES = ("GUSDPERP", "USDT", "USDC", "GUSD", "USD", "BTC", "ETH", "EUR", "GBP",
           "SGD", "DAI", "BCH", "LTC", "AUD", "CAD", "JPY")


def now_ms():
    return int(time.time() * 1000)


def parse_instant(text):
    """ISO-8601 (e.g. 2026-01-05T23:30:00Z) or epoch milliseconds -> epoch ms."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    s = str(text).strip()
    if s.lstrip("-").isdigit():
        return int(s)
    dt = datetime.datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000)


def iso_ms(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def _jstr(s):
    """JSON string literal; plain decimal/side texts come out unchanged."""
    return '"' + s + '"' if s.isprintable() and '"' not in s and "\\" not in s else json.dumps(s)


def render_trade(tid, ts, price, amount, side, ints_as_strings=False):
    """One trade as Gemini's compact REST JSON (no "broken" key)."""
    if ints_as_strings:
        return ('{"timestamp":"%d","timestampms":"%d","tid":"%d","price":%s,"amount":%s,'
                '"exchange":"gemini","type":%s}' % (ts // 1000, ts, tid, _jstr(price), _jstr(amount), _jstr(side)))
    return ('{"timestamp":%d,"timestampms":%d,"tid":%d,"price":%s,"amount":%s,'
            '"exchange":"gemini","type":%s}' % (ts // 1000, ts, tid, _jstr(price), _jstr(amount), _jstr(side)))


_BRK = (',"broken":false}', ',"broken":true}')
_FMT = ('{"timestamp":%d,"timestampms":%d,"tid":%d,"price":"%s","amount":"%s",'
        '"exchange":"gemini","type":"%s"}')


def with_broken(plain, broken):
    return plain[:-1] + _BRK[1 if broken else 0]


class View:
    """Trades visible to one kind of request, in tid order.

    tids/rend are parallel lists; key is the running maximum of timestampms
    (equal to the timestamps themselves when they never decrease), which lets
    a timestamp cursor be found with bisect even when some timestamps are
    out of order (bad_times)."""

    __slots__ = ("tids", "ts", "rend", "key", "mono")

    def __init__(self, tids, ts, rend):
        self.tids = tids
        self.ts = ts
        self.rend = rend
        key = list(itertools.accumulate(ts, max)) if ts else []
        self.mono = key == ts
        self.key = ts if self.mono else key

    def page(self, since_tid, ts_from, limit):
        """-> (list of JSON texts newest first, first_tid, last_tid).

        since_tid given: the oldest `limit` trades with tid > since_tid.
        ts_from given:   the oldest `limit` trades with timestampms >= ts_from.
        neither:         the newest `limit` trades.
        The page is always listed newest first (first_tid is the newest)."""
        tids = self.tids
        n = len(tids)
        if since_tid is not None:
            lo = bisect.bisect_right(tids, since_tid)
            hi = min(n, lo + limit)
        elif ts_from is not None:
            lo = bisect.bisect_left(self.key, ts_from)
            if self.mono:
                hi = min(n, lo + limit)
            else:
                # timestamps out of order somewhere: collect matching trades
                ts = self.ts
                idx = []
                for i in range(lo, n):
                    if ts[i] >= ts_from:
                        idx.append(i)
                        if len(idx) == limit:
                            break
                if not idx:
                    return [], None, None
                rend = self.rend
                items = [rend[i] for i in reversed(idx)]
                return items, tids[idx[-1]], tids[idx[0]]
        else:
            hi = n
            lo = max(0, n - limit)
        if lo >= hi:
            return [], None, None
        items = self.rend[lo:hi]
        items.reverse()
        return items, tids[hi - 1], tids[lo]


class Dataset:
    """All trades of one symbol (columns sorted by tid) + pre-rendered JSON."""

    def __init__(self, symbol, kind, tids, ts, price, amount, side, broken,
                 ints_as_strings=False, plain=None, info=None):
        if not (len(tids) == len(ts) == len(price) == len(amount) == len(side) == len(broken)):
            raise ValueError("dataset %s: columns differ in length" % symbol)
        self.symbol = symbol.upper()
        self.kind = kind                    # "recorded" | "generated"
        self.tids = tids
        self.ts = ts
        self.price = price
        self.amount = amount
        self.side = side
        self.broken = broken                # bytearray of 0/1
        self.ints_as_strings = ints_as_strings
        self.info = dict(info or {})
        self.plain = plain          # rendered lazily (see rendered()): startup stays fast
        self.brk = None
        self.version = 0
        self.owner = None
        self._views = {}
        self._candles = {}

    # ---- construction helpers -------------------------------------------------

    def _render(self, tids, ts, price, amount, side):
        if self.ints_as_strings:
            fmt = ('{"timestamp":"%d","timestampms":"%d","tid":"%d","price":"%s","amount":"%s",'
                   '"exchange":"gemini","type":"%s"}')
        else:
            fmt = ('{"timestamp":%d,"timestampms":%d,"tid":%d,"price":"%s","amount":"%s",'
                   '"exchange":"gemini","type":"%s"}')
        rows = zip(tids, ts, price, amount, side)
        if self.kind == "generated" or all(_safe_text(x) for col in (price, amount, side) for x in col):
            return [fmt % (t // 1000, t, i, p, a, s) for i, t, p, a, s in rows]
        return [render_trade(i, t, p, a, s, self.ints_as_strings) for i, t, p, a, s in rows]

    def rendered(self):
        """Make sure both JSON variants of every trade exist."""
        if self.plain is None:
            self.plain = self._render(self.tids, self.ts, self.price, self.amount, self.side)
        if self.brk is None:
            self.brk = [p[:-1] + (',"broken":true}' if b else ',"broken":false}')
                        for p, b in zip(self.plain, self.broken)]
        return self

    def clone(self):
        c = Dataset.__new__(Dataset)
        c.symbol, c.kind, c.ints_as_strings = self.symbol, self.kind, self.ints_as_strings
        c.info = dict(self.info)
        c.tids, c.ts = list(self.tids), list(self.ts)
        c.price, c.amount, c.side = list(self.price), list(self.amount), list(self.side)
        c.broken = bytearray(self.broken)
        c.plain = None if self.plain is None else list(self.plain)
        c.brk = None if self.brk is None else list(self.brk)
        c.version = self.version
        c.owner = None
        c._views = {}
        c._candles = {}
        return c

    def __len__(self):
        return len(self.tids)

    def _changed(self):
        self.version += 1
        self._views = {}
        self._candles = {}

    # ---- queries ----------------------------------------------------------------

    def view(self, include_breaks):
        v = self._views.get(include_breaks)
        if v is None:
            self.rendered()
            if include_breaks:
                v = View(self.tids, self.ts, self.brk)
            elif not any(self.broken):
                v = View(self.tids, self.ts, self.plain)
            else:
                keep = [not b for b in self.broken]
                v = View(list(itertools.compress(self.tids, keep)),
                         list(itertools.compress(self.ts, keep)),
                         list(itertools.compress(self.plain, keep)))
            self._views[include_breaks] = v
        return v

    def index_of(self, tid):
        i = bisect.bisect_left(self.tids, tid)
        return i if i < len(self.tids) and self.tids[i] == tid else -1

    def truth_rows(self, from_ms=None, to_ms=None):
        """Ground truth rows (tid, ts, price, amount, side, broken) by tid."""
        rows = zip(self.tids, self.ts, self.price, self.amount, self.side, self.broken)
        if from_ms is None and to_ms is None:
            return rows
        lo = from_ms if from_ms is not None else -(1 << 62)
        hi = to_ms if to_ms is not None else (1 << 62)
        return (r for r in rows if lo <= r[1] < hi)

    def truth_csv(self, from_ms=None, to_ms=None):
        tf = ("false", "true")
        lines = ["tid,timestampms,price,amount,side,broken"]
        lines.extend(["%d,%d,%s,%s,%s,%s" % (i, t, p, a, s, tf[b])
                      for i, t, p, a, s, b in self.truth_rows(from_ms, to_ms)])
        lines.append("")
        return "\n".join(lines)

    def summary(self):
        n = len(self.tids)
        out = {"symbol": self.symbol, "kind": self.kind, "count": n,
               "broken": sum(self.broken), "ints_as_strings": self.ints_as_strings,
               "version": self.version}
        if n:
            out.update(min_tid=self.tids[0], max_tid=self.tids[-1],
                       min_ts=min(self.ts), max_ts=max(self.ts),
                       first_ts=self.ts[0], last_ts=self.ts[-1])
        out.update(self.info)
        return out

    def candles(self, frame_ms):
        """-> (element texts, body bytes) of the /v2/candles body.

        [[bucket_ms,open,high,low,close,volume],...] newest first, at most
        MAX_CANDLES, buckets aligned to the frame in UTC epoch ms, only buckets
        with trades, from the non-broken trades in tid order.  Prices are
        written as JSON numbers with the trades' exact decimal text; volume is
        the exact Decimal sum without exponent or trailing zeros."""
        hit = self._candles.get(frame_ms)
        if hit is not None:
            return hit
        buckets = candle_accumulate({}, self.ts, self.price, self.amount, self.broken, frame_ms)
        parts = candle_parts(buckets)
        hit = (parts, ("[" + ",".join(parts) + "]").encode())
        self._candles[frame_ms] = hit
        return hit

    # ---- changes (callers clone first when the dataset is shared) ---------------

    def set_broken(self, tids, flag=True):
        changed, missing = [], []
        f = 1 if flag else 0
        for tid in tids:
            i = self.index_of(int(tid))
            if i < 0:
                missing.append(tid)
                continue
            if self.broken[i] != f:
                self.broken[i] = f
                if self.brk is not None:
                    self.brk[i] = with_broken(self.plain[i], f)
                changed.append(int(tid))
        if changed:
            self._changed()
        return changed, missing

    def append(self, other):
        """Append the trades of `other` (all tids above ours)."""
        if self.tids and other.tids and other.tids[0] <= self.tids[-1]:
            raise ValueError("appended tids must be above %d" % self.tids[-1])
        self.rendered()
        other.rendered()
        self.tids.extend(other.tids)
        self.ts.extend(other.ts)
        self.price.extend(other.price)
        self.amount.extend(other.amount)
        self.side.extend(other.side)
        self.broken.extend(other.broken)
        self.plain.extend(other.plain)
        self.brk.extend(other.brk)
        self._changed()

    def append_trade(self, tid, ts, price, amount, side, safe=False):
        """Append one new (non-broken) trade with tid above the max, in O(1):
        the rendered lists grow in place and cached views are extended rather
        than rebuilt (the websocket generator appends every trade it sends).
        safe=True: the texts need no JSON escaping (skips the check)."""
        if self.tids and tid <= self.tids[-1]:
            raise ValueError("appended tid must be above %d" % self.tids[-1])
        self.rendered()
        if safe and not self.ints_as_strings:
            plain = _FMT % (ts // 1000, ts, tid, price, amount, side)
        else:
            plain = render_trade(tid, ts, price, amount, side, self.ints_as_strings)
        self.tids.append(tid)
        self.ts.append(ts)
        self.price.append(price)
        self.amount.append(amount)
        self.side.append(side)
        self.broken.append(0)
        self.plain.append(plain)
        self.brk.append(plain[:-1] + _BRK[0])
        self.version += 1
        if self._candles:
            self._candles = {}
        for k, v in list(self._views.items()):
            if v.tids is not self.tids:         # a filtered copy (no broken trades)
                v.tids.append(tid)
                v.ts.append(ts)
                v.rend.append(plain)
            if v.mono:
                if len(v.ts) > 1 and v.ts[-2] > ts:
                    del self._views[k]          # no longer monotonic: rebuild on demand
            else:
                v.key.append(max(v.key[-1], ts) if v.key else ts)

    def remove_tids(self, tids):
        """Take the trades with these tids out (absent ones are skipped);
        -> {tid: (ts, price, amount, side, broken)} of those removed."""
        want = set(tids)
        keep = [t not in want for t in self.tids]
        if all(keep):
            return {}
        out = {t: (ts, p, a, s, b) for t, ts, p, a, s, b, k in
               zip(self.tids, self.ts, self.price, self.amount, self.side, self.broken, keep) if not k}
        self.tids = list(itertools.compress(self.tids, keep))
        self.ts = list(itertools.compress(self.ts, keep))
        self.price = list(itertools.compress(self.price, keep))
        self.amount = list(itertools.compress(self.amount, keep))
        self.side = list(itertools.compress(self.side, keep))
        self.broken = bytearray(itertools.compress(self.broken, keep))
        if self.plain is not None:
            self.plain = list(itertools.compress(self.plain, keep))
        if self.brk is not None:
            self.brk = list(itertools.compress(self.brk, keep))
        self._changed()
        return out

    def insert_trade(self, tid, ts, price, amount, side, broken=0):
        """Add one trade in tid order; -> False (and nothing changes) when
        the tid is already there.  Above the max it is append_trade (O(1));
        below (a tid between existing ones) the columns get an insert and
        the cached views are dropped."""
        if not self.tids or tid > self.tids[-1]:
            self.append_trade(tid, ts, price, amount, side)
            if broken:
                self.set_broken([tid], True)
            return True
        i = bisect.bisect_left(self.tids, tid)
        if self.tids[i] == tid:
            return False
        self.rendered()
        plain = render_trade(tid, ts, price, amount, side, self.ints_as_strings)
        self.tids.insert(i, tid)
        self.ts.insert(i, ts)
        self.price.insert(i, price)
        self.amount.insert(i, amount)
        self.side.insert(i, side)
        self.broken.insert(i, 1 if broken else 0)
        self.plain.insert(i, plain)
        self.brk.insert(i, with_broken(plain, broken))
        self._changed()
        return True

    def shift(self, delta_ms):
        self.ts = [t + delta_ms for t in self.ts]
        self.plain = self.brk = None
        self._changed()

    def append_generated(self, count, seed, span_s=None, start_ms=None, **opts):
        """Generate `count` newer trades (tids above the max, timestamps after
        the last trade) and append them; -> (first_tid, last_tid)."""
        last_ts = self.ts[-1] if self.ts else now_ms()
        rng = random.Random(seed)
        if start_ms is None:
            start_ms = last_ts + 1 + rng.randrange(1000)
        if span_s is None:
            span_s = max(1, count // 4)
        tid_start = (self.tids[-1] if self.tids else TID_BASE) + 1 + rng.randrange(50)
        opts.setdefault("ints_as_strings", self.ints_as_strings)
        opts.setdefault("broken_rate", 0.0)     # appended trades are not broken unless asked
        if self.price:
            opts.setdefault("price_base", self.price[-1])
        extra = generate(self.symbol, count, seed, start_ms=start_ms, span_s=span_s,
                         tid_start=tid_start, **opts)
        if not extra.tids:
            return None, None
        self.append(extra)
        return extra.tids[0], extra.tids[-1]


def _safe_text(s):
    return s.isprintable() and '"' not in s and "\\" not in s


def dec_text(d):
    """Decimal -> plain JSON number text without exponent or trailing zeros."""
    if d == 0:
        return "0"
    s = format(d.normalize(_DEC_CTX), "f")
    return s


def candle_accumulate(buckets, ts, price, amount, broken, frame_ms):
    """Add trades (parallel columns, tid order) to candle buckets
    {bucket_ms: [open, high, high_dec, low, low_dec, close, volume_dec]};
    broken trades are skipped.  -> buckets.  Used by Dataset.candles and,
    incrementally, by the websocket candle updates (ws_gen.py)."""
    D = decimal.Decimal
    for t, p, a, b in zip(ts, price, amount, broken):
        if b:
            continue
        k = t - t % frame_ms
        c = buckets.get(k)
        pd = D(p)
        if c is None:
            buckets[k] = [p, p, pd, p, pd, p, D(a)]
        else:
            if pd > c[2]:
                c[1], c[2] = p, pd
            if pd < c[4]:
                c[3], c[4] = p, pd
            c[5] = p
            c[6] = _DEC_CTX.add(c[6], D(a))
    return buckets


def candle_parts(buckets, limit=MAX_CANDLES):
    """Candle buckets -> element texts "[ms,o,h,l,c,v]", newest first."""
    parts = []
    for k in sorted(buckets, reverse=True)[:limit]:
        o, h, _, lo, _, c, v = buckets[k]
        parts.append("[%d,%s,%s,%s,%s,%s]" % (k, o, h, lo, c, dec_text(v)))
    return parts


# ---------------------------------------------------------------------------
# recorded data (fixtures)
# ---------------------------------------------------------------------------

class Fixtures:
    """What the fixtures directory provides: recorded datasets, the REST
    symbol list and the raw symbol-details lines (byte-exact)."""

    def __init__(self):
        self.recorded = {}          # SYMBOL -> Dataset
        self.symbol_list = []       # lower-case, from rest_v1_symbols_*.json
        self.details = {}           # SYMBOL -> bytes (the fixture line, verbatim)
        self.files = []
        self.dir = None             # the fixtures directory (ws_session.py reads it)


def load_fixtures(fixtures_dir):
    fx = Fixtures()
    fx.dir = fixtures_dir
    by_sym = {}                     # SYMBOL -> {tid: (ts, price, amount, side)}

    def add(sym, tid, ts, price, amount, side):
        by_sym.setdefault(sym.upper(), {}).setdefault(int(tid), (int(ts), price, amount, side))

    def add_v2(t):
        tid = t.get("tid", t.get("event_id"))
        if tid is None:
            return
        add(t["symbol"], tid, t["timestamp"], t["price"], t["quantity"], t["side"])

    for path in sorted(glob.glob(os.path.join(fixtures_dir, "v2_marketdata_l2_session_*.jsonl"))):
        fx.files.append(os.path.basename(path))
        with open(path, "rb") as f:
            for line in f:
                line = line.strip()
                if not line or (b'"trade' not in line):
                    continue
                try:
                    m = json.loads(line)
                except ValueError:
                    continue
                typ = m.get("type")
                if typ == "trade":
                    add_v2(m)
                elif typ == "l2_updates":
                    for t in m.get("trades") or ():
                        if isinstance(t, dict) and "symbol" not in t:
                            t = dict(t, symbol=m["symbol"])
                        add_v2(t)

    for path in sorted(glob.glob(os.path.join(fixtures_dir, "rest_v1_trades_*.json"))):
        fx.files.append(os.path.basename(path))
        sym = os.path.basename(path)[len("rest_v1_trades_"):].split("_")[0]
        with open(path, "rb") as f:
            arr = json.loads(f.read())
        for t in arr:
            ts = t.get("timestampms")
            if ts is None:
                ts = int(t["timestamp"]) * 1000
            add(sym, t["tid"], ts, t["price"], t["amount"], t["type"])

    for sym, trades in sorted(by_sym.items()):
        tids = sorted(trades)
        cols = [trades[i] for i in tids]
        fx.recorded[sym] = Dataset(
            sym, "recorded", tids, [c[0] for c in cols], [c[1] for c in cols],
            [c[2] for c in cols], [c[3] for c in cols], bytearray(len(tids)))

    for path in sorted(glob.glob(os.path.join(fixtures_dir, "rest_v1_symbols_2*.json"))):
        fx.files.append(os.path.basename(path))
        with open(path, "rb") as f:
            for s in json.loads(f.read()):
                if s.lower() not in fx.symbol_list:
                    fx.symbol_list.append(s.lower())

    for path in sorted(glob.glob(os.path.join(fixtures_dir, "rest_v1_symbols_details_*.jsonl"))):
        fx.files.append(os.path.basename(path))
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\r\n")
                if not line.strip():
                    continue
                try:
                    sym = json.loads(line)["symbol"].upper()
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
                fx.details.setdefault(sym, line)
    return fx


def shift_recorded(recorded, newest_ms):
    """Shift each recorded dataset so its newest trade is at newest_ms."""
    for ds in recorded.values():
        if ds.ts:
            ds.shift(newest_ms - max(ds.ts))


def synth_details(symbol):
    """Symbol details for a symbol without a fixture line."""
    s = symbol.upper()
    quote = next((q for q in _QUOTES if s.endswith(q) and len(s) > len(q)), s[-3:])
    base = s[: len(s) - len(quote)]
    return ('{"symbol":"%s","base_currency":"%s","quote_currency":"%s","tick_size":1E-8,'
            '"quote_increment":0.01,"min_order_size":"0.00001","status":"open"}' % (s, base, quote)).encode()


# ---------------------------------------------------------------------------
# generated data
# ---------------------------------------------------------------------------

def _forced_bursts(rng, count, giant=None):
    """{start_index: size} of bursts that must straddle 500-trade page
    boundaries: `giant` ones larger than a page, plus small ones."""
    out = {}
    n_bound = count // PAGE - (1 if count % PAGE == 0 else 0)   # boundaries inside the data
    if n_bound < 1:
        return out
    if giant is None:
        giant = 0 if count < 1100 else min(5, 1 + count // 40000)
    taken = []

    def free(a, b):
        return a >= 0 and b < count and all(b + 1 < x or a > y + 1 for x, y in taken)

    bounds = list(range(1, n_bound + 1))
    rng.shuffle(bounds)
    k = 0
    for m in bounds:
        if k >= giant:
            break
        size = rng.randint(PAGE + 1, max(PAGE + 1, min(1200, count // 2)))
        b = m * PAGE
        start = b - rng.randint(1, size - 1)
        if free(start, start + size - 1):
            taken.append((start, start + size - 1))
            out[start] = size
            k += 1
    small = 0
    for m in bounds:
        if small >= 12:
            break
        size = rng.randint(2, 40)
        b = m * PAGE
        start = b - rng.randint(1, size - 1)
        if free(start, start + size - 1):
            taken.append((start, start + size - 1))
            out[start] = size
            small += 1
    return out


def generate(symbol, count, seed, start_ms=None, span_s=None, bad_times=0,
             ints_as_strings=False, price_base="43000", price_decimals=None,
             broken_rate=0.005, giant_bursts=None, tid_start=None, now=None):
    """Deterministic synthetic trades for one symbol (see module docstring)."""
    count = int(count)
    if count < 0:
        raise ValueError("count must be >= 0")
    start_ms = parse_instant(DEFAULT_START if start_ms is None else start_ms)
    span_ms = int(float(DEFAULT_SPAN_S if span_s is None else span_s) * 1000)
    if span_ms < 1:
        span_ms = 1
    rng = random.Random(seed)
    rand = rng.random

    # 1. group sizes: a group is a set of trades sharing one millisecond
    forced = _forced_bursts(rng, count, giant_bursts)
    fstarts = sorted(forced)
    fi = 0
    sizes = []
    i = 0
    while i < count:
        if fi < len(fstarts) and fstarts[fi] == i:
            size = min(forced[i], count - i)
            fi += 1
        else:
            size = 1 if rand() >= 0.03 else 2 + int(38 * rand() ** 2)
            lim = (fstarts[fi] if fi < len(fstarts) else count) - i
            if size > lim:
                size = lim
        sizes.append(size)
        i += size

    # 2. one timestamp per group, non-decreasing over [start, start+span)
    g = len(sizes)
    offs = [int(rand() * span_ms) for _ in range(g)]
    if g:
        offs[0] = 0
    for j in range(1, g, 97):        # ~1% on whole seconds
        o = offs[j]
        offs[j] = max(0, o - (start_ms + o) % 1000)
    offs.sort()
    ts = []
    ext = ts.extend
    for o, size in zip(offs, sizes):
        ext([start_ms + o] * size)

    # 3. per-trade columns
    tid = TID_BASE + rng.randrange(1_000_000) if tid_start is None else int(tid_start)
    base = int(decimal.Decimal(str(price_base)) * 100_000_000)
    p = base
    vol = max(1, base // 20000)
    jump_at = count // 3 if count >= 1000 else -1
    P = [10 ** k for k in range(20)]
    fixed_scale = None if price_decimals is None else int(price_decimals)
    fixed_div = P[8 - fixed_scale] if fixed_scale is not None and fixed_scale <= 8 else None
    tids = [0] * count
    prices = [""] * count
    amounts = [""] * count
    sides = [""] * count
    broken = bytearray(count)
    pw = 10.0
    for k in range(count):
        r = rand()
        if r < 0.01:
            if r < 0.00005:
                tid += rng.randint(900_000_000, 1_100_000_000)
            else:
                tid += 1000 + int(rand() * 9000)
        else:
            tid += 1 + int(r * 5000) % 50
        if k == jump_at:
            tid += 987_654_321
        tids[k] = tid
        # price: mean-reverting random walk, in 1e-8 units
        p += int((rand() - 0.5) * vol) + ((base - p) >> 10)
        if p < 100:
            p = 100
        if fixed_scale is not None:
            s = fixed_scale
            v = p // fixed_div if fixed_div else p * P[s - 8]
        else:
            r = rand()
            if r < 0.55:
                s, v = 2, p // 1_000_000
            elif r < 0.70:
                s, v = 8, p
            elif r < 0.78:
                s, v = 0, p // 100_000_000
            elif r < 0.86:
                s, v = 2, p // 10_000_000 * 10
            elif r < 0.93:
                s, v = 3, p // 1_000_000 * 10
            else:
                s, v = 5, p // 1000
        if v <= 0:
            s, v = 8, p
        if s:
            q, v = divmod(v, P[s])
            prices[k] = "%d.%0*d" % (q, s, v)
        else:
            prices[k] = str(v)
        # amount: log-uniform 1e-9 .. ~50, in 1e-10 units, varied scale
        a = int(pw ** (rand() * 10.7 + 1)) + 1
        r = rand()
        if r < 0.50:
            s, v = 8, a // 100
        elif r < 0.65:
            s, v = 6, a // 10_000
        elif r < 0.75:
            s, v = 4, a // 1_000_000
        elif r < 0.83:
            s, v = 2, a // 100_000_000
        elif r < 0.88:
            s, v = 0, a // 10_000_000_000
        elif r < 0.95:
            s, v = 9, a // 100 * 10
        else:
            s, v = 10, a
        if v <= 0:
            v = 10 if s == 9 else 1
        if s:
            q, v = divmod(v, P[s])
            amounts[k] = "%d.%0*d" % (q, s, v)
        else:
            amounts[k] = str(v)
        r = rand()
        sides[k] = "buy" if r < 0.545 else "sell" if r < 0.991 else "auction" if r < 0.997 else "block"
        if r * 1000.0 % 1.0 < broken_rate:
            broken[k] = 1

    # 4. impossible timestamps at deterministic positions
    bad = int(bad_times or 0)
    bad_pos = []
    if bad and count > 2:
        rng2 = random.Random("%s/bad_times" % (seed,))
        bad_pos = sorted(rng2.sample(range(1, count - 1), min(bad, count - 2)))
        now_ = now_ms() if now is None else int(now)
        for j, pos in enumerate(bad_pos):
            if j % 2 == 0:      # somewhere in 2013
                ts[pos] = 1356998400000 + rng2.randrange(365 * 86_400_000)
            else:               # ~3 days in the future
                ts[pos] = now_ + 3 * 86_400_000 + rng2.randrange(3_600_000)

    info = {"seed": seed, "start": iso_ms(start_ms), "span_seconds": span_ms / 1000,
            "bad_times": len(bad_pos), "forced_bursts": len(forced),
            "largest_burst": max(sizes) if sizes else 0}
    return Dataset(symbol, "generated", tids, ts, prices, amounts, sides, broken,
                   ints_as_strings=bool(ints_as_strings), info=info)


def parse_generate_spec(spec):
    """SYMBOL:COUNT:SEED[:START_ISO[:SPAN_SECONDS]] -> dict of generate() args.
    START may contain colons itself (ISO time); it may also be epoch ms."""
    parts = spec.split(":", 3)
    if len(parts) < 3:
        raise ValueError("expected SYMBOL:COUNT:SEED[:START_ISO[:SPAN_SECONDS]], got %r" % spec)
    sym, count, seed = parts[0], int(parts[1]), int(parts[2])
    if not sym.isalnum():
        raise ValueError("bad symbol %r" % sym)
    out = {"symbol": sym.upper(), "count": count, "seed": seed}
    if len(parts) == 4 and parts[3]:
        rest = parts[3]
        try:
            out["start_ms"] = parse_instant(rest)
        except ValueError:
            head, _, span = rest.rpartition(":")
            out["start_ms"] = parse_instant(head)
            out["span_s"] = float(span)
    return out
