"""ws_new.py -- Gemini's new WebSocket API (/ws, like wss://ws.gemini.com).

Connect with ?snapshot=-1 (full book), N (top N levels) or 0/absent (none).
Client frames {"id":X,"method":M,"params":[..]}, M case-insensitive:
  subscribe / unsubscribe  params = stream names "<sym>@trade", "<sym>@depth",
      "<sym>@depth@100ms" (also accepted, but nothing is sent for them:
      "<sym>@bookTicker", "<sym>@depth5|10|20[@100ms]"); the symbol part is
      trimmed and lower-cased; it must be a symbol the namespace knows (or, in
      recorded mode, one of the session's).  One bad name rejects the frame:
      {"id":X,"status":400,"error":{"code":-1013,"msg":"Invalid stream name: <name>"}}.
      With snapshot != 0 every newly subscribed depth symbol first gets its
      book as one depthUpdate with U == u, then {"id":X,"status":200}.
  list_subscriptions -> result [names]; ping -> ack; time -> result {"serverTime":ms}
  anything else -> {"id":X,"status":400,"error":{"code":-1020,"msg":"Unsupported operation"}}
Depth ids come from one counter per connection: a diff for symbol s has
U = the previous u of s (the snapshot's u first) and u = counter > U, so
"U == previous u" chains per symbol while ids are not per-symbol sequences
(as observed on Gemini).  The gap fault makes one diff start above it.
Diffs are sent per event (no 100 ms / 1 s batching).  No JSON heartbeats;
aiohttp sends protocol pings every 20 s.

generated: trades {"E":send ns,"s","t":tid,"p","q","m":taker sold} (appended
  to REST as sent) and one-level depth diffs of the synthetic book.
recorded: the v2 session converted: trade frames -> @trade frames with
  t = event_id, E = timestamp * 1e6; l2 frames -> depth diffs (E = the frame's
  recorded receive time); snapshots come from books tracked through the
  session (the session's own snapshot frames and heartbeats are not sent).
"""

import decimal
import json
import re
import time

import ws_gen
import ws_stream
import ws_wire
from ws_wire import NEW_DEPTH_ONE_ASK, NEW_DEPTH_ONE_BID, NEW_TRADE

STREAM_RE = re.compile(r"^[a-z0-9]+@(trade|depth|depth@100ms|bookTicker|depth(5|10|20)(@100ms)?)$")
ID_BASE = 1764559650000000
GAP_SKIP = 7


def parse_snapshot(q):
    try:
        return int(q.get("snapshot", "0"))
    except ValueError:
        return 0


class NewStream(ws_stream.Stream):
    api = "new"

    def __init__(self, *a):
        super().__init__(*a)
        self.snapshot = parse_snapshot(self.query)
        self.streams = {}           # name -> None, in subscription order
        self.trade_syms = set()     # lower case
        self.depth_syms = set()
        self.counter = ID_BASE
        self.last_u = {}            # lower-case symbol -> last u sent
        self.books = None           # recorded: SYMBOL -> ws_wire.Book
        self.symgen = {}            # generated: lower-case symbol -> ws_gen.SymGen
        if self.session is not None:
            self._init_books()

    # ---- client frames ---------------------------------------------------------------

    async def on_text(self, text):
        self.row.client_frames += 1
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            self._reply(ws_wire.new_error(None, 400, -1000, "Invalid JSON"))
            return
        rid = obj.get("id")
        method = obj.get("method")
        method = method.lower() if isinstance(method, str) else None
        params = obj.get("params")
        if method in ("subscribe", "unsubscribe"):
            if method == "subscribe" and self.row.subscribe is None:
                self.row.subscribe = text
            if not isinstance(params, list) or not params:
                self._reply(ws_wire.new_error(rid, 400, -1013, "Invalid stream name: %s" % (params,)))
                return
            names = []
            for p in params:
                name = self._valid(p)
                if name is None:
                    self._reply(ws_wire.new_error(rid, 400, -1013, "Invalid stream name: %s" % (p,)))
                    return
                names.append(name)
            if method == "subscribe":
                self._subscribe(names)
            else:
                self._unsubscribe(names)
            self.conn.send(ws_wire.new_ack(rid))
            await self.conn.drain()
            if method == "subscribe":
                self.start()
        elif method == "list_subscriptions":
            self._reply(ws_wire.new_ack(rid, list(self.streams), True))
        elif method == "ping":
            self._reply(ws_wire.new_ack(rid))
        elif method == "time":
            self._reply(ws_wire.new_ack(rid, {"serverTime": int(time.time() * 1000)}, True))
        else:
            self._reply(ws_wire.new_error(rid, 400, -1020, "Unsupported operation"))

    def _reply(self, text):
        self.conn.send(text)
        self.conn.flush()

    def _valid(self, p):
        if not isinstance(p, str):
            return None
        sym, at, rest = p.strip().partition("@")
        name = sym.strip().lower() + at + rest
        if not STREAM_RE.match(name):
            return None
        s = sym.strip().upper()
        ns = self.ns()
        if not (ns.knows(s) or s in ns.datasets or (self.session is not None and s in self.session.symbols)):
            return None
        return name

    def _subscribe(self, names):
        for name in names:
            if name in self.streams:
                continue
            self.streams[name] = None
            sym, _, kind = name.partition("@")
            if kind == "trade":
                self.trade_syms.add(sym)
                if self.generated:
                    self._symgen(sym)
            elif kind in ("depth", "depth@100ms"):
                if sym in self.depth_syms:
                    continue
                self.depth_syms.add(sym)
                if self.generated:
                    self._symgen(sym)
                if self.snapshot != 0:
                    self._send_snapshot(sym)
        if self.generated:
            self._sync_gen()
        if self.streams:
            self.conn.mal_sym = next(iter(self.streams)).partition("@")[0].upper()

    def _unsubscribe(self, names):
        for name in names:
            if name in self.streams:
                del self.streams[name]
                sym, _, kind = name.partition("@")
                if kind == "trade":
                    self.trade_syms.discard(sym)
                elif not any(n.startswith(sym + "@depth") for n in self.streams):
                    self.depth_syms.discard(sym)
        if self.generated:
            self._sync_gen()

    def _symgen(self, sym):
        st = self.symgen.get(sym)
        if st is None:
            self.sink.prime(sym)
            st = self.symgen[sym] = ws_gen.SymGen(sym, ws_gen.last_price(self.ns(), sym),
                                                  self.gen.rng, self.gen.amounts)
        return st

    def _sync_gen(self):
        active = []
        for sym, st in self.symgen.items():
            st.want_trade = sym in self.trade_syms
            st.want_depth = sym in self.depth_syms
            if st.want_trade or st.want_depth:
                active.append(st)
        self.gen.syms = active

    def _send_snapshot(self, sym):
        if self.generated:
            bids, asks = self.symgen[sym].top(self.snapshot)
        else:
            book = self.books.get(sym.upper())
            bids, asks = book.top(self.snapshot) if book is not None else ([], [])
        u = self.counter
        self.last_u[sym] = u
        self.conn.send(ws_wire.new_depth(time.time_ns(), sym, u, u, bids, asks))

    def _ids(self, sym, k):
        """-> (U, u) of the next diff of sym with k changes (gap fault aware)."""
        U = self.last_u.get(sym, self.counter)
        if self.conn.want_gap():
            U = self.counter + GAP_SKIP
        self.counter = max(self.counter, U) + k
        self.last_u[sym] = self.counter
        return U, self.counter

    # ---- generated ---------------------------------------------------------------------------

    def emit(self, n):
        gen, conn, sink = self.gen, self.conn, self.sink
        send, event = conn.send, gen.event
        sent = 0
        for _ in range(n):
            st, is_trade, flag, tick, q, gap = event()
            if is_trade:
                sym = st.sym
                tid = sink.next_tid(sym, gap)
                t_ns = time.time_ns()
                p = st.pt(tick)
                if not send(NEW_TRADE % (t_ns, st.low, tid, p, q, "true" if flag == "sell" else "false")):
                    break
                sink.trade(sym, tid, t_ns // 1_000_000, p, q, flag)
                conn.trade(tid, sym, t_ns // 1000)
            else:
                U, u = self._ids(st.low, 1 + (tick & 3))
                if not send((NEW_DEPTH_ONE_BID if flag else NEW_DEPTH_ONE_ASK) % (
                        time.time_ns(), st.low, U, u, st.pt(tick), q)):
                    break
            sent += 1
            self.events += 1
        self.row.events_sent = self.events
        return sent

    # ---- recorded --------------------------------------------------------------------------

    def _init_books(self):
        """Books of the session's symbols from their snapshot frames (the
        replay then applies every l2 frame, subscribed or not)."""
        self.books = {}
        self._consumed = set()
        for f in self.session.frames:
            if f.kind == "snapshot" and f.sym not in self.books:
                b = self.books[f.sym] = ws_wire.Book()
                for side, p, q in f.obj["changes"]:
                    b.set_text(side, p, q)
                self._consumed.add(id(f))

    def replay_one(self, f, text, trades):
        sym = f.sym
        if f.kind == "trade":
            low = sym.lower()
            if low not in self.trade_syms:
                return False
            o = f.obj
            tid, ts = trades[0]
            if not self.conn.send(NEW_TRADE % (ts * 1_000_000, low, tid, o["price"], o["quantity"],
                                               "true" if o["side"] == "sell" else "false")):
                return False
            self.conn.trade(tid, sym, int(time.time() * 1e6))
        elif f.kind in ("l2", "snapshot"):
            book = self.books.get(sym)
            if f.kind == "snapshot":
                if id(f) in self._consumed:
                    return False
                book = self.books[sym] = ws_wire.Book()
            elif book is None:
                book = self.books[sym] = ws_wire.Book()
            ch = f.obj["changes"]
            for side, p, q in ch:
                book.set(side == "buy", decimal.Decimal(p), p, q)
            low = sym.lower()
            if f.kind == "snapshot" or low not in self.depth_syms:
                return False
            bids = [(p, q) for side, p, q in ch if side == "buy"]
            asks = [(p, q) for side, p, q in ch if side != "buy"]
            U, u = self._ids(low, max(1, len(ch)))
            E = int((self.session.t0 + f.t) * 1e9)
            if not self.conn.send(ws_wire.new_depth(E, low, U, u, bids, asks)):
                return False
        else:
            return False
        self.events += 1
        self.row.events_sent = self.events
        return True
