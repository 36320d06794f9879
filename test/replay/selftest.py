#!/usr/bin/python3
"""selftest.py -- end-to-end checks of the replay server (server.py).

Starts the server as a subprocess on a free port (--port 0 --port-file),
exercises it over HTTP (urllib; http.client keep-alive for the timing run;
curl for the disconnect fault) and prints one line per failed check and
`selftest: N passed, M failed` last.  Exit status 0 only when all passed.

  /usr/bin/python3 test/replay/selftest.py [-v] [--slow]

--slow adds checks that take ~25 s more (websocket protocol pings every 20 s).

The timing run pages 200,000 generated trades at 500/page and prints pages/s
(client + server) and the server's own time per page; it is reported, not
asserted.

The websocket checks live in selftest_ws.py (aiohttp's ws client): v2
recorded replay (exact frames, pacing, heartbeats after the end, session
trades == REST; with rest_follows live trades withheld from REST until
sent, then equal to the ws message, shifted times too), v2 generated (snapshot, count, candles, every trade in
/truth and pageable, determinism, rate), faults (drop, stall, malformed,
reject_connect, binary_invalid_utf8, oversize up to 200 MB with the
server's peak memory checked, close with code and reason), the new API (snapshot -> ack, trade shape, chained U/u,
gap, requests, recorded conversion), ws/log and ws/sent.  It also prints
the server's max generated send rate for 200,000 events (not asserted).
"""

import csv
import decimal
import glob
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selftest_ws  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
PY = "/usr/bin/python3"
VERBOSE = "-v" in sys.argv

PASSED = 0
FAILED = 0

TRADE_RE = re.compile(r'\{"timestamp":(\d+),"timestampms":(\d+),"tid":(\d+),"price":"([0-9.]+)",'
                      r'"amount":"([0-9.]+)","exchange":"gemini","type":"(buy|sell|auction|block)"'
                      r'(,"broken":(?:true|false))?\}')


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        if VERBOSE:
            print("ok   %s" % name)
    else:
        FAILED += 1
        print("FAIL %s %s" % (name, detail if len(str(detail)) < 600 else str(detail)[:600] + "..."))
    return bool(cond)


# ---------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------

class Server:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="replay-selftest-")
        self.port_file = os.path.join(self.dir, "port")
        self.log_file = os.path.join(self.dir, "server.log")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([PY, SERVER, "--port", "0", "--port-file", self.port_file,
                                      "--log-file", self.log_file] + list(extra))
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: %s" % self.log())
            if time.monotonic() - t0 > 30:
                raise RuntimeError("server did not start")
            time.sleep(0.005)
        self.startup = time.monotonic() - t0
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.base = "http://127.0.0.1:%d" % self.port

    def log(self):
        try:
            with open(self.log_file) as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode


S = None        # the main server


def req(path, method="GET", body=None, base=None):
    """-> (status, headers (lower-case dict), body bytes)."""
    url = (base or S.base) + path
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    r = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get_json(path, **kw):
    st, h, b = req(path, **kw)
    return st, h, json.loads(b) if b else None


def admin(token, what, body):
    st, _, b = req("/_admin/t/%s/%s" % (token, what), "POST", body)
    out = json.loads(b)
    if st != 200:
        raise RuntimeError("admin %s %s -> %d %s" % (token, what, st, out))
    return out


def truth(token, sym, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    st, _, b = req("/_admin/t/%s/truth/%s?format=csv%s" % (token, sym, "&" + qs if qs else ""))
    assert st == 200, (st, b[:200])
    rows = []
    rd = csv.reader(io.StringIO(b.decode()))
    header = next(rd)
    assert header == ["tid", "timestampms", "price", "amount", "side", "broken"], header
    for tid, ts, p, a, s, br in rd:
        rows.append((int(tid), int(ts), p, a, s, br == "true"))
    return rows


def pfx(token):
    return "" if token is None else "/t/%s" % token


def trades(token, sym, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    st, h, b = req("%s/v1/trades/%s%s" % (pfx(token), sym, "?" + qs if qs else ""))
    return st, h, b


def as_rows(body, ints_as_strings=False):
    """Trades page body -> list of (tid, ts, price, amount, side, broken|None)."""
    arr = json.loads(body)
    out = []
    for t in arr:
        out.append((int(t["tid"]), int(t["timestampms"]), t["price"], t["amount"], t["type"],
                    t.get("broken")))
    return out


def page_all(token, sym, include_breaks, limit=500, conn=None):
    """Page with since_tid from 0; -> (rows oldest first, pages, ok)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60)
    out = []
    cursor = 0
    pages = 0
    ok = True
    while True:
        path = "%s/v1/trades/%s?since_tid=%d&limit_trades=%d%s" % (
            pfx(token), sym, cursor, limit, "&include_breaks=true" if include_breaks else "")
        conn.request("GET", path)
        r = conn.getresponse()
        b = r.read()
        pages += 1
        if r.status != 200:
            ok = False
            break
        rows = as_rows(b)
        rows.reverse()
        if rows and (rows[0][0] <= cursor or any(x[0] >= y[0] for x, y in zip(rows, rows[1:]))):
            ok = False
        out.extend(rows)
        if len(rows) < limit:
            break
        cursor = rows[-1][0]
    if own:
        conn.close()
    return out, pages, ok


def curl(url, *args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"] + list(args) + [url],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


# ---------------------------------------------------------------------------
# independent reading of the fixtures (to check the server's loader)
# ---------------------------------------------------------------------------

def fixture_trades():
    by = {}
    for path in glob.glob(os.path.join(FIXTURES, "v2_marketdata_l2_session_*.jsonl")):
        for line in open(path):
            if not line.strip():
                continue
            m = json.loads(line)
            lst = [m] if m.get("type") == "trade" else (m.get("trades") or []) if m.get("type") == "l2_updates" else []
            for t in lst:
                by.setdefault(t["symbol"], {})[t["event_id"]] = (t["timestamp"], t["price"], t["quantity"], t["side"])
    for t in json.load(open(os.path.join(FIXTURES, "rest_v1_trades_btcusdt_2024-03-13_ccxt.json"))):
        by.setdefault("BTCUSDT", {})[int(t["tid"])] = (int(t["timestampms"]), t["price"], t["amount"], t["type"])
    return by


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def t_basics():
    st, h, b = get_json("/_admin/health")
    check("health", st == 200 and b == {"ok": True}, (st, b))

    st, h, syms = get_json("/v1/symbols")
    check("symbols 200 json", st == 200 and h.get("content-type") == "application/json", (st, h))
    check("symbols lower-case, no duplicates", all(s == s.lower() for s in syms) and len(set(syms)) == len(syms))
    fx = json.load(open(os.path.join(FIXTURES, "rest_v1_symbols_2021-06-23.json")))
    check("symbols include fixture list", set(fx) <= set(syms), set(fx) - set(syms))
    check("symbols include recorded + generated", {"btcusdt", "ltcusd", "genusd"} <= set(syms))
    st, _, raw = req("/v1/symbols")
    check("symbols compact", b" " not in raw)

    lines = {json.loads(l)["symbol"]: l.rstrip(b"\n") for l in
             open(os.path.join(FIXTURES, "rest_v1_symbols_details_2021-06-23.jsonl"), "rb") if l.strip()}
    for sym in ("btcusd", "BTCUSD", "BtcUsd"):
        st, h, b = req("/v1/symbols/details/%s" % sym)
        check("details %s byte-exact" % sym, st == 200 and b == lines["BTCUSD"], b)
    exp1e8 = [s for s, l in lines.items() if b"1E-8" in l]
    st, _, b = req("/v1/symbols/details/%s" % exp1e8[0].lower())
    check("details 1E-8 kept", b"1E-8" in b and b == lines[exp1e8[0]], b)
    st, _, b = req("/v1/symbols/details/genusd")
    check("details synthesized", st == 200 and b == b'{"symbol":"GENUSD","base_currency":"GEN","quote_currency":"USD",'
          b'"tick_size":1E-8,"quote_increment":0.01,"min_order_size":"0.00001","status":"open"}', b)
    st, _, b = req("/v1/symbols/details/btcusdt")
    check("details recorded-only symbol", st == 200 and json.loads(b)["quote_currency"] == "USDT", b)
    st, _, b = req("/v1/symbols/details/nosuch")
    check("details unknown 400", st == 400 and json.loads(b)["reason"] == "InvalidSymbol", (st, b))

    for path, method in (("/v1/nosuch", "GET"), ("/", "GET"), ("/v1/trades", "GET"), ("/v1/trades/", "GET"),
                         ("/t/abc/v1/nope", "GET"), ("/v1/symbols", "POST"), ("/v2/candles/btcusd", "GET"),
                         ("/v1/pubticker/btcusd", "GET")):
        st, h, b = req(path, method, b"" if method == "POST" else None)
        check("404 empty %s %s" % (method, path), st == 404 and b == b"", (st, b))


def t_recorded():
    fx = fixture_trades()
    cfg = admin("rec", "config", {})
    check("config recorded counts", all(cfg["symbols"].get(s) == len(d) for s, d in fx.items())
          and len(cfg["symbols"]) == len(fx), (cfg, {s: len(d) for s, d in fx.items()}))
    for sym, d in sorted(fx.items()):
        st, h, b = trades("rec", sym.lower(), since_tid=0, limit_trades=500)
        rows = as_rows(b)
        want = [(tid,) + d[tid] + (None,) for tid in sorted(d, reverse=True)]
        if not check("recorded %s exact" % sym, st == 200 and rows == want, (st, rows[:2], want[:2])):
            break
    st, _, b = trades("rec", "btcusdt")
    check("recorded btcusdt REST shape", b == b'[{"timestamp":1710325796,"timestampms":1710325796526,"tid":2840140831246421,'
          b'"price":"73268.24","amount":"0.00028921","exchange":"gemini","type":"buy"}]', b)
    st, _, b = trades("rec", "LTCUSD", since_tid=0, limit_trades=500)
    check("recorded case-insensitive symbol", st == 200 and len(json.loads(b)) == len(fx["LTCUSD"]))
    st, _, b = trades("rec", "btcgusd")
    check("known symbol without trades -> []", st == 200 and b == b"[]", (st, b))
    t = truth("rec", "LTCUSD")
    check("recorded truth", [r[0] for r in t] == sorted(fx["LTCUSD"]) and t[0][2] == fx["LTCUSD"][t[0][0]][1])


def t_paging():
    cfg = admin("p", "config", {"datasets": {"GENUSD": {"count": 2345, "seed": 7}}, "recorded": False})
    check("config p", cfg == {"ok": True, "symbols": {"GENUSD": 2345}}, cfg)
    T = truth("p", "GENUSD")
    nb = [r for r in T if not r[5]]
    check("truth sorted by tid, has broken", all(a[0] < b[0] for a, b in zip(T, T[1:])) and len(nb) < len(T))

    st, syms_h, syms = get_json("/t/p/v1/symbols")
    check("recorded:false symbols", syms == ["genusd"], syms)

    st, h, b = trades("p", "genusd")
    rows = as_rows(b)
    check("default page: 50 newest non-broken, newest first",
          st == 200 and [r[0] for r in rows] == [r[0] for r in nb[-50:]][::-1], (st, rows[:2]))
    check("content-type application/json", h.get("content-type") == "application/json", h)
    elems = b.decode()[1:-1].replace("},{", "}\n{").split("\n")
    check("key order and compact form", all(TRADE_RE.fullmatch(e) and not e.endswith(',"broken":false}')
                                            and "broken" not in e for e in elems), elems[:2])
    check("timestamp = ms // 1000", all(int(json.loads(e)["timestamp"]) == json.loads(e)["timestampms"] // 1000 for e in elems))

    for lim, want in (("500", 500), ("1", 1), ("49", 49)):
        st, _, b = trades("p", "genusd", limit_trades=lim)
        check("limit_trades=%s" % lim, st == 200 and len(json.loads(b)) == want, (st, len(b)))
    st, h, b = trades("p", "genusd", limit_trades=501)
    check("limit 501 -> 400 exact", st == 400 and b == b'{"result":"error","reason":"InvalidParameter",'
          b'"message":"limit_trades must be at most 500"}' and h.get("content-type") == "application/json", (st, b))
    for bad in ("0", "-1", "abc", "1.5", "", "10x"):
        st, _, b = trades("p", "genusd", limit_trades=bad)
        check("limit_trades=%r -> 400" % bad, st == 400 and json.loads(b)["reason"] == "InvalidParameter", (st, b))
    for k, bad in (("since_tid", "x"), ("since_tid", "-5"), ("timestamp", "abc"), ("since", "1.5")):
        st, _, b = trades("p", "genusd", **{k: bad})
        check("%s=%r -> 400" % (k, bad), st == 400 and json.loads(b)["result"] == "error", (st, b))

    st, _, b = trades("p", "nosuch")
    check("unknown symbol 400 exact", st == 400 and b == b'{"result":"error","reason":"InvalidSymbol",'
          b'"message":"Received unsupported symbol \'nosuch\'"}', (st, b))
    st, _, b = trades("p", "NoSuch", limit_trades=9999)
    check("unknown symbol message lower-case", st == 400 and b"'nosuch'" in b, b)

    # since_tid: the oldest N after the cursor, newest first
    x = nb[100][0]
    st, _, b = trades("p", "genusd", since_tid=x, limit_trades=10)
    want = [r for r in nb if r[0] > x][:10][::-1]
    check("since_tid oldest-N newest-first", [r[0] for r in as_rows(b)] == [r[0] for r in want])
    st, _, b = trades("p", "genusd", since_tid=x - 1, limit_trades=1)
    check("since_tid exclusive", as_rows(b)[0][0] == x)
    st, _, b = trades("p", "genusd", since_tid=0, limit_trades=3, timestamp=4102444800000)
    check("since_tid beats timestamp", [r[0] for r in as_rows(b)] == [r[0] for r in nb[:3]][::-1], b[:100])
    st, _, b = trades("p", "genusd", since_tid=nb[-1][0], limit_trades=3, timestamp=0)
    check("since_tid beats timestamp (past)", b == b"[]", b[:100])
    st, _, b = trades("p", "genusd", since_tid=0, limit_trades=5, since=4102444800)
    check("since_tid beats since", len(as_rows(b)) == 5)
    st, _, b = trades("p", "genusd", since_tid=T[-1][0] + 10**12)
    check("since_tid past the end -> []", st == 200 and b == b"[]")

    # timestamp: inclusive, ms vs seconds
    from collections import Counter
    cnt = Counter(r[1] for r in nb)
    burst_ts = next(t for t, c in sorted(cnt.items()) if c >= 3 and t % 1000 and t > nb[200][1])
    st, _, b = trades("p", "genusd", timestamp=burst_ts, limit_trades=500)
    rows = as_rows(b)[::-1]
    want = [r for r in nb if r[1] >= burst_ts][:500]
    check("timestamp ms inclusive (whole same-ms burst)", [r[0] for r in rows] == [r[0] for r in want]
          and rows[0][1] == burst_ts and sum(1 for r in rows if r[1] == burst_ts) == cnt[burst_ts])
    st, _, b2 = trades("p", "genusd", since=burst_ts, limit_trades=500)
    check("since = alias of timestamp", b2 == b)
    st, _, b = trades("p", "genusd", timestamp=burst_ts + 1, limit_trades=5)
    check("timestamp ms excludes earlier ms", all(r[1] > burst_ts for r in as_rows(b)))
    secs = burst_ts // 1000
    st, _, b = trades("p", "genusd", timestamp=secs, limit_trades=500)
    rows = as_rows(b)[::-1]
    want = [r for r in nb if r[1] >= secs * 1000][:500]
    check("timestamp seconds = value*1000 inclusive", [r[0] for r in rows] == [r[0] for r in want]
          and rows[0][1] >= secs * 1000, (rows[0], want[0]))
    sec_ts = next((r[1] for r in nb if r[1] % 1000 == 0), None)
    if check("dataset has a trade on a whole second", sec_ts is not None):
        st, _, b = trades("p", "genusd", timestamp=sec_ts // 1000, limit_trades=1)
        first = [r for r in nb if r[1] >= sec_ts][0]
        check("timestamp seconds includes trade at .000", as_rows(b)[0][0] == first[0])
    st, _, b = trades("p", "genusd", timestamp=0, limit_trades=4)
    check("timestamp=0 -> earliest", [r[0] for r in as_rows(b)] == [r[0] for r in nb[:4]][::-1])
    st, _, b = trades("p", "genusd", timestamp=4102444800)
    check("timestamp in the future -> []", b == b"[]")

    # include_breaks
    brk = [r for r in T if r[5]]
    for v in ("true", "1", "TRUE", "True"):
        st, _, b = trades("p", "genusd", since_tid=brk[0][0] - 1, limit_trades=3, include_breaks=v)
        rows = as_rows(b)
        check("include_breaks=%s shows broken" % v, rows[-1][0] == brk[0][0] and rows[-1][5] is True
              and all(r[5] is not None for r in rows), rows)
    for v in ("false", "0", "yes"):
        st, _, b = trades("p", "genusd", since_tid=brk[0][0] - 1, limit_trades=3, include_breaks=v)
        rows = as_rows(b)
        check("include_breaks=%s hides broken, no key" % v, brk[0][0] not in [r[0] for r in rows]
              and b"broken" not in b, rows)
    st, _, b = trades("p", "genusd", include_breaks="true", limit_trades=500)
    elems = b.decode()[1:-1].replace("},{", "}\n{").split("\n")
    check("include_breaks key order", all(TRADE_RE.fullmatch(e) and (e.endswith(',"broken":false}') or
                                                                    e.endswith(',"broken":true}')) for e in elems))
    # paging union == truth
    rows, pages, ok = page_all("p", "genusd", True)
    check("union of pages (include_breaks) == truth", ok and rows == [r for r in T], (len(rows), len(T)))
    rows, pages, ok = page_all("p", "genusd", False)
    check("union of pages (no breaks) == non-broken truth", ok and [r[:5] for r in rows] == [r[:5] for r in nb]
          and all(r[5] is None for r in rows))
    rows, pages, ok = page_all("p", "genusd", True, limit=37)
    check("union of pages at 37/page == truth", ok and rows == T)


def t_generator():
    cfg = admin("u", "config", {"datasets": {"GENUSD": {"count": 23456, "seed": 11},
                                             "GENBTC": {"count": 800, "seed": 11, "start": "2026-02-01T00:00:00Z",
                                                        "span_seconds": 60}}})
    check("config u counts", cfg["symbols"]["GENUSD"] == 23456 and cfg["symbols"]["GENBTC"] == 800
          and "LTCUSD" in cfg["symbols"], cfg)
    T = truth("u", "GENUSD")
    from collections import Counter
    cnt = Counter(r[1] for r in T)
    big = [t for t, c in cnt.items() if c > 500]
    check("generated: bursts larger than a page", len(big) >= 1, max(cnt.values()))
    # a burst straddling a 500-trade page boundary (when paging with include_breaks from 0)
    straddle = sum(1 for m in range(1, len(T) // 500) if T[500 * m - 1][1] == T[500 * m][1])
    check("generated: bursts straddle page boundaries", straddle >= 3, straddle)
    gaps = [b[0] - a[0] for a, b in zip(T, T[1:])]
    check("generated: tids strictly increasing, irregular gaps", min(gaps) >= 1 and max(gaps) > 5 * 10**8
          and sum(1 for g in gaps if g > 1000) > 10 and len(set(gaps)) > 40)
    check("generated: tid magnitude", 2.83e15 < T[0][0] < 2.85e15, T[0][0])
    check("generated: timestamps non-decreasing", all(a[1] <= b[1] for a, b in zip(T, T[1:])))
    start = 1767655800000
    check("generated: span crosses midnight", T[0][1] == start and T[-1][1] < start + 7200000
          and any(r[1] >= 1767657600000 for r in T))
    prices = [r[2] for r in T]
    amounts = [r[3] for r in T]
    dec = re.compile(r"^\d+(\.\d+)?$")
    check("generated: decimals valid", all(dec.match(x) for x in prices + amounts))
    check("generated: decimal variety", any(len(p.split(".")[-1]) >= 8 and "." in p for p in prices)
          and any("." not in p for p in prices) and any(p.endswith("0") and "." in p for p in prices)
          and any(len(a.split(".")[-1]) >= 9 for a in amounts if "." in a) and any("." not in a for a in amounts))
    check("generated: amounts > 0", all(decimal.Decimal(a) > 0 for a in amounts))
    sides = Counter(r[4] for r in T)
    check("generated: sides", set(sides) == {"buy", "sell", "auction", "block"} and sides["buy"] > 5000, sides)
    nbrk = sum(1 for r in T if r[5])
    check("generated: ~0.5% broken", 0.002 * len(T) < nbrk < 0.01 * len(T), nbrk)
    rows, pages, ok = page_all("u", "genusd", True)
    check("u: union of pages == truth (23456)", ok and rows == T and pages == 47, (len(rows), pages))
    T2 = truth("u", "GENBTC")
    check("GENBTC start/span", T2[0][1] == 1769904000000 and T2[-1][1] < 1769904060000)

    # determinism
    admin("d1", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 5}}, "recorded": False})
    admin("d2", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 5}}, "recorded": False})
    admin("d3", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 6}}, "recorded": False})
    check("generation deterministic", truth("d1", "GENUSD") == truth("d2", "GENUSD"))
    check("other seed differs", truth("d1", "GENUSD") != truth("d3", "GENUSD"))

    # truth filters
    lo, hi = T[1000][1], T[2000][1]
    F = truth("u", "GENUSD", from_ms=lo, to_ms=hi)
    check("truth from_ms/to_ms", F == [r for r in T if lo <= r[1] < hi] and F)
    st, _, b = req("/_admin/t/u/truth/GENUSD?format=json&from_ms=%d&to_ms=%d" % (lo, hi))
    J = json.loads(b)
    check("truth json", len(J) == len(F) and J[0]["tid"] == F[0][0] and J[0]["price"] == F[0][2])
    st, _, b = req("/_admin/t/u/truth/NOSUCH")
    check("truth unknown symbol 404", st == 404)

    # ints_as_strings
    admin("s", "config", {"datasets": {"GENUSD": {"count": 1200, "seed": 3, "ints_as_strings": True}}})
    st, _, b = trades("s", "genusd", since_tid=0, limit_trades=500, include_breaks="true")
    arr = json.loads(b)
    check("ints_as_strings", all(isinstance(t["tid"], str) and isinstance(t["timestamp"], str)
                                 and isinstance(t["timestampms"], str) for t in arr)
          and b.startswith(b'[{"timestamp":"') and b'"tid":"' in b, b[:120])
    Ts = truth("s", "GENUSD")
    rows, _, ok = page_all("s", "genusd", True)
    check("ints_as_strings union == truth", ok and rows == Ts)
    st, _, b = trades(None, "genusd", limit_trades=1)
    check("ints as numbers by default", re.match(rb'^\[\{"timestamp":\d+,"timestampms":\d+,"tid":\d+,', b), b)

    # bad_times
    now = time.time() * 1000
    admin("bt", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 9, "bad_times": 6}}, "recorded": False})
    Tb = truth("bt", "GENUSD")
    old = [r for r in Tb if r[1] < 1388534400000]
    fut = [r for r in Tb if r[1] > now + 2.9 * 86400000]
    check("bad_times: half in 2013, half 3 days ahead", len(old) == 3 and len(fut) == 3
          and all(1356998400000 <= r[1] < 1388534400000 for r in old) and all(r[1] < now + 3.2 * 86400000 for r in fut),
          (len(old), len(fut)))
    rows, _, ok = page_all("bt", "genusd", True)
    check("bad_times: union of pages == truth", ok and rows == Tb)
    st, _, b = trades("bt", "genusd", timestamp=1767655800000, limit_trades=500)
    got = [r[0] for r in as_rows(b)][::-1]
    want = [r[0] for r in Tb if r[1] >= 1767655800000 and not r[5]][:500]
    check("bad_times: timestamp query skips 2013 trades", got == want)
    st, _, b = trades("bt", "genusd", timestamp=int(now), limit_trades=500)
    check("bad_times: timestamp=now finds future trades", len(as_rows(b)) == len([r for r in fut if not r[5]]))

    # namespaces are independent
    admin("p2", "config", {"datasets": {"GENUSD": {"count": 2345, "seed": 7}}, "recorded": False})
    t0 = truth("p2", "GENUSD")
    victim = [r for r in t0 if not r[5]][10][0]
    out = admin("p2", "break", {"symbol": "GENUSD", "tids": [victim, 12345]})
    check("break endpoint", out["changed"] == [victim] and out["missing"] == [12345], out)
    check("break visible in its namespace", [r for r in truth("p2", "GENUSD") if r[0] == victim][0][5] is True)
    admin("p3", "config", {"datasets": {"GENUSD": {"count": 2345, "seed": 7}}, "recorded": False})
    check("break invisible elsewhere", [r for r in truth("p3", "GENUSD") if r[0] == victim][0][5] is False)
    st, _, b = trades("p2", "genusd", since_tid=victim - 1, limit_trades=1)
    check("broken trade vanishes without include_breaks", as_rows(b)[0][0] != victim)
    st, _, b = trades("p2", "genusd", since_tid=victim - 1, limit_trades=1, include_breaks="true")
    check("broken trade shown with include_breaks", as_rows(b)[0][:1] == (victim,) and as_rows(b)[0][5] is True)
    out = admin("p2", "break", {"symbol": "GENUSD", "tids": [victim], "broken": False})
    check("unbreak", out["changed"] == [victim])

    # append
    mx = t0[-1][0]
    out = admin("p2", "append", {"symbol": "GENUSD", "count": 10, "seed": 9})
    check("append returns range", out["ok"] and out["first_tid"] > mx and out["last_tid"] >= out["first_tid"]
          and out["total"] == 2355, out)
    st, _, b = trades("p2", "genusd", since_tid=mx, limit_trades=500, include_breaks="true")
    rows = as_rows(b)
    check("appended trades served", len(rows) == 10 and rows[0][0] == out["last_tid"] and rows[-1][0] == out["first_tid"]
          and rows[-1][1] >= t0[-1][1], rows[:1])
    check("append invisible elsewhere", truth("p3", "GENUSD")[-1][0] == mx)
    out = admin("p2", "append", {"symbol": "NEWUSD", "count": 5, "seed": 1})
    st, _, syms = get_json("/t/p2/v1/symbols")
    check("append creates a symbol", out["total"] == 5 and "newusd" in syms, (out, syms))
    st, _, b = req("/_admin/t/p2/append", "POST", {"count": 5})
    check("append without symbol -> 400", st == 400)
    st, _, b = req("/_admin/t/p2/config", "POST", {"datasets": {"GENUSD": {"cnt": 5}}})
    check("config bad dataset -> 400", st == 400 and json.loads(b)["ok"] is False)
    st, _, b = req("/_admin/t/p2/config", "POST", b"{not json")
    check("config bad json -> 400", st == 400)
    st, _, b = req("/_admin/t/p2/faults", "POST", {"faults": [{"kind": "nosuch", "nth": 1}]})
    check("faults unknown kind -> 400", st == 400)
    st, _, b = get_json("/_admin/t/p2/state")
    check("state endpoint", st == 200 and b["datasets"]["GENUSD"]["count"] == 2355)


def t_candles():
    T = [r for r in truth("p", "GENUSD") if not r[5]]
    D = decimal.Decimal
    for frame, ms in (("1m", 60000), ("5m", 300000), ("1hr", 3600000), ("1day", 86400000)):
        st, h, b = req("/t/p/v2/candles/genusd/%s" % frame)
        got = json.loads(b, parse_float=str, parse_int=str)
        exp = {}
        for r in T:
            k = r[1] - r[1] % ms
            c = exp.get(k)
            if c is None:
                exp[k] = [r[2], r[2], r[2], r[2], D(r[3])]
            else:
                if D(r[2]) > D(c[1]):
                    c[1] = r[2]
                if D(r[2]) < D(c[2]):
                    c[2] = r[2]
                c[3] = r[2]
                c[4] += D(r[3])
        keys = sorted(exp, reverse=True)[:1440]
        ok = st == 200 and len(got) == len(keys) and h.get("content-type") == "application/json"
        for g, k in zip(got, keys):
            e = exp[k]
            ok = ok and int(g[0]) == k and g[1] == e[0] and D(g[2]) == D(e[1]) and D(g[3]) == D(e[2]) \
                and g[4] == e[3] and D(g[5]) == e[4]
        check("candles %s exact (%d)" % (frame, len(got)), ok, (st, got[:1], keys[:1]))
    st, _, b = req("/t/p/v2/candles/genusd/1day")
    check("candles 1day crosses midnight", len(json.loads(b)) == 2)
    check("candles numbers not strings", b.startswith(b"[[") and b'"' not in b)
    st, _, b = req("/t/p/v2/candles/genusd/2m")
    check("candles bad frame -> 400", st == 400 and json.loads(b)["reason"] == "InvalidParameter", b)
    st, _, b = req("/t/p/v2/candles/nosuch/1m")
    check("candles unknown symbol -> 400", st == 400 and json.loads(b)["reason"] == "InvalidSymbol", b)
    st, _, b = req("/t/rec/v2/candles/ltcusd/1day")
    check("candles recorded", st == 200 and len(json.loads(b)) >= 2)
    st, _, b = req("/t/rec/v2/candles/btcgusd/1m")
    check("candles known symbol w/o trades -> []", st == 200 and b == b"[]")


def t_faults():
    ds = {"GENUSD": {"count": 2345, "seed": 7}}

    def setup(*faults):
        admin("f", "config", {"datasets": ds, "recorded": False, "faults": list(faults)})

    P = "/t/f/v1/trades/genusd?limit_trades=500&include_breaks=true"
    admin("f", "config", {"datasets": ds, "recorded": False})
    _, _, real = req(P)

    setup({"kind": "429", "nth": 2, "times": 2, "retry_after": 3})
    r = [req(P) for _ in range(4)]
    check("429 on 2nd..3rd only", [x[0] for x in r] == [200, 429, 429, 200], [x[0] for x in r])
    check("429 Retry-After and body", r[1][1].get("retry-after") == "3" and r[1][2] ==
          b'{"result":"error","reason":"RateLimit","message":"Rate limit exceeded"}', r[1])
    setup({"kind": "429", "nth": 1})
    check("429 default Retry-After 1", req(P)[1].get("retry-after") == "1")

    setup({"kind": "500", "nth": 1})
    st, h, b = req(P)
    check("500 text/plain", st == 500 and h.get("content-type", "").startswith("text/plain") and b == b"upstream unavailable", (st, h, b))
    setup({"kind": "502", "nth": 1})
    st, h, b = req(P)
    check("502 text/plain", st == 502 and h.get("content-type", "").startswith("text/plain"), (st, h))
    setup({"kind": "503", "nth": 1})
    st, h, b = req(P)
    check("503 maintenance", st == 503 and json.loads(b) == {"result": "error", "reason": "Maintenance",
                                                           "message": "The Gemini Exchange is currently undergoing maintenance."}, b)
    setup({"kind": "404_empty", "nth": 1})
    st, h, b = req(P)
    check("404_empty", st == 404 and b == b"", (st, b))
    setup({"kind": "400", "nth": 1, "message": "boom"})
    st, h, b = req(P)
    check("400", st == 400 and json.loads(b) == {"result": "error", "reason": "Bad Request", "message": "boom"}, b)
    setup({"kind": "result_error", "nth": 1})
    st, h, b = req(P)
    check("result_error on 200", st == 200 and json.loads(b)["reason"] == "System" and
          json.loads(b)["message"] == "We are investigating technical issues with the Gemini Exchange.", b)
    setup({"kind": "garbage", "nth": 1})
    st, h, b = req(P)
    check("garbage", st == 200 and b == b"<html><body>Bad gateway</body></html>"
          and h.get("content-type") == "application/json", (st, h, b))

    setup({"kind": "truncated", "nth": 1})
    st, h, b = req(P)
    bad = False
    try:
        json.loads(b)
    except ValueError:
        bad = True
    check("truncated: half body, consistent length, malformed", st == 200 and b == real[:len(real) // 2] and bad
          and int(h["content-length"]) == len(b), (st, len(b), len(real)))

    setup({"kind": "disconnect", "nth": 1})
    rc, out = curl(S.base + P)
    check("disconnect: curl exit 18", rc == 18, (rc, out))
    check("disconnect: got half", out == "200 %d" % (len(real) // 2), out)
    st, _, b = req(P)
    check("server fine after disconnect", st == 200 and b == real)

    setup({"kind": "slow", "nth": 1, "delay_ms": 400})
    t0 = time.monotonic()
    st, _, b = req(P)
    dt = time.monotonic() - t0
    check("slow", st == 200 and b == real and dt >= 0.39, dt)

    setup({"kind": "huge", "nth": 1, "size": 3_000_000})
    st, h, b = req(P)
    arr = json.loads(b)
    check("huge whitespace: exact size, valid JSON, real page", len(b) == 3_000_000 and
          int(h["content-length"]) == 3_000_000 and arr == json.loads(real), len(b))
    setup({"kind": "huge", "nth": 1, "size": 3_000_000, "fill": "repeat"})
    st, h, b = req(P)
    arr = json.loads(b)
    check("huge repeat: exact size, many elements", len(b) == 3_000_000 and len(arr) > 10 * 500, (len(b), len(arr)))
    setup({"kind": "huge", "nth": 1})
    rc, out = curl(S.base + P)
    check("huge default 20 MiB", rc == 0 and out == "200 %d" % (20 * 1024 * 1024), (rc, out))

    real_arr = json.loads(real)
    for mut, idx, test in (
            ("missing_tid", 0, lambda e: isinstance(e, dict) and "tid" not in e and "price" in e),
            ("price_number", 3, lambda e: isinstance(e["price"], (int, float))),
            ("bad_type", -1, lambda e: e["type"] == "foo"),
            ("not_object", 7, lambda e: not isinstance(e, dict)),
            ("empty_object", 0, lambda e: e == {})):
        setup({"kind": "bad_element", "nth": 1, "mutation": mut, "index": idx})
        st, h, b = req(P)
        arr = json.loads(b)
        others = [a for i, a in enumerate(arr) if i != (idx % len(arr))]
        check("bad_element %s" % mut, st == 200 and len(arr) == len(real_arr) and test(arr[idx])
              and others == [a for i, a in enumerate(real_arr) if i != (idx % len(arr))], arr[idx])
    setup({"kind": "bad_element", "nth": 1, "mutation": "price_number", "index": 0})
    st, _, b = req(P)
    check("bad_element price_number keeps exact text", re.search(rb'"price":%s,' % re.escape(
        real_arr[0]["price"].encode()), b) is not None, b[:200])

    # break_before
    victim = real_arr[5]["tid"]
    setup({"kind": "break_before", "nth": 2, "tids": [victim]})
    a = json.loads(req(P)[2])
    b2 = json.loads(req(P)[2])
    check("break_before", a[5]["broken"] is False and b2[5]["broken"] is True and b2[5]["tid"] == victim)
    st, _, b = req("/t/f/v1/trades/genusd?limit_trades=500")
    check("break_before hides without include_breaks", victim not in [t["tid"] for t in json.loads(b)])
    setup({"kind": "append_before", "nth": 1, "count": 7})
    top = real_arr[0]["tid"]
    st, _, b = req("/t/f/v1/trades/genusd?since_tid=%d" % top)
    check("append_before", len(json.loads(b)) == 7, b[:100])

    # routes and 'any'
    setup({"kind": "503", "nth": 2, "route": "symbols"}, {"kind": "500", "nth": 1, "route": "details"},
          {"kind": "garbage", "nth": 1, "route": "candles"})
    s = [req("/t/f/v1/symbols")[0] for _ in range(3)]
    check("symbols route fault", s == [200, 503, 200], s)
    check("trades unaffected by symbols fault", req(P)[0] == 200)
    check("details route fault", req("/t/f/v1/symbols/details/genusd")[0] == 500)
    check("candles route fault", req("/t/f/v2/candles/genusd/1m")[2] == b"<html><body>Bad gateway</body></html>")
    setup({"kind": "429", "nth": 3, "times": 2, "route": "any"})
    s = [req(u)[0] for u in (P, "/t/f/v1/symbols", "/t/f/v1/symbols/details/genusd", "/t/f/v2/candles/genusd/1m", P)]
    check("route any counts all routes", s == [200, 200, 429, 429, 200], s)
    setup({"kind": "bad_element", "nth": 1, "route": "symbols", "mutation": "not_object", "index": 0})
    st, _, b = req("/t/f/v1/symbols")
    check("bad_element on symbols", json.loads(b)[0] == "not an object")

    # faults endpoint resets counters; the log records faults
    setup({"kind": "429", "nth": 1})
    req(P)
    out = admin("f", "faults", {"faults": [{"kind": "500", "nth": 2}]})
    s = [req(P)[0] for _ in range(3)]
    check("faults endpoint replaces faults, resets counters", s == [200, 500, 200], s)
    st, h, b = req("/_admin/t/f/log?format=csv")
    lines = b.decode().splitlines()
    check("log csv header", lines[0] == "seq,t_start,t_end,route,path,query,status,fault,n_trades,first_tid,"
          "last_tid,limit_trades,since_tid,timestamp,include_breaks", lines[0])
    rows = list(csv.DictReader(io.StringIO(b.decode())))
    check("log rows", [r["status"] for r in rows] == ["429", "200", "500", "200"]
          and [r["fault"] for r in rows] == ["429", "", "500", ""], rows)
    r1 = rows[1]
    check("log fields", r1["route"] == "trades" and r1["path"] == "/t/f/v1/trades/genusd" and
          r1["query"] == "limit_trades=500&include_breaks=true" and r1["n_trades"] == "500" and
          int(r1["first_tid"]) == real_arr[0]["tid"] and int(r1["last_tid"]) == real_arr[-1]["tid"] and
          r1["limit_trades"] == "500" and r1["since_tid"] == "" and r1["include_breaks"] == "true" and
          re.fullmatch(r"\d+\.\d{6}", r1["t_start"]) and float(r1["t_end"]) >= float(r1["t_start"]), r1)
    st, _, j = get_json("/_admin/t/f/log?format=json")
    check("log json", len(j) == 4 and j[2]["fault"] == "500" and j[2]["status"] == 500, j[:1])
    st, _, j = get_json("/_admin/t/f/log?format=json&since_seq=%d" % j[1]["seq"])
    check("log since_seq", len(j) == 2)
    req("/t/f/v1/trades/genusd?since_tid=5&timestamp=123&limit_trades=7")
    st, _, j = get_json("/_admin/t/f/log?format=json")
    check("log cursor fields", j[-1]["since_tid"] == 5 and j[-1]["timestamp"] == "123" and j[-1]["limit_trades"] == 7, j[-1])
    st, _, j = get_json("/_admin/t/rec/log?format=json")
    check("logs are per namespace", all(e["path"].startswith("/t/rec/") for e in j) and j)


def t_shift():
    t0 = time.time() * 1000
    s2 = Server("--shift-recorded-to-now")
    try:
        fx = fixture_trades()
        st, _, b = req("/v1/trades/ltcusd?limit_trades=500", base=s2.base)
        rows = as_rows(b)
        newest = rows[0][1]
        orig = sorted(v[0] for v in fx["LTCUSD"].values())
        got = sorted(r[1] for r in rows)
        check("shift: newest recorded trade 60 s before start", abs(newest - (t0 - 60000)) < 5000, newest - t0)
        check("shift: spacing kept", [b - a for a, b in zip(orig, orig[1:])] == [b - a for a, b in zip(got, got[1:])])
        st, _, b = req("/v1/trades/btcusdt", base=s2.base)
        check("shift: each symbol separately", abs(as_rows(b)[0][1] - (t0 - 60000)) < 5000)
    finally:
        rc = s2.stop()
    check("second server stops cleanly", rc == 0, rc)
    s2.cleanup()


def t_timing():
    T = truth("default", "GENUSD")
    check("default GENUSD has 200000 trades", len(T) == 200000, len(T))
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60)
    st, _, j = get_json("/_admin/t/default/log?format=json")
    seq0 = j[-1]["seq"] if j else 0
    best = None
    for _ in range(2):
        cursor = 0
        pages = 0
        t0 = time.perf_counter()
        while True:
            conn.request("GET", "/v1/trades/genusd?since_tid=%d&limit_trades=500&include_breaks=true" % cursor)
            r = conn.getresponse()
            b = r.read()
            pages += 1
            n = b.count(b'"tid":')
            if r.status != 200 or n < 500:
                break
            i = b.index(b'"tid":') + 6
            cursor = int(b[i:b.index(b",", i)])
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    st, _, j = get_json("/_admin/t/default/log?format=json&since_seq=%d" % seq0)
    srv = sorted(e["t_end"] - e["t_start"] for e in j if e["route"] == "trades")
    print("timing: %d pages of 500 (200,000 trades) in %.3f s = %.0f pages/s (client+server, keep-alive); "
          "server time per page: mean %.3f ms, median %.3f ms, max %.3f ms"
          % (pages, best, pages / best, 1000 * sum(srv) / len(srv), 1000 * srv[len(srv) // 2], 1000 * srv[-1]))
    rows, pages, ok = page_all(None, "genusd", True, conn=conn)
    check("200k: union of pages == truth", ok and rows == T, (len(rows), len(T)))
    conn.close()


def main():
    global S
    tests = [t_basics, t_recorded, t_paging, t_generator, t_candles, t_faults]
    tests += selftest_ws.tests(sys.modules[__name__])
    tests += [t_shift, t_timing]
    try:
        S = Server("--generate", "GENUSD:200000:1")
    except Exception as e:
        print("cannot start server: %s" % e)
        print("selftest: 0 passed, 1 failed")
        return 1
    print("startup with --generate GENUSD:200000:1: %.2f s" % S.startup)
    check("startup < 2 s", S.startup < 2.0, S.startup)
    try:
        for t in tests:
            try:
                t()
            except Exception as e:      # a crashed test counts as a failure
                import traceback
                traceback.print_exc()
                check("%s did not crash" % t.__name__, False, repr(e))
    finally:
        rc = S.stop()
        check("SIGTERM: clean exit 0", rc == 0, rc)
        check("port file removed on exit", not os.path.exists(S.port_file))
        log = S.log()
        check("server log reports recorded counts", "recorded LTCUSD" in log and "128 trades" in log)
        check("server log has no tracebacks", "Traceback" not in log, log[-2000:])
    if FAILED == 0:
        S.cleanup()
    else:
        print("server log kept in %s" % S.log_file)
    print("selftest: %d passed, %d failed" % (PASSED, FAILED))
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
