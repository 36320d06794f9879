"""ws_conn.py -- one server-side websocket connection: framing, counting, faults.

Conn.send(text) appends one text frame to a write buffer (header built
here; no per-message coroutine), numbers it, and applies the connection's
faults exactly at message boundaries: a malformed or invalid-UTF-8 frame
before message K, drop/stall/oversize/close after message K.  oversize and
close need to await, so they run as the connection's own task (self.task),
which finish() ends when the connection does.  flush() writes the buffer with one
transport.write; drain() flushes and waits while the transport is paused
(back-pressure from a slow client).  Frames never interleave with aiohttp's
own control frames because both write whole frames from the event loop
thread.  Every frame is an unmasked final text frame, uncompressed (the
server never negotiates permessage-deflate, like Gemini).

Trades sent are recorded with trade(): the connection's log row (first/last
tid, counts) and the namespace's sent-trade log (conn_no, message seq, tid,
symbol, send time in us, kind live|snapshot).
"""

import asyncio
import logging
import time

import ws_wire

log = logging.getLogger("replay")
OVERSIZE_WRITE = 65536          # payload bytes per transport write of the oversize message


class Conn:
    def __init__(self, ws, row, sent, faults, api):
        self.ws = ws
        self.row = row
        self.sent = sent
        self.api = api
        w = ws._writer
        self.tr = w.transport
        self.proto = w.protocol
        self.buf = []
        self.msgs = 0
        self.state = None                 # None | "drop" | "stall" | "oversize" | "closed"
        self.stop_at = faults.stop_at
        self.stop_kind = faults.stop_kind
        self.stop_fault = faults.stop_fault
        self.malformed = faults.malformed
        self.invalid_utf8 = faults.invalid_utf8
        self.task = None                  # oversize / close fault in progress
        self.gaps = list(faults.gaps)
        self.mal_sym = "BTCUSD"
        self.t_last = time.monotonic()
        try:
            self.tr.set_write_buffer_limits(high=1 << 20)
        except (AttributeError, NotImplementedError, RuntimeError):
            pass
        if self.stop_at == 0:
            self._stop()

    @property
    def alive(self):
        if self.state is None and self.tr.is_closing():
            self.state = "closed"
        return self.state is None

    def send(self, text):
        """Queue one message; -> False if nothing can be sent any more."""
        if self.state is not None:
            return False
        n = self.msgs + 1
        if self.malformed and n in self.malformed:
            self._raw(ws_wire.malformed(self.api, self.malformed.pop(n), self.mal_sym))
            self.row.malformed_sent += 1
        if self.invalid_utf8 and n in self.invalid_utf8:
            variant, opcode = self.invalid_utf8.pop(n)
            b = ws_wire.invalid_utf8(self.api, variant, self.mal_sym)
            self.buf.append(ws_wire.frame_header(len(b), ws_wire.OP_BINARY if opcode == "binary" else ws_wire.OP_TEXT))
            self.buf.append(b)
            self.row.invalid_utf8_sent += 1
        self._raw(text)
        self.msgs = n
        self.row.messages_sent = n
        if n == self.stop_at:
            self._stop()
        return True

    def _raw(self, text):
        b = text.encode()
        self.buf.append(ws_wire.text_frame_header(len(b)))
        self.buf.append(b)

    def trade(self, tid, sym, us, kind="live"):
        row = self.row
        if kind == "live":
            row.trades_sent += 1
            if row.first_trade_tid is None:
                row.first_trade_tid = tid
            row.last_trade_tid = tid
        else:
            row.snapshot_trades += 1
        self.sent.append((row.conn_no, self.msgs, tid, sym, us, kind))

    def want_gap(self):
        """True when the next depth diff must skip ahead (gap fault)."""
        g = self.gaps
        if g and g[0] <= self.msgs + 1:
            while g and g[0] <= self.msgs + 1:
                g.pop(0)
            self.row.gaps_sent += 1
            return True
        return False

    def flush(self):
        if self.buf:
            data = b"".join(self.buf)
            self.buf.clear()
            if not self.tr.is_closing():
                self.tr.write(data)
                self.row.bytes_sent += len(data)
                self.t_last = time.monotonic()

    async def drain(self):
        self.flush()
        if self.state is None:
            try:
                await self.proto._drain_helper()
            except (ConnectionError, RuntimeError):
                self.state = "closed"

    def _stop(self):
        self.flush()
        self.state = self.stop_kind
        self.row.close_reason = self.stop_kind
        f = self.stop_fault
        if self.stop_kind == "drop":
            self.tr.close()           # flushes what was written, then FIN: no close frame
        elif self.stop_kind == "stall":
            # stall: silence everything, including aiohttp's protocol pings
            self.ws._heartbeat = None
            self.ws._cancel_heartbeat()
        elif self.stop_kind == "oversize":
            # no protocol pings either: one could land inside a frame being
            # written in several pieces.  (A client's close frame still gets
            # aiohttp's reply at once, but that client is leaving anyway.)
            self.ws._heartbeat = None
            self.ws._cancel_heartbeat()
            self.task = asyncio.ensure_future(self._oversize(f["bytes"], f["fragment"]))
        else:
            self.state = "closed"
            self.row.close_code_sent = f["code"]
            self.task = asyncio.ensure_future(self._close_fault(f["code"], f["reason"].encode()))

    async def _oversize(self, total, fragment):
        """One text message of total bytes in fragments, made while sending;
        ends early when the client goes away."""
        body = ws_wire.OversizeBody(self.api, self.mal_sym, total, OVERSIZE_WRITE)
        tr, row = self.tr, self.row
        sent = 0
        try:
            while sent < total:
                k = min(fragment, total - sent)
                hdr = ws_wire.frame_header(k, ws_wire.OP_TEXT if sent == 0 else ws_wire.OP_CONT,
                                           sent + k == total)
                end = sent + k
                if tr.is_closing():
                    break
                tr.write(hdr)
                row.bytes_sent += len(hdr)
                while sent < end:
                    if tr.is_closing():
                        return
                    m = min(OVERSIZE_WRITE, end - sent)
                    tr.write(body.chunk(sent, m))
                    sent += m
                    row.oversize_bytes_sent = sent
                    row.bytes_sent += m
                    # waits while the client is slower (write buffer above its limit);
                    # the sleep lets the reader see a close frame or EOF meanwhile
                    await self.proto._drain_helper()
                    await asyncio.sleep(0)
        except (ConnectionError, RuntimeError) as e:
            log.info("ws conn %d: oversize message ended after %d bytes: %s", row.conn_no, sent, e)
        self.t_last = time.monotonic()

    async def _close_fault(self, code, reason):
        try:
            await self.ws.close(code=code, message=reason)
        except (ConnectionError, RuntimeError, asyncio.TimeoutError) as e:
            log.info("ws conn %d: close fault: %s", self.row.conn_no, e)

    async def finish(self):
        """The connection ended: let a close handshake in progress complete
        (bounded), stop an oversize message."""
        t = self.task
        if t is None:
            return
        if not t.done() and self.stop_kind == "close":
            await asyncio.wait({t}, timeout=3.0)
        if not t.done():
            t.cancel()
        await asyncio.gather(t, return_exceptions=True)

    async def close_normal(self):
        """Close with a close frame (close_at_end)."""
        self.flush()
        if self.state is None:
            self.state = "closed"
            self.row.close_reason = "normal"
            await self.ws.close()
