"""ws_session.py -- recorded v2 market-data sessions (test/fixtures).

A session is test/fixtures/v2_marketdata_l2_session_<name>.jsonl: one frame
per line, the first being the client's subscribe request (not replayed).
Each frame gets a kind (snapshot = l2_updates with "trades"; l2; trade;
heartbeat; other), its symbol and its time offset from the first server
frame.  Offsets come from the cryptofeed raw capture of the same session
(fixtures/cryptofeed_raw/*: "<epoch s>: <frame>" lines) when one holds exactly
the same frames, else by interpolating between the frames that carry a
timestamp (heartbeats, trades).

Trades and REST: the recorded REST datasets (data.load_fixtures) are built
from these same session files (trade messages and snapshot "trades", tid =
event_id), so every trade a session contains is in the REST data of a
namespace with recorded datasets; missing_in_rest() checks this (the admin
ws response reports it, selftest asserts it).  When REST timestamps differ
(--shift-recorded-to-now), prepare() rewrites the trade timestamps of the
replayed frames to the REST values of the same tid, so both sides agree.

rest_follows (ws_config.py): withhold() takes the session's live trades
(`trade` frames; snapshot trades stay) out of the namespace's REST data when
the ws config is set; prepare() then takes their timestamps from the
withheld rows, and the send loop (ws_stream.py) publishes each back into
REST when the replay reaches it.  missing_in_rest() is checked before
withholding, so the admin response still reports 0 for recorded datasets.
"""

import glob
import json
import os

PREFIX = "v2_marketdata_l2_session_"
_cache = {}


class Frame:
    __slots__ = ("kind", "sym", "text", "t", "obj", "trades")

    def __init__(self, text, obj):
        self.text = text
        self.obj = obj
        typ = obj.get("type")
        self.sym = obj.get("symbol")
        self.t = 0.0
        if typ == "l2_updates":
            self.kind = "snapshot" if "trades" in obj else "l2"
            self.trades = [(t.get("tid", t.get("event_id")), t["timestamp"]) for t in obj.get("trades") or ()]
        elif typ == "trade":
            self.kind = "trade"
            self.trades = [(obj.get("tid", obj.get("event_id")), obj["timestamp"])]
        else:
            self.kind = typ if typ == "heartbeat" else "other"
            self.trades = []


class Session:
    def __init__(self, name, path, subscribe, frames, pacing, t0):
        self.name = name
        self.t0 = t0                # epoch s of the first server frame
        self.path = path
        self.subscribe = subscribe
        self.frames = frames
        self.pacing = pacing
        self.symbols = sorted({f.sym for f in frames if f.sym})

    def trades(self):
        """-> {SYMBOL: {tid: timestamp}} of every trade in the session."""
        out = {}
        for f in self.frames:
            if f.trades:
                d = out.setdefault(f.sym, {})
                for tid, ts in f.trades:
                    d[tid] = ts
        return out

    def summary(self):
        return {"name": self.name, "frames": len(self.frames), "pacing": self.pacing,
                "duration_s": round(self.frames[-1].t, 3) if self.frames else 0,
                "symbols": self.symbols,
                "trades": sum(len(v) for v in self.trades().values())}


def names(fixtures_dir):
    return sorted(os.path.basename(p)[len(PREFIX):-len(".jsonl")]
                  for p in glob.glob(os.path.join(fixtures_dir, PREFIX + "*.jsonl")))


def _raw_times(fixtures_dir, texts):
    """Receive times (epoch s) of texts from a matching cryptofeed capture."""
    for path in sorted(glob.glob(os.path.join(fixtures_dir, "cryptofeed_raw", "*"))):
        times, out = [], []
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    head, sep, frame = line.rstrip("\n").partition(": ")
                    if sep and head.replace(".", "", 1).isdigit():
                        times.append(float(head))
                        out.append(frame)
        except (OSError, UnicodeDecodeError):
            continue
        if out == texts:
            return times, os.path.basename(path)
    return None, None


def _interpolated(frames):
    """Offsets from the frames' own timestamps (heartbeats, trades)."""
    anchors = []
    hi = None
    for i, f in enumerate(frames):
        if f.kind in ("heartbeat", "trade"):
            ts = f.obj["timestamp"] / 1000.0
            hi = ts if hi is None else max(hi, ts)
            anchors.append((i, hi))
    if not anchors:
        return [0.0] * len(frames)
    out = []
    k = 0
    for i in range(len(frames)):
        while k + 1 < len(anchors) and anchors[k + 1][0] <= i:
            k += 1
        i0, t0 = anchors[k]
        if i <= i0:
            out.append(t0)
        elif k + 1 < len(anchors):
            i1, t1 = anchors[k + 1]
            out.append(t0 + (t1 - t0) * (i - i0) / (i1 - i0))
        else:
            out.append(t0)
    return out


def load(fixtures_dir, name):
    key = (fixtures_dir, name)
    s = _cache.get(key)
    if s is not None:
        return s
    path = os.path.join(fixtures_dir, PREFIX + name + ".jsonl")
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
    subscribe, texts = (lines[0], lines[1:]) if lines and '"subscribe"' in lines[0] else (None, lines)
    frames = [Frame(t, json.loads(t)) for t in texts]
    times, raw = _raw_times(fixtures_dir, texts)
    if times is not None:
        pacing = "cryptofeed_raw/" + raw
    else:
        times = _interpolated(frames)
        pacing = "timestamps"
    t0 = times[0] if times else 0.0
    prev = 0.0
    for f, t in zip(frames, times):
        prev = max(prev, t - t0)     # never negative, never backwards
        f.t = prev
    s = Session(name, path, subscribe, frames, pacing, t0)
    _cache[key] = s
    return s


def _rest_ts(ns, sym, tid):
    ds = ns.datasets.get(sym.upper()) if sym else None
    if ds is None:
        return None
    i = ds.index_of(tid)
    return ds.ts[i] if i >= 0 else None


def missing_in_rest(session, ns):
    """-> [(SYMBOL, tid)] of session trades the namespace's REST data lacks."""
    out = []
    for sym, trades in sorted(session.trades().items()):
        for tid in sorted(trades):
            if _rest_ts(ns, sym, tid) is None:
                out.append((sym, tid))
    return out


def live_trades(session):
    """-> {SYMBOL: [tid]} of the session's live `trade` messages."""
    out = {}
    for f in session.frames:
        if f.kind == "trade" and f.sym:
            out.setdefault(f.sym.upper(), []).extend(tid for tid, _ in f.trades)
    return out


def withhold(session, ns):
    """rest_follows: take the session's live trades out of the namespace's
    REST datasets (writable copies); -> {SYMBOL: {tid: (ts, price, amount,
    side, broken)}} of the trades removed (those REST had)."""
    out = {}
    for sym, tids in sorted(live_trades(session).items()):
        if ns.datasets.get(sym) is None:
            continue
        removed = ns.writable(sym).remove_tids(tids)
        if removed:
            out[sym] = removed
    return out


def prepare(session, ns, withheld=None):
    """-> [(frame, text, trades)] for one connection: text and trades'
    timestamps follow the namespace's REST data for the same tid (for a
    trade withheld from REST, ws_config.Withheld, the withheld row's)."""
    out = []
    for f in session.frames:
        if not f.trades:
            out.append((f, f.text, f.trades))
            continue
        new = [(tid, _rest_ts(ns, f.sym, tid)) for tid, _ in f.trades]
        if withheld is not None:
            sym = f.sym.upper() if f.sym else None
            new = [(tid, ts if ts is not None else withheld.ts(sym, tid)) for tid, ts in new]
        if all(n is None or n == old for (_, n), (_, old) in zip(new, f.trades)):
            out.append((f, f.text, f.trades))
            continue
        trades = [(tid, n if n is not None else old) for (tid, n), (_, old) in zip(new, f.trades)]
        obj = dict(f.obj)
        if f.kind == "trade":
            obj["timestamp"] = trades[0][1]
        else:
            obj["trades"] = [dict(t, timestamp=ts) for t, (_, ts) in zip(f.obj["trades"], trades)]
        out.append((f, json.dumps(obj, separators=(",", ":")), trades))
    return out
