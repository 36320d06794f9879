"""ws_config.py -- per-namespace websocket config, ws faults, connection log.

A namespace's ws config is set by POST /_admin/t/<token>/ws (admin API in
ws.py) and applies to connections opened afterwards.  Setting it resets the
namespace's ws connection numbering, fault counters, connection log and
sent-trade log (connections still open keep their old config and keep
writing to the old logs).  It does not touch the namespace's REST datasets
(except for rest_follows, below), and admin /config (which rebuilds the
REST side) does not touch it.

Config keys (defaults in DEFAULTS):
  mode          "recorded" | "generated"
  session       recorded session name, e.g. "2021-04-17" (fixture
                v2_marketdata_l2_session_<session>.jsonl)
  speed         recorded pacing: original gaps / speed; 0 = as fast as possible
  rate          generated events per second; 0 = as fast as possible
  count         generated events per connection (then heartbeats only)
  seed          generator seed (book, mix, sizes)
  trade_ratio   fraction of generated events that are trades
  close_at_end  close normally (close frame) after the last frame / event
  rest_follows  true | false (default false); recorded mode only (400 with
                generated, whose trades always reach REST as they are sent).
                true: REST only knows the trades already published, as on
                the real exchange.  When the config is set, the session's
                live `trade` messages (not the trades of its l2 snapshots)
                are taken out of the namespace's REST datasets (its own
                copy-on-write copies; the admin response says how many per
                symbol, "rest_withheld"), and each is put back, with the
                same tid, timestamp, price, amount and side as the ws
                message, at the moment a connection's replay reaches its
                frame: right before that frame is sent, in the same event
                loop step, so a client that receives the trade finds it in
                /v1/trades and /truth.  The replay clock is per connection
                and runs for every symbol of the session: a withheld trade
                is published when the first connection's replay reaches it,
                whether or not that client subscribed to its symbol (the
                exchange trades anyway); later connections find it already
                in REST.  With --shift-recorded-to-now the ws timestamps are
                the shifted REST ones, as without rest_follows.  Trades
                above a symbol's newest REST trade are appended (O(1)); one
                below it (the fixtures of different sessions interleave,
                e.g. LTCUSD of 2021-04-05 under 2021-04-17's) is inserted in
                tid order.  Withheld trades go back only into the namespace
                they were taken from (an admin /config that rebuilds it has
                all recorded trades anyway).  Setting the ws config again
                first puts back whatever a previous rest_follows config
                still withholds, so rest_follows false restores full REST.
  faults        list of ws fault specs (below)

Faults.  Connections are numbered per namespace since the config was set:
`conn_no` counts every upgrade attempt (rejected ones too), `accepted_no`
only accepted ones; a fault's "connection":N means accepted connection N
(default 1), "every":true means every accepted connection.  Messages are
numbered per connection from 1 (everything the server sends: snapshots,
acks, heartbeats, candles, events; injected malformed and invalid-UTF-8
frames do not count).  Injected trades name the connection's first
subscribed symbol (BTCUSD before any subscribe).
  {"kind":"drop","after":K}      after message K the TCP connection is closed
                                 without a close frame (what was written is
                                 flushed, then FIN); K=0: right after accept
  {"kind":"stall","after":K}     after message K nothing more is sent (no
                                 heartbeats, no protocol pings); the socket
                                 stays open until the client closes it
  {"kind":"malformed","at":[K,..]} before message K an extra malformed frame is
                                 sent; kinds cycle by position in the list:
                                 truncated JSON, "not json at all", a trade
                                 with "price":{"x":1} (new API "p"), a trade
                                 without "symbol" (new API "s")
  {"kind":"reject_connect","times":N} the first N upgrade attempts get HTTP 503
  {"kind":"gap","at":K}          new API only: the first depth diff sent as
                                 message >= K skips ahead (U > previous u);
                                 "at" may be a list
  {"kind":"binary_invalid_utf8","at":[K,..],"opcode":"binary"}
                                 before message K an extra frame whose payload
                                 is a trade (v2 or new API shape) with invalid
                                 UTF-8 in its symbol; variants cycle by
                                 position: FF FE, overlong C0 AF, surrogate
                                 ED A0 80, truncated E2 82.  "opcode" "binary"
                                 (default) or "text": a text frame that is not
                                 UTF-8 breaks RFC 6455, which libwebsockets'
                                 client does not check by default
  {"kind":"oversize","after":K,"bytes":N,"fragment":F}
                                 after message K one text message of N bytes
                                 (1 <= N <= 2^40) sent as fragments of F
                                 bytes (default 65536; F >= N: one frame),
                                 generated while sending, never held in memory:
                                 {"type":"trade","symbol":S,"pad":"xxx..."}
                                 (new API: {"E":1600000000000000000,"s":s,
                                 "pad":"xxx..."}), or its first N bytes when
                                 N is too small for any padding.  Stops as soon as the client closes;
                                 from its start nothing else is sent, not
                                 even protocol pings (as stall)
  {"kind":"close","after":K,"code":C,"reason":"..."}
                                 after message K a close frame with status
                                 code C (0..65535, default 1000; invalid codes
                                 are sent as given, to test clients) and the
                                 reason (UTF-8, at most 123 bytes, default ""),
                                 then the usual close handshake
drop, stall, oversize and close end the connection's stream: if several
apply to one connection, the one with the smallest "after" wins (the first
listed on a tie).

Connection log (ws/log) fields: conn_no, accepted_no (empty if rejected),
api (v2|new), mode, t_open/t_close (epoch s), path, query, subscribe (the
first subscribe frame, verbatim), client_frames, messages_sent, trades_sent
(live trade messages), first/last_trade_tid (of those), snapshot_trades (v2
snapshot "trades" entries), events_sent (generated events, or recorded
frames replayed), malformed_sent, gaps_sent, t_stream_start/t_stream_end
(epoch s: first subscribe .. last event written; events_sent / (end -
start) is the server's send rate), bytes_sent, close_reason (ws.py),
invalid_utf8_sent (binary_invalid_utf8 frames), oversize_bytes_sent (payload
bytes of the oversize message handed to the socket), close_code_sent (the
close fault's code; empty otherwise).
Sent log (ws/sent): one row per trade sent: conn_no, seq (its message
number), tid, symbol, send_time_ms, send_time_us, kind (live|snapshot).
"""

import collections
import json

MODES = ("recorded", "generated")
DEFAULTS = {"mode": "recorded", "session": "2021-04-17", "speed": 0, "rate": 1000,
            "count": 10000, "seed": 1, "trade_ratio": 0.5, "close_at_end": False,
            "rest_follows": False}
FAULT_KINDS = ("drop", "stall", "malformed", "reject_connect", "gap", "binary_invalid_utf8",
               "oversize", "close")
_FAULT_KEYS = {"drop": {"after"}, "stall": {"after"}, "malformed": {"at"},
               "reject_connect": {"times"}, "gap": {"at"}, "binary_invalid_utf8": {"at", "opcode"},
               "oversize": {"after", "bytes", "fragment"}, "close": {"after", "code", "reason"}}
STOP_KINDS = ("drop", "stall", "oversize", "close")
OVERSIZE_MAX = 1 << 40
OVERSIZE_FRAGMENT = 65536
CLOSE_REASON_MAX = 123          # a control frame's payload is at most 125 bytes
_CONN_KEYS = {"kind", "connection", "every", "note"}
SENT_MAX = 5_000_000

LOG_FIELDS = ("conn_no", "accepted_no", "api", "mode", "t_open", "t_close", "path", "query",
              "subscribe", "client_frames", "messages_sent", "trades_sent", "first_trade_tid",
              "last_trade_tid", "snapshot_trades", "events_sent", "malformed_sent", "gaps_sent",
              "t_stream_start", "t_stream_end", "bytes_sent", "close_reason", "invalid_utf8_sent",
              "oversize_bytes_sent", "close_code_sent")
SENT_FIELDS = ("conn_no", "seq", "tid", "symbol", "send_time_ms", "send_time_us", "kind")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _num(cfg, key, lo, hi):
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise ValueError("ws config: %s must be a number in [%s, %s]" % (key, lo, hi))
    return v


def parse_faults(specs):
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise ValueError("ws faults must be a list")
    out = []
    for f in specs:
        if not isinstance(f, dict):
            raise ValueError("each ws fault must be an object")
        kind = f.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError("unknown ws fault kind %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
        unknown = set(f) - _CONN_KEYS - _FAULT_KEYS[kind]
        if unknown:
            raise ValueError("ws fault %s: unknown keys %s" % (kind, sorted(unknown)))
        f = dict(f)
        if kind in STOP_KINDS:
            f.setdefault("after", 0)
            if not _is_int(f["after"]) or f["after"] < 0:
                raise ValueError("ws fault %s: after must be an integer >= 0" % kind)
        if kind == "oversize":
            if not _is_int(f.get("bytes")) or not 1 <= f["bytes"] <= OVERSIZE_MAX:
                raise ValueError("ws fault oversize: bytes must be an integer in [1, 2^40]")
            f.setdefault("fragment", OVERSIZE_FRAGMENT)
            if not _is_int(f["fragment"]) or f["fragment"] < 1:
                raise ValueError("ws fault oversize: fragment must be an integer >= 1")
        elif kind == "close":
            f.setdefault("code", 1000)
            f.setdefault("reason", "")
            if not _is_int(f["code"]) or not 0 <= f["code"] <= 65535:
                raise ValueError("ws fault close: code must be an integer in [0, 65535]")
            try:
                ok = isinstance(f["reason"], str) and len(f["reason"].encode("utf-8")) <= CLOSE_REASON_MAX
            except UnicodeEncodeError:      # a lone surrogate such as "\ud800"
                ok = False
            if not ok:
                raise ValueError("ws fault close: reason must be a string of at most %d UTF-8 bytes"
                                 % CLOSE_REASON_MAX)
        elif kind in ("malformed", "gap", "binary_invalid_utf8"):
            at = f.get("at")
            at = [at] if _is_int(at) else at
            if not isinstance(at, list) or not at or not all(_is_int(k) and k >= 1 for k in at):
                raise ValueError("ws fault %s: at must be an integer >= 1 or a list of them" % kind)
            f["at"] = at
            if kind == "binary_invalid_utf8":
                f.setdefault("opcode", "binary")
                if f["opcode"] not in ("binary", "text"):
                    raise ValueError("ws fault binary_invalid_utf8: opcode must be binary or text")
        elif kind == "reject_connect":
            f.setdefault("times", 1)
            if not _is_int(f["times"]) or f["times"] < 0:
                raise ValueError("ws fault reject_connect: times must be an integer >= 0")
        if "connection" in f and (not _is_int(f["connection"]) or f["connection"] < 1):
            raise ValueError("ws fault %s: connection must be an integer >= 1" % kind)
        if not isinstance(f.get("every", False), bool):
            raise ValueError("ws fault %s: every must be true or false" % kind)
        out.append(f)
    return out


def parse_config(body, sessions=None):
    """Admin body -> normalized config dict (ValueError when bad)."""
    if not isinstance(body, dict):
        raise ValueError("ws config must be a JSON object")
    unknown = set(body) - set(DEFAULTS) - {"faults"}
    if unknown:
        raise ValueError("ws config: unknown keys %s" % sorted(unknown))
    cfg = dict(DEFAULTS)
    cfg.update(body)
    if cfg["mode"] not in MODES:
        raise ValueError("ws config: mode must be recorded or generated")
    if not isinstance(cfg["session"], str) or (sessions is not None and cfg["session"] not in sessions):
        raise ValueError("ws config: session must be one of %s" % (sorted(sessions or []),))
    _num(cfg, "speed", 0, 1e6)
    _num(cfg, "rate", 0, 1e9)
    _num(cfg, "trade_ratio", 0, 1)
    if not _is_int(cfg["count"]) or not 0 <= cfg["count"] <= 100_000_000:
        raise ValueError("ws config: count must be an integer in [0, 1e8]")
    if not isinstance(cfg["close_at_end"], bool):
        raise ValueError("ws config: close_at_end must be true or false")
    if not isinstance(cfg["rest_follows"], bool):
        raise ValueError("ws config: rest_follows must be true or false")
    if cfg["rest_follows"] and cfg["mode"] != "recorded":
        raise ValueError("ws config: rest_follows applies to mode recorded only "
                         "(generated trades always reach REST as they are sent)")
    if not isinstance(cfg["seed"], (int, str)) or isinstance(cfg["seed"], bool):
        raise ValueError("ws config: seed must be an integer or a string")
    cfg["faults"] = parse_faults(body.get("faults"))
    return cfg


class ConnFaults:
    """The faults that apply to one accepted connection."""

    def __init__(self, faults, accepted_no):
        self.stop_at = None         # message number after which drop/stall/oversize/close happens
        self.stop_kind = None
        self.stop_fault = None      # that fault's spec (bytes, fragment, code, reason)
        self.malformed = {}         # message number -> malformed variant (0..3)
        self.invalid_utf8 = {}      # message number -> (variant 0..3, "binary" | "text")
        self.gaps = []              # sorted message numbers
        for f in faults:
            if not (f.get("every") or f.get("connection", 1) == accepted_no):
                continue
            k = f["kind"]
            if k in STOP_KINDS:
                if self.stop_at is None or f["after"] < self.stop_at:
                    self.stop_at, self.stop_kind, self.stop_fault = f["after"], k, f
            elif k == "malformed":
                for i, at in enumerate(f["at"]):
                    self.malformed.setdefault(at, i % 4)
            elif k == "binary_invalid_utf8":
                for i, at in enumerate(f["at"]):
                    self.invalid_utf8.setdefault(at, (i % 4, f["opcode"]))
            elif k == "gap":
                self.gaps.extend(f["at"])
        self.gaps.sort()


class LogRow:
    """One line of the ws connection log (fields: LOG_FIELDS)."""

    __slots__ = LOG_FIELDS

    def __init__(self, conn_no, api, mode, path, query):
        for k in LOG_FIELDS:
            setattr(self, k, None)
        self.conn_no, self.api, self.mode, self.path, self.query = conn_no, api, mode, path, query
        self.client_frames = self.messages_sent = self.trades_sent = self.snapshot_trades = 0
        self.events_sent = self.malformed_sent = self.gaps_sent = self.bytes_sent = 0
        self.invalid_utf8_sent = self.oversize_bytes_sent = 0
        self.close_reason = "open"

    def values(self):
        return [getattr(self, k) for k in LOG_FIELDS]


class WsNamespace:
    """ws config + counters + logs of one namespace."""

    def __init__(self, token, cfg=None):
        self.token = token
        self.set_config(cfg or parse_config({}))

    def set_config(self, cfg, withheld=None):
        self.cfg = cfg
        self.withheld = withheld    # Withheld (rest_follows) or None
        self.conn_no = 0
        self.accepted = 0
        self.reject_left = sum(f["times"] for f in cfg["faults"] if f["kind"] == "reject_connect")
        self.rows = []
        self.sent = collections.deque(maxlen=SENT_MAX)

    def open_row(self, api, path, query):
        self.conn_no += 1
        row = LogRow(self.conn_no, api, self.cfg["mode"], path, query)
        self.rows.append(row)
        return row

    def summary(self):
        return {"config": self.cfg, "connections": self.conn_no, "accepted": self.accepted,
                "open": sum(1 for r in self.rows if r.close_reason == "open"),
                "reject_left": self.reject_left, "sent_rows": len(self.sent),
                "rest_withheld": self.withheld.pending() if self.withheld else {}}


class Withheld:
    """rest_follows: the live trades taken out of namespace ns's REST data,
    {SYMBOL: {tid: (ts, price, amount, side, broken)}}, until published."""

    def __init__(self, ns, trades):
        self.ns = ns
        self.trades = trades

    def ts(self, sym, tid):
        t = self.trades.get(sym, {}).get(tid) if sym else None
        return t[0] if t else None

    def publish(self, ns, sym, tid):
        """Put trade (sym, tid) back into ns (if ns is the namespace it was
        taken from and it is not there yet); -> True when it was added."""
        if ns is not self.ns:
            return False
        d = self.trades.get(sym)
        t = d.pop(tid, None) if d else None
        if t is None:
            return False
        ds = ns.writable(sym)
        return ds is not None and ds.insert_trade(tid, *t)

    def restore(self, ns):
        """Put back everything still withheld (when the ws config changes)."""
        for sym in list(self.trades):
            for tid in sorted(self.trades[sym]):
                self.publish(ns, sym, tid)

    def pending(self):
        return {s: len(d) for s, d in sorted(self.trades.items()) if d}


def csv_field(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "%.6f" % v
    s = str(v)
    if any(c in s for c in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def log_csv(rows):
    out = [",".join(LOG_FIELDS)]
    out.extend(",".join(csv_field(v) for v in r.values()) for r in rows)
    out.append("")
    return "\n".join(out)


def log_json(rows):
    return json.dumps([dict(zip(LOG_FIELDS, r.values())) for r in rows], separators=(",", ":"))


def sent_rows(sent):
    """Stored (conn_no, seq, tid, symbol, us, kind) -> SENT_FIELDS rows."""
    return ((c, q, t, s, us // 1000, us, k) for c, q, t, s, us, k in sent)


def sent_csv(sent):
    out = [",".join(SENT_FIELDS)]
    out.extend("%d,%d,%d,%s,%d,%d,%s" % r for r in sent_rows(sent))
    out.append("")
    return "\n".join(out)


def sent_json(sent):
    return json.dumps([dict(zip(SENT_FIELDS, r)) for r in sent_rows(sent)], separators=(",", ":"))
