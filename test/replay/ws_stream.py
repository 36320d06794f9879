"""ws_stream.py -- what both websocket APIs share: the send loops.

A Stream is created per accepted connection with the namespace's ws config
at that moment.  The protocol subclasses (ws_v2.V2Stream, ws_new.NewStream)
parse client frames (on_text) and turn events into texts (emit, replay_one);
this class runs them:

  generated: events are produced in batches of <= BATCH; with rate > 0 event
    i is due at t0 + i/rate (the loop sleeps until the next one is due), with
    rate 0 as fast as the client reads (one transport write per batch, then
    back-pressure via drain and a yield to the event loop).  After `count`
    events only heartbeats (v2) or nothing but protocol pings (new API);
    close_at_end closes instead.  v2 also gets {"type":"heartbeat"} every 5 s
    from a separate task, from the first subscribe on.
  recorded: the session's frames in order; with speed > 0 frame k is due at
    t0 + offset_k/speed.  Afterwards heartbeats every 5 s (v2) unless
    close_at_end.  With rest_follows (ws_config.py) each withheld live
    trade is published into REST when its frame is due, right before the
    frame is sent (or skipped, for a symbol this client did not subscribe).

Send loops stop as soon as the connection is dropped, stalled or closed.
"""

import asyncio
import logging
import time

import ws_gen
import ws_session

log = logging.getLogger("replay")
BATCH = 256
HEARTBEAT_S = 5.0


class Stream:
    api = None
    json_heartbeats = False

    def __init__(self, conn, ctx, cfg, row, query):
        self.conn = conn
        self.ctx = ctx                      # .registry, .token, .fixtures_dir, .withheld
        self.cfg = cfg
        self.row = row
        self.query = query
        self.generated = cfg["mode"] == "generated"
        self.gen = ws_gen.Gen(cfg["seed"], cfg["trade_ratio"]) if self.generated else None
        self.sink = ws_gen.RestSink(ctx.registry, ctx.token)
        self.session = None if self.generated else ws_session.load(ctx.fixtures_dir, cfg["session"])
        self.tasks = []
        self.started = False
        self.events = 0

    def ns(self):
        return self.ctx.registry.get(self.ctx.token)

    # ---- lifecycle -----------------------------------------------------------------

    def start(self):
        if self.started:
            return
        self.started = True
        main = self._generated() if self.generated else self._recorded()
        self.tasks.append(asyncio.ensure_future(self._guard(main)))
        if self.generated and self.json_heartbeats:
            self.tasks.append(asyncio.ensure_future(self._guard(self._heartbeats())))

    async def stop(self):
        for t in self.tasks:
            t.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []

    async def _guard(self, coro):
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except (ConnectionError, RuntimeError) as e:
            log.info("ws conn %d: send loop ended: %s", self.row.conn_no, e)
        except Exception:
            log.exception("ws conn %d: send loop failed", self.row.conn_no)

    async def _heartbeats(self):
        conn = self.conn
        while conn.alive:
            await asyncio.sleep(HEARTBEAT_S)
            if not self.heartbeat():
                return
            await conn.drain()

    def heartbeat(self):
        """Send one JSON heartbeat (v2); -> False when the connection is done."""
        return self.conn.send('{"type":"heartbeat","timestamp":%d}' % int(time.time() * 1000))

    async def _end(self):
        conn = self.conn
        await conn.drain()
        self.row.t_stream_end = time.time()
        if self.cfg["close_at_end"]:
            await conn.close_normal()
        elif self.json_heartbeats and not self.generated:
            await self._heartbeats()

    # ---- generated -------------------------------------------------------------------

    async def _generated(self):
        conn = self.conn
        loop = asyncio.get_running_loop()
        count = self.cfg["count"]
        rate = float(self.cfg["rate"])
        t0 = loop.time()
        self.row.t_stream_start = time.time()
        while self.events < count and conn.alive:
            if not self.gen.syms:
                await asyncio.sleep(0.05)
                t0 = loop.time() - (self.events / rate if rate else 0)
                continue
            if rate > 0:
                due = min(count, int((loop.time() - t0) * rate) + 1)
                n = due - self.events
                if n <= 0:
                    await conn.drain()
                    await asyncio.sleep(max(0.0005, t0 + self.events / rate - loop.time()))
                    continue
                n = min(n, BATCH)
            else:
                n = min(BATCH, count - self.events)
            self.sink.refresh()
            if self.emit(n) < n:
                break
            await conn.drain()
            if rate <= 0:
                await asyncio.sleep(0)
        if conn.alive:
            await self._end()

    def emit(self, n):
        """Send up to n generated events; -> how many were sent."""
        raise NotImplementedError

    # ---- recorded ---------------------------------------------------------------------

    async def _recorded(self):
        conn = self.conn
        loop = asyncio.get_running_loop()
        speed = float(self.cfg["speed"])
        withheld = self.ctx.withheld
        items = ws_session.prepare(self.session, self.ns(), withheld)
        self.prepare_replay(items)
        t0 = loop.time()
        self.row.t_stream_start = time.time()
        k = 0
        for f, text, trades in items:
            if speed > 0:
                delay = t0 + f.t / speed - loop.time()
                if delay > 0.0005:
                    await conn.drain()
                    await asyncio.sleep(delay)
            if not conn.alive:
                return
            if withheld is not None and f.kind == "trade":
                ns = self.ns()
                for tid, _ in trades:
                    withheld.publish(ns, f.sym.upper(), tid)
            if self.replay_one(f, text, trades):
                k += 1
                if k % BATCH == 0:
                    await conn.drain()
                    await asyncio.sleep(0)
            elif not conn.alive:
                return
        if conn.alive:
            await self._end()

    def prepare_replay(self, items):
        pass

    def replay_one(self, frame, text, trades):
        """Send what frame becomes on this API (if subscribed); -> True if sent."""
        raise NotImplementedError
