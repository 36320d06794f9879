"""ws_v2.py -- Gemini Market Data v2 (/v2/marketdata) on the replay server.

Client frames: {"type":"subscribe"|"unsubscribe","subscriptions":[{"name":N,
"symbols":[..]}]} with N = l2 or a candles channel (candles_1m 5m 15m 30m
1h 6h 1d; CCXT's 1hr/6hr/1day spellings too); symbols case-insensitive.
There is no ack.  Not JSON -> {"result":"error","reason":"InvalidJson"};
another shape -> "InvalidRequest"; generated mode and no known symbol at all
-> "NoValidTradingPairs".  Streaming starts at the first subscribe.

recorded: the session's frames for the l2-subscribed symbols (heartbeats
  always), byte for byte (trade timestamps follow REST, see ws_session.py),
  in order; symbols subscribed later join the filter (no snapshot of their
  own).  Candle channels get nothing in recorded mode.
generated: per new l2 symbol first a snapshot (50 bids + 50 asks of the
  synthetic book, the symbol's 50 most recent REST trades newest first,
  "auction_events":[]), then the event mix of ws_gen.Gen: trades
  (appended to REST as sent) and one-level l2_updates.  Per candle
  subscription an initial {"type":"candles_1m_updates",...} with the
  dataset's candles, newest first, then the 2 newest candles every 1000
  events.  Unsubscribing l2 removes the symbol from the mix.
"""

import json
import time

import data
import ws_gen
import ws_stream
import ws_wire
from ws_wire import V2_L2_ONE, V2_TRADE

CANDLES = {"candles_1m": "1m", "candles_5m": "5m", "candles_15m": "15m", "candles_30m": "30m",
           "candles_1h": "1hr", "candles_6h": "6hr", "candles_1d": "1day",
           "candles_1hr": "1hr", "candles_6hr": "6hr", "candles_1day": "1day"}
CANDLE_EVERY = 1000


class V2Stream(ws_stream.Stream):
    api = "v2"
    json_heartbeats = True

    def __init__(self, *a):
        super().__init__(*a)
        self.l2 = []                # subscribed l2 symbols (upper case), in order
        self.l2set = set()
        self.candles = {}           # (channel, SYMBOL) -> ws_gen.CandleFeed (generated) or None

    # ---- client frames -----------------------------------------------------------------

    async def on_text(self, text):
        row = self.row
        row.client_frames += 1
        try:
            obj = json.loads(text)
        except ValueError:
            self._reply(ws_wire.v2_error("InvalidJson"))
            return
        typ = obj.get("type") if isinstance(obj, dict) else None
        subs = obj.get("subscriptions") if isinstance(obj, dict) else None
        if typ not in ("subscribe", "unsubscribe") or not isinstance(subs, list) or not all(
                isinstance(s, dict) for s in subs):
            self._reply(ws_wire.v2_error("InvalidRequest"))
            return
        if typ == "subscribe" and row.subscribe is None:
            row.subscribe = text
        wanted = []
        for s in subs:
            name = s.get("name")
            syms = s.get("symbols") or []
            if not isinstance(name, str) or not isinstance(syms, list):
                continue
            for sym in syms:
                if isinstance(sym, str) and sym.strip():
                    wanted.append((name, sym.strip().upper()))
        if typ == "unsubscribe":
            self._unsubscribe(wanted)
            return
        ns = self.ns()
        if self.generated:
            wanted = [(n, s) for n, s in wanted if (n == "l2" or n in CANDLES) and
                      (ns.knows(s) or s in ns.datasets)]
            if not wanted:
                self._reply(ws_wire.v2_error("NoValidTradingPairs"))
                return
        for name, sym in wanted:
            if name == "l2" and sym not in self.l2set:
                self.l2.append(sym)
                self.l2set.add(sym)
                if self.generated:
                    self._snapshot(ns, sym)
            elif name in CANDLES and (name, sym) not in self.candles:
                self.candles[(name, sym)] = None
                if self.generated:
                    feed = ws_gen.CandleFeed(ns, sym, data.FRAMES[CANDLES[name]])
                    self.candles[(name, sym)] = feed
                    self.conn.send(ws_wire.v2_candles(name, sym, feed.parts()))
        if self.l2:
            self.conn.mal_sym = self.l2[0]
        await self.conn.drain()
        self.start()

    def _reply(self, text):
        self.conn.send(text)
        self.conn.flush()

    def _unsubscribe(self, wanted):
        for name, sym in wanted:
            if name == "l2" and sym in self.l2set:
                self.l2set.discard(sym)
                self.l2.remove(sym)
                if self.gen is not None:
                    self.gen.remove(sym)
            self.candles.pop((name, sym), None)

    def _snapshot(self, ns, sym):
        self.sink.prime(sym)
        st = self.gen.add(sym, ws_gen.last_price(ns, sym))
        bids, asks = st.top()
        recent = ws_gen.recent_trades(ns, sym)
        texts = [V2_TRADE % (sym, tid, tid, ts, p, a, side) for tid, ts, p, a, side in recent]
        if self.conn.send(ws_wire.v2_snapshot(sym, bids, asks, texts)):
            us = int(time.time() * 1e6)
            for r in recent:
                self.conn.trade(r[0], sym, us, "snapshot")

    # ---- generated ------------------------------------------------------------------------

    def emit(self, n):
        gen, conn, sink = self.gen, self.conn, self.sink
        send, event = conn.send, gen.event
        sent = 0
        for _ in range(n):
            st, is_trade, flag, tick, q, gap = event()
            if is_trade:
                sym = st.sym
                tid = sink.next_tid(sym, gap)
                t = time.time()
                ms = int(t * 1000)
                p = st.pt(tick)
                if not send(V2_TRADE % (sym, tid, tid, ms, p, q, flag)):
                    break
                sink.trade(sym, tid, ms, p, q, flag)
                conn.trade(tid, sym, int(t * 1e6))
            elif not send(V2_L2_ONE % (st.sym, "buy" if flag else "sell", st.pt(tick), q)):
                break
            sent += 1
            self.events += 1
            if self.candles and self.events % CANDLE_EVERY == 0:
                self._candle_updates()
        self.row.events_sent = self.events
        return sent

    def _candle_updates(self):
        ns = self.ns()
        for (name, sym), feed in self.candles.items():
            if feed is not None:
                feed.update(ns)
                self.conn.send(ws_wire.v2_candles(name, sym, feed.parts(2)))

    # ---- recorded ---------------------------------------------------------------------------

    def replay_one(self, f, text, trades):
        if f.kind != "heartbeat" and f.sym not in self.l2set:
            return False
        if not self.conn.send(text):
            return False
        self.events += 1
        self.row.events_sent = self.events
        if trades:
            us = int(time.time() * 1e6)
            kind = "snapshot" if f.kind == "snapshot" else "live"
            for tid, _ in trades:
                self.conn.trade(tid, f.sym, us, kind)
        return True
