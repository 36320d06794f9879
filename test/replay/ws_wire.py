"""ws_wire.py -- websocket message texts (v2 and new API), frames, order book.

Every message is built as compact JSON text with %-formatting from values
that are already text (prices, sizes), so generating one costs about a
microsecond; the key order follows what Gemini sends.

  v2 (/v2/marketdata):
    {"type":"trade","symbol":S,"event_id":N,"tid":N,"timestamp":ms,"price":"..","quantity":"..","side":"buy"}
    {"type":"l2_updates","symbol":S,"changes":[["buy"|"sell",price,size],...]}   size "0" removes
    snapshot: the same plus "trades":[v2 trades newest first],"auction_events":[]
    {"type":"heartbeat","timestamp":ms}
    {"type":"candles_1m_updates","symbol":S,"changes":[[ms,o,h,l,c,v],...]}   newest first
    {"result":"error","reason":"NoValidTradingPairs"|"InvalidJson"|"InvalidRequest"}
  new API (/ws):
    {"E":ns,"s":"btcusd","t":tid,"p":"..","q":"..","m":true|false}          m=true: taker sold
    {"e":"depthUpdate","E":ns,"s":"btcusd","U":id,"u":id,"b":[[p,q],..],"a":[[p,q],..]}
    {"id":1,"status":200}   {"id":1,"status":200,"result":..}
    {"id":1,"status":400,"error":{"code":-1013,"msg":"Invalid stream name: x"}}
"""

import decimal
import json
import struct

V2_TRADE = ('{"type":"trade","symbol":"%s","event_id":%d,"tid":%d,"timestamp":%d,'
            '"price":"%s","quantity":"%s","side":"%s"}')
V2_L2_ONE = '{"type":"l2_updates","symbol":"%s","changes":[["%s","%s","%s"]]}'
NEW_TRADE = '{"E":%d,"s":"%s","t":%d,"p":"%s","q":"%s","m":%s}'
NEW_DEPTH = '{"e":"depthUpdate","E":%d,"s":"%s","U":%d,"u":%d,"b":%s,"a":%s}'
NEW_DEPTH_ONE_BID = '{"e":"depthUpdate","E":%d,"s":"%s","U":%d,"u":%d,"b":[["%s","%s"]],"a":[]}'
NEW_DEPTH_ONE_ASK = '{"e":"depthUpdate","E":%d,"s":"%s","U":%d,"u":%d,"b":[],"a":[["%s","%s"]]}'


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def v2_trade(sym, tid, ts, price, qty, side):
    return V2_TRADE % (sym, tid, tid, ts, price, qty, side)


def v2_trade_obj(sym, tid, ts, price, qty, side):
    return {"type": "trade", "symbol": sym, "event_id": tid, "tid": tid, "timestamp": ts,
            "price": price, "quantity": qty, "side": side}


def v2_snapshot(sym, bids, asks, trade_texts):
    """bids/asks: [(price, qty)] best first; trade_texts: v2 trade texts newest first."""
    ch = [dumps(["buy", p, q]) for p, q in bids] + [dumps(["sell", p, q]) for p, q in asks]
    return '{"type":"l2_updates","symbol":"%s","changes":[%s],"trades":[%s],"auction_events":[]}' % (
        sym, ",".join(ch), ",".join(trade_texts))


def v2_heartbeat(ms):
    return '{"type":"heartbeat","timestamp":%d}' % ms


def v2_candles(name, sym, parts):
    return '{"type":"%s_updates","symbol":"%s","changes":[%s]}' % (name, sym, ",".join(parts))


def v2_error(reason, message=None):
    d = {"result": "error", "reason": reason}
    if message:
        d["message"] = message
    return dumps(d)


def levels_json(levels):
    return "[" + ",".join('["%s","%s"]' % (p, q) for p, q in levels) + "]"


def new_depth(E, s, U, u, bids, asks):
    return NEW_DEPTH % (E, s, U, u, levels_json(bids), levels_json(asks))


def new_ack(req_id, result=None, has_result=False):
    d = {"id": req_id, "status": 200}
    if has_result:
        d["result"] = result
    return dumps(d)


def new_error(req_id, status, code, msg):
    return dumps({"id": req_id, "status": status, "error": {"code": code, "msg": msg}})


def malformed(api, variant, sym):
    """One of the four malformed frames (variant 0..3)."""
    if api == "v2":
        good = V2_TRADE % (sym, 999999999, 999999999, 1600000000000, "1.00", "1", "buy")
        if variant == 2:
            return good.replace('"price":"1.00"', '"price":{"x":1}')
        if variant == 3:
            return good.replace('"symbol":"%s",' % sym, "")
    else:
        good = NEW_TRADE % (1600000000000000000, sym.lower(), 999999999, "1.00", "1", "false")
        if variant == 2:
            return good.replace('"p":"1.00"', '"p":{"x":1}')
        if variant == 3:
            return good.replace('"s":"%s",' % sym.lower(), "")
    if variant == 0:
        return good[: len(good) // 2]
    return "not json at all"


def invalid_utf8(api, variant, sym):
    """A trade whose symbol is not valid UTF-8 (variant 0..3): FF FE,
    overlong C0 AF, surrogate ED A0 80, truncated E2 82.  -> bytes."""
    if api == "v2":
        good = (V2_TRADE % (sym, 999999999, 999999999, 1600000000000, "1.00", "1", "buy")).encode()
        key, s = b'"symbol":"%s"', sym.encode()
    else:
        good = (NEW_TRADE % (1600000000000000000, sym.lower(), 999999999, "1.00", "1", "false")).encode()
        key, s = b'"s":"%s"', sym.lower().encode()
    bad = (b"\xff\xfe", s + b"\xc0\xaf", s + b"\xed\xa0\x80", s + b"\xe2\x82")[variant]
    return good.replace(key % s, key % bad, 1)


class OversizeBody:
    """The bytes of the oversize fault's message, n bytes long, produced
    piece by piece (chunk) so that n may be far larger than memory:
    head + "x" * (n - len(head) - 2) + '"}', or the first n bytes of
    head + '"}' when n is smaller than that."""

    TAIL = b'"}'

    def __init__(self, api, sym, n, pad_max=65536):
        if api == "v2":
            self.head = b'{"type":"trade","symbol":"%s","pad":"' % sym.encode()
        else:
            self.head = b'{"E":1600000000000000000,"s":"%s","pad":"' % sym.lower().encode()
        self.n = n
        self.small = (self.head + self.TAIL)[:n] if n <= len(self.head) + len(self.TAIL) else None
        self.pad = b"x" * pad_max

    def chunk(self, off, k):
        """Bytes [off, off + k) of the message (k <= pad_max)."""
        if self.small is not None:
            return self.small[off:off + k]
        h, end, tail_at = len(self.head), off + k, self.n - len(self.TAIL)
        out = []
        if off < h:
            out.append(self.head[off:min(end, h)])
        a, b = max(off, h), min(end, tail_at)
        if b > a:
            out.append(self.pad[:b - a])
        if end > tail_at:
            out.append(self.TAIL[max(off, tail_at) - tail_at:end - tail_at])
        return b"".join(out)


_SMALL = [bytes((0x81, n)) for n in range(126)]

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2


def frame_header(n, opcode, fin=True):
    """Header of an unmasked frame (any opcode, final or not) with an n-byte payload."""
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((b0, n))
    if n < 65536:
        return bytes((b0, 126)) + struct.pack(">H", n)
    return bytes((b0, 127)) + struct.pack(">Q", n)


def text_frame_header(n):
    """Header of an unmasked, final text frame with an n-byte payload."""
    if n < 126:
        return _SMALL[n]
    if n < 65536:
        return b"\x81\x7e" + struct.pack(">H", n)
    return b"\x81\x7f" + struct.pack(">Q", n)


def is_zero(q):
    return q.replace("0", "").replace(".", "") == ""


class Book:
    """An order book: {key: (price text, size text)} per side; keys are
    numbers (int ticks or Decimal) so levels sort numerically."""

    __slots__ = ("bids", "asks")

    def __init__(self):
        self.bids = {}
        self.asks = {}

    def set(self, is_bid, key, price, qty):
        d = self.bids if is_bid else self.asks
        if is_zero(qty):
            d.pop(key, None)
        else:
            d[key] = (price, qty)

    def set_text(self, side, price, qty):
        """Apply a v2 change [side, price, qty] (texts)."""
        self.set(side == "buy", decimal.Decimal(price), price, qty)

    def top(self, n=None):
        """-> (bids best first, asks best first) as [(price, qty)]; n<=0/None: all."""
        b = [self.bids[k] for k in sorted(self.bids, reverse=True)]
        a = [self.asks[k] for k in sorted(self.asks)]
        if n and n > 0:
            b, a = b[:n], a[:n]
        return b, a
