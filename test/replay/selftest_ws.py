"""selftest_ws.py -- the websocket part of selftest.py (run from there).

tests(T) returns the test functions; T is the selftest module (server
handle T.S, T.check, T.admin, T.truth, T.req, T.page_all, ...).  Clients are
aiohttp's ClientSession.ws_connect, except for the throughput run, which
uses a minimal raw-socket client (frame headers only, no JSON parsing) so
that the server is the bottleneck; its rate is printed, not asserted.
"""

import asyncio
import base64
import csv
import io
import json
import os
import socket
import struct
import sys
import time

import aiohttp

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
SESSIONS = ("2021-04-05", "2021-04-17", "2021-06-23")
LOG_HEADER = ("conn_no,accepted_no,api,mode,t_open,t_close,path,query,subscribe,client_frames,"
              "messages_sent,trades_sent,first_trade_tid,last_trade_tid,snapshot_trades,events_sent,"
              "malformed_sent,gaps_sent,t_stream_start,t_stream_end,bytes_sent,close_reason,invalid_utf8_sent,"
              "oversize_bytes_sent,close_code_sent")
SENT_HEADER = "conn_no,seq,tid,symbol,send_time_ms,send_time_us,kind"


def session_lines(name):
    with open(os.path.join(FIXTURES, "v2_marketdata_l2_session_%s.jsonl" % name)) as f:
        lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
    return lines[1:]


def v2sub(*syms, candles=()):
    subs = [{"name": "l2", "symbols": list(syms)}]
    if candles:
        subs.append({"name": "candles_1m", "symbols": list(candles)})
    return {"type": "subscribe", "subscriptions": subs}


async def recv(ws, n=None, quiet=3.0, max_time=60.0):
    """Read text frames -> (texts, end, times); end: "close" (close frame),
    "closed" (connection ended without close frame), "quiet", "count"."""
    out, times = [], []
    t_end = time.monotonic() + max_time
    while n is None or len(out) < n:
        try:
            m = await ws.receive(timeout=min(quiet, max(0.01, t_end - time.monotonic())))
        except asyncio.TimeoutError:
            return out, "quiet", times
        if m.type == aiohttp.WSMsgType.TEXT:
            out.append(m.data)
            times.append(time.monotonic())
        elif m.type == aiohttp.WSMsgType.CLOSE:
            return out, "close", times
        elif m.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return out, "closed", times
    return out, "count", times


def tests(T):
    """The websocket tests, bound to the selftest module T."""

    def url(token, path):
        return T.S.base + "/t/%s%s" % (token, path)

    def ws_config(token, **cfg):
        out = T.admin(token, "ws", cfg)
        return out

    def ws_log(token):
        st, _, b = T.req("/_admin/t/%s/ws/log?format=json" % token)
        assert st == 200, (st, b[:200])
        return json.loads(b)

    def ws_sent(token, conn_no=None):
        q = "" if conn_no is None else "&conn_no=%d" % conn_no
        st, _, b = T.req("/_admin/t/%s/ws/sent?format=csv%s" % (token, q))
        assert st == 200
        return list(csv.DictReader(io.StringIO(b.decode())))

    async def session(token, path, sub, **kw):
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(url(token, path), autoping=True) as ws:
                if sub is not None:
                    await ws.send_str(json.dumps(sub))
                return await recv(ws, **kw)

    def run(coro):
        return asyncio.run(coro)

    # ---------------------------------------------------------------------------------

    def t_ws_recorded():
        T.admin("wsrec", "config", {})
        for name in SESSIONS:
            out = ws_config("wsrec", mode="recorded", session=name)
            check = T.check
            check("ws recorded %s: admin reports no trade missing in REST" % name,
                  out["trades_missing_in_rest"] == 0 and out["session"]["pacing"].startswith("cryptofeed_raw"), out)
            # every trade of the session (trade frames + snapshot trades) is in REST, same fields
            lines = session_lines(name)
            want = {}
            for ln in lines:
                m = json.loads(ln)
                lst = [m] if m["type"] == "trade" else m.get("trades") or []
                for t in lst:
                    want.setdefault(t["symbol"], {})[t["event_id"]] = t
            bad = []
            for sym, trades in want.items():
                rows = {r[0]: r for r in T.truth("wsrec", sym)}
                for tid, t in trades.items():
                    r = rows.get(tid)
                    if r is None or (r[1], r[2], r[3], r[4]) != (t["timestamp"], t["price"], t["quantity"], t["side"]):
                        bad.append((sym, tid))
            check("ws recorded %s: all %d session trades in REST with equal fields" % (
                name, sum(map(len, want.values()))), not bad, bad[:5])
        # exact replay, symbol filter, case-insensitive symbols
        for name, syms in (("2021-04-17", ("BTCUSD", "ethusd")), ("2021-06-23", ("FILUSD",)),
                           ("2021-04-05", ("LTCUSD", "LINKUSD", "ZECLTC", "NOSUCH"))):
            ws_config("wsrec", mode="recorded", session=name, close_at_end=True)
            texts, end, _ = run(session("wsrec", "/v2/marketdata", v2sub(*syms)))
            up = {s.upper() for s in syms}
            exp = [ln for ln in session_lines(name) if '"type":"heartbeat"' in ln or json.loads(ln).get("symbol") in up]
            T.check("ws recorded %s %s: exactly the session's frames in order (%d)" % (name, ",".join(syms), len(exp)),
                    texts == exp and end == "close", (len(texts), len(exp), end))
        row = ws_log("wsrec")[-1]
        T.check("ws recorded log row", row["api"] == "v2" and row["mode"] == "recorded" and row["close_reason"] == "normal"
                and row["messages_sent"] == len(exp) and row["subscribe"] == json.dumps(v2sub("LTCUSD", "LINKUSD", "ZECLTC", "NOSUCH")), row)

    def t_ws_slow():
        """Pacing, heartbeats after the end (recorded) and every 5 s (generated): run together."""
        T.admin("wsslow", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 4}}})
        ws_config("wsslow", mode="recorded", session="2021-06-23", speed=10, close_at_end=True)

        async def paced():
            return await session("wsslow", "/v2/marketdata", v2sub("FILUSD", "BTCGBP"), quiet=8)

        async def after_end():
            await asyncio.sleep(0.2)
            return await session("wsslow2", "/v2/marketdata", v2sub("ANKRUSD"), quiet=7, max_time=7)

        async def gen_hb():
            await asyncio.sleep(0.2)
            return await session("wsslow3", "/v2/marketdata", v2sub("GENUSD"), quiet=7, max_time=11.5)

        async def all3():
            return await asyncio.gather(paced(), after_end(), gen_hb())

        T.admin("wsslow2", "config", {})
        ws_config("wsslow2", mode="recorded", session="2021-06-23", speed=0)
        T.admin("wsslow3", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 4}}, "recorded": False})
        ws_config("wsslow3", mode="generated", count=3, rate=0)
        (p_texts, p_end, p_times), (a_texts, a_end, a_times), (g_texts, g_end, g_times) = run(all3())
        frames = [json.loads(x) for x in session_lines("2021-06-23")]
        ts = [f["timestamp"] for f in frames if f["type"] == "heartbeat"]
        dur = 30.727195978 / 10
        dt = p_times[-1] - p_times[0] if p_times else 0
        T.check("ws recorded speed=10 compresses pacing (%.2f s for %.2f s)" % (dt, dur),
                p_end == "close" and abs(dt - dur) < 0.5, (p_end, dt))
        n_rec = sum(1 for f in frames if f["type"] == "heartbeat" or f.get("symbol") == "ANKRUSD")
        extra = [json.loads(x) for x in a_texts[n_rec:]]
        T.check("ws recorded: heartbeat every 5 s after the last frame, socket kept open",
                a_texts[:n_rec] == [x for x in session_lines("2021-06-23") if json.loads(x)["type"] == "heartbeat"
                                    or json.loads(x).get("symbol") == "ANKRUSD"]
                and len(extra) == 1 and extra[0]["type"] == "heartbeat" and extra[0]["timestamp"] > max(ts)
                and abs(a_times[-1] - a_times[n_rec - 1] - 5) < 0.6 and a_end == "quiet",
                (len(a_texts), n_rec, extra, a_end))
        hb = [(json.loads(x), t) for x, t in zip(g_texts, g_times) if '"heartbeat"' in x]
        T.check("ws generated: heartbeats every 5 s", len(hb) == 2 and abs(hb[1][1] - hb[0][1] - 5) < 0.3
                and abs(hb[0][0]["timestamp"] / 1000 - time.time()) < 15 and len(g_texts) == 1 + 3 + 2,
                ([h[0] for h in hb], len(g_texts)))

    def t_ws_generated():
        ds = {"GENUSD": {"count": 5000, "seed": 7}}
        for tok in ("wg", "wg2"):
            T.admin(tok, "config", {"datasets": ds, "recorded": False})
            ws_config(tok, mode="generated", rate=0, count=3000, seed=5, close_at_end=True)
        T0 = T.truth("wg", "GENUSD")
        pre_max = T0[-1][0]
        t_a = time.time() * 1000
        texts, end, _ = run(session("wg", "/v2/marketdata", v2sub("genusd", candles=("GENUSD",))))
        t_b = time.time() * 1000
        msgs = [json.loads(x) for x in texts]
        snap = msgs[0] if msgs else {}
        nb = [r for r in T0 if not r[5]][-50:][::-1]
        want = [{"type": "trade", "symbol": "GENUSD", "event_id": r[0], "tid": r[0], "timestamp": r[1],
                 "price": r[2], "quantity": r[3], "side": r[4]} for r in nb]
        ch = snap.get("changes", [])
        bids = [c for c in ch if c[0] == "buy"]
        asks = [c for c in ch if c[0] == "sell"]
        T.check("ws generated: snapshot first (50 bids desc, 50 asks asc, 50 newest REST trades)",
                snap.get("type") == "l2_updates" and snap.get("auction_events") == [] and snap.get("trades") == want
                and len(bids) == 50 and len(asks) == 50 and ch[:50] == bids
                and all(float(a[1]) > float(b[1]) for a, b in zip(bids, bids[1:]))
                and all(float(a[1]) < float(b[1]) for a, b in zip(asks, asks[1:]))
                and float(bids[0][1]) < float(asks[0][1]), (snap.get("trades", [])[:1], want[:1], ch[:2]))
        cnd = [m for m in msgs if m["type"] == "candles_1m_updates"]
        T.check("ws generated: candles_1m_updates (initial + every 1000 events)",
                len(cnd) == 4 and cnd[0] is msgs[1] and cnd[0]["symbol"] == "GENUSD" and len(cnd[0]["changes"]) > 10
                and all(len(c) == 6 for c in cnd[0]["changes"]) and len(cnd[1]["changes"]) <= 2, [len(c["changes"]) for c in cnd])
        ev = [m for m in msgs[1:] if m["type"] in ("trade", "l2_updates")]
        trades = [m for m in ev if m["type"] == "trade"]
        T.check("ws generated: exactly count events, then close", len(ev) == 3000 and end == "close"
                and len(msgs) == 1 + 4 + 3000, (len(ev), len(msgs), end))
        T.check("ws generated: trade_ratio ~0.5", 0.45 < len(trades) / 3000 < 0.55, len(trades))
        keys = ["type", "symbol", "event_id", "tid", "timestamp", "price", "quantity", "side"]
        T.check("ws generated: trade shape", all(list(t) == keys and t["event_id"] == t["tid"] and t["side"] in ("buy", "sell")
                                                 and isinstance(t["price"], str) for t in trades), trades[:1])
        T.check("ws generated: tids increasing above the REST max", trades and trades[0]["tid"] > pre_max and
                all(a["tid"] < b["tid"] for a, b in zip(trades, trades[1:])))
        T.check("ws generated: timestamp = wall-clock send time", all(t_a - 1 <= t["timestamp"] <= t_b + 1 for t in trades),
                (t_a, trades[0]["timestamp"], t_b))
        book = {("buy", c[1]) : c[2] for c in bids}
        book.update({("sell", c[1]): c[2] for c in asks})
        ok, removed = True, 0
        for m in ev:
            if m["type"] != "l2_updates":
                continue
            if len(m["changes"]) != 1 or list(m) != ["type", "symbol", "changes"]:
                ok = False
            side, p, q = m["changes"][0]
            if q == "0":
                removed += 1
                ok = ok and book.pop((side, p), None) is not None
            else:
                book[(side, p)] = q
        T.check("ws generated: l2 updates one level each, '0' only removes existing levels", ok and removed > 50, removed)
        T1 = T.truth("wg", "GENUSD")
        rows = {r[0]: r for r in T1}
        new = [r for r in T1 if r[0] > pre_max]
        T.check("ws generated: every trade sent is in /truth with the same fields, nothing else appended",
                [r[0] for r in new] == [t["tid"] for t in trades] and all(
                    rows[t["tid"]][1:6] == (t["timestamp"], t["price"], t["quantity"], t["side"], False) for t in trades),
                (len(new), len(trades)))
        st, _, b = T.trades("wg", "genusd", since_tid=pre_max, limit_trades=500)
        page = T.as_rows(b)[::-1]
        T.check("ws generated: trades pageable via since_tid", [r[0] for r in page] == [t["tid"] for t in trades][:500])
        got, pages, okp = T.page_all("wg", "genusd", True)
        T.check("ws generated: union of REST pages == truth after streaming", okp and got == T1, (len(got), len(T1)))
        texts2, _, _ = run(session("wg2", "/v2/marketdata", v2sub("GENUSD", candles=("GENUSD",))))

        def shape(ts_):
            out = []
            for x in ts_:
                m = json.loads(x)
                if m["type"] == "trade":
                    out.append((m["price"], m["quantity"], m["side"]))
                elif m["type"] == "l2_updates" and "trades" not in m:
                    out.append(tuple(m["changes"][0]))
            return out

        T.check("ws generated: deterministic for a seed (same data)", shape(texts) == shape(texts2) and len(shape(texts)) == 3000)
        sent = ws_sent("wg", 1)
        T.check("ws/sent rows for the connection", [int(r["tid"]) for r in sent if r["kind"] == "live"] == [t["tid"] for t in trades]
                and sum(1 for r in sent if r["kind"] == "snapshot") == 50 and all(
                    int(r["send_time_ms"]) == int(r["send_time_us"]) // 1000 and r["symbol"] == "GENUSD" for r in sent), sent[:2])
        live = [r for r in sent if r["kind"] == "live"]
        T.check("ws/sent send_time_ms == trade timestamp", all(int(r["send_time_ms"]) == t["timestamp"]
                                                              for r, t in zip(live, trades)))
        st, _, b = T.req("/_admin/t/wg/ws/log?format=csv")
        lines = b.decode().splitlines()
        T.check("ws/log csv header", lines[0] == LOG_HEADER, lines[0])
        st, _, b = T.req("/_admin/t/wg/ws/sent?format=csv")
        T.check("ws/sent csv header", b.decode().splitlines()[0] == SENT_HEADER)
        r = ws_log("wg")[0]
        T.check("ws/log row fields", r["conn_no"] == 1 and r["accepted_no"] == 1 and r["path"] == "/t/wg/v2/marketdata"
                and r["messages_sent"] == len(msgs) and r["trades_sent"] == len(trades) and r["events_sent"] == 3000
                and r["first_trade_tid"] == trades[0]["tid"] and r["last_trade_tid"] == trades[-1]["tid"]
                and r["snapshot_trades"] == 50 and r["close_reason"] == "normal" and r["t_close"] >= r["t_open"]
                and r["client_frames"] == 1, r)
        # rate limiting
        T.admin("wr", "config", {"datasets": ds, "recorded": False})
        ws_config("wr", mode="generated", rate=2000, count=600, close_at_end=True)
        texts, end, times = run(session("wr", "/v2/marketdata", v2sub("GENUSD")))
        dt = times[-1] - times[1]
        T.check("ws generated: rate=2000 paces 600 events over ~0.3 s (%.3f s)" % dt, 0.25 < dt < 1.0 and len(texts) == 601, dt)
        # unknown symbol
        texts, end, _ = run(session("wr", "/v2/marketdata", v2sub("NOSUCH"), quiet=0.5))
        T.check("ws generated: no valid symbol -> NoValidTradingPairs",
                texts == ['{"result":"error","reason":"NoValidTradingPairs"}'], texts)

    def t_ws_faults():
        ds = {"GENUSD": {"count": 3000, "seed": 7}}
        T.admin("wd", "config", {"datasets": ds, "recorded": False})
        ws_config("wd", mode="generated", rate=0, count=1000, close_at_end=True,
                  faults=[{"kind": "drop", "after": 10}])
        pre = T.truth("wd", "GENUSD")[-1][0]
        a, end_a, _ = run(session("wd", "/v2/marketdata", v2sub("GENUSD")))
        b, end_b, _ = run(session("wd", "/v2/marketdata", v2sub("GENUSD")))
        T.check("ws drop after 10: exactly 10 messages, closed without close frame", len(a) == 10 and end_a == "closed",
                (len(a), end_a))
        T.check("ws drop: only connection 1 by default", len(b) == 1001 and end_b == "close", (len(b), end_b))
        tids = [json.loads(x)["tid"] for x in a if x.startswith('{"type":"trade"')]
        T1 = [r[0] for r in T.truth("wd", "GENUSD") if r[0] > pre]
        T.check("ws drop: trades sent before the drop are in REST", T1[:len(tids)] == tids, (tids, T1[:12]))
        lg = ws_log("wd")
        T.check("ws drop: log", [r["close_reason"] for r in lg] == ["drop", "normal"] and lg[0]["messages_sent"] == 10, lg)
        ws_config("wd", mode="generated", rate=0, count=1000, faults=[{"kind": "drop", "after": 7, "every": True}])

        async def two():
            return await asyncio.gather(session("wd", "/v2/marketdata", v2sub("GENUSD")),
                                        session("wd", "/ws?snapshot=-1", {"id": 1, "method": "subscribe",
                                                                          "params": ["genusd@trade"]}))
        (a, ea, _), (b, eb, _) = run(two())
        T.check("ws drop every:true (v2 and new API)", len(a) == 7 and len(b) == 7 and ea == eb == "closed", (len(a), len(b), ea, eb))
        ws_config("wd", mode="generated", rate=0, count=1000, faults=[{"kind": "drop", "after": 0}])
        a, ea, _ = run(session("wd", "/v2/marketdata", v2sub("GENUSD")))
        T.check("ws drop after 0: nothing, no close frame", a == [] and ea == "closed", (a, ea))

        # stall
        T.admin("wst", "config", {"datasets": ds, "recorded": False})
        ws_config("wst", mode="generated", rate=0, count=1000, faults=[{"kind": "stall", "after": 5}])
        pre = T.truth("wst", "GENUSD")[-1][0]

        async def stalled():
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wst", "/v2/marketdata")) as ws:
                    await ws.send_str(json.dumps(v2sub("GENUSD")))
                    texts, end, _ = await recv(ws, quiet=1.5)
                    return texts, end, ws.closed

        a, end, closed = run(stalled())
        T.check("ws stall after 5: 5 messages, then silence, socket open", len(a) == 5 and end == "quiet" and not closed,
                (len(a), end, closed))
        time.sleep(0.1)
        n_trades = sum(1 for x in a if x.startswith('{"type":"trade"'))
        T.check("ws stall: REST got only the trades sent", len([r for r in T.truth("wst", "GENUSD") if r[0] > pre]) == n_trades)
        lg = ws_log("wst")
        T.check("ws stall: log", lg[-1]["close_reason"] == "stall" and lg[-1]["messages_sent"] == 5, lg[-1])

        # malformed
        T.admin("wm", "config", {"datasets": ds, "recorded": False})
        ws_config("wm", mode="generated", rate=0, count=20, close_at_end=True,
                  faults=[{"kind": "malformed", "at": [3, 5, 7, 9]}])
        a, end, _ = run(session("wm", "/v2/marketdata", v2sub("GENUSD")))
        bad_pos = {2: 0, 5: 1, 8: 2, 11: 3}

        def parse(x):
            try:
                return json.loads(x)
            except ValueError:
                return None

        ok = len(a) == 1 + 20 + 4 and end == "close"
        ok = ok and all(parse(x) is not None and "symbol" in parse(x) and not isinstance(parse(x).get("price", ""), dict)
                        for i, x in enumerate(a) if i not in bad_pos)
        m = [a[i] if i < len(a) else "" for i in sorted(bad_pos)]
        ok = ok and parse(m[0]) is None and m[0].startswith('{"type":"trade"') and m[1] == "not json at all"
        ok = ok and parse(m[2]) is not None and parse(m[2])["price"] == {"x": 1} and parse(m[2])["symbol"] == "GENUSD"
        ok = ok and parse(m[3]) is not None and parse(m[3])["type"] == "trade" and "symbol" not in parse(m[3])
        T.check("ws malformed at [3,5,7,9]: 4 extra frames (truncated, not json, price object, no symbol)", ok, (len(a), m))
        T.check("ws malformed: log", ws_log("wm")[-1]["malformed_sent"] == 4 and ws_log("wm")[-1]["messages_sent"] == 21)

        # reject_connect (+ drop on accepted connection 1)
        T.admin("wj", "config", {"datasets": ds, "recorded": False})
        ws_config("wj", mode="generated", rate=0, count=100,
                  faults=[{"kind": "reject_connect", "times": 2}, {"kind": "drop", "after": 3}])

        async def attempts():
            out = []
            for _ in range(3):
                try:
                    r = await session("wj", "/v2/marketdata", v2sub("GENUSD"))
                    out.append(("ok", len(r[0]), r[1]))
                except aiohttp.WSServerHandshakeError as e:
                    out.append((e.status,))
            return out

        res = run(attempts())
        T.check("ws reject_connect times 2: 503, 503, then accepted", res == [(503,), (503,), ("ok", 3, "closed")], res)
        lg = ws_log("wj")
        T.check("ws reject_connect: log", [(r["conn_no"], r["accepted_no"], r["close_reason"]) for r in lg] ==
                [(1, None, "rejected"), (2, None, "rejected"), (3, 1, "drop")], lg)

        # bad config
        st, _, b = T.req("/_admin/t/wj/ws", "POST", {"mode": "nosuch"})
        st2, _, _ = T.req("/_admin/t/wj/ws", "POST", {"faults": [{"kind": "drop", "after": -1}]})
        st3, _, _ = T.req("/_admin/t/wj/ws", "POST", {"session": "1999-01-01"})
        st4, _, _ = T.req("/_admin/t/wj/ws", "POST", {"speed": 1, "bogus": 1})
        T.check("ws admin: bad config -> 400", (st, st2, st3, st4) == (400, 400, 400, 400), (st, st2, st3, st4, b))
        st, _, b = T.get_json("/_admin/t/wj/ws")
        T.check("ws admin: GET config", st == 200 and b["sessions"] == list(SESSIONS) and b["connections"] == 3, b)

    def t_ws_new():
        ds = {"GENUSD": {"count": 3000, "seed": 7}, "GENBTC": {"count": 2000, "seed": 8, "price_base": "0.05"}}
        T.admin("wn", "config", {"datasets": ds, "recorded": False})
        ws_config("wn", mode="generated", rate=0, count=2000, close_at_end=True)
        t_a = time.time_ns()
        a, end, _ = run(session("wn", "/ws?snapshot=-1", {"id": 1, "method": "SUBSCRIBE",
                                                          "params": ["genusd@trade", "GENUSD@depth@100ms", " genbtc @depth"]}))
        t_b = time.time_ns()
        m = [json.loads(x) for x in a]
        s0, s1, ack = (m + [{}, {}, {}])[:3]
        T.check("ws new: snapshots (U == u) then the ack",
                s0.get("e") == "depthUpdate" and s0.get("s") == "genusd" and s0["U"] == s0["u"]
                and s1.get("s") == "genbtc" and s1["U"] == s1["u"] and len(s0["b"]) == 50 and len(s0["a"]) == 50
                and all(float(x[0]) > float(y[0]) for x, y in zip(s0["b"], s0["b"][1:]))
                and all(float(x[0]) < float(y[0]) for x, y in zip(s0["a"], s0["a"][1:]))
                and a[2] == '{"id":1,"status":200}', a[:3])
        ev = m[3:]
        trades = [x for x in ev if "t" in x]
        diffs = [x for x in ev if x.get("e") == "depthUpdate"]
        T.check("ws new: count events then close", len(ev) == 2000 and len(trades) + len(diffs) == 2000 and end == "close",
                (len(ev), end))
        T.check("ws new: trade shape {E,s,t,p,q,m}", trades and all(
            list(t) == ["E", "s", "t", "p", "q", "m"] and t["s"] == "genusd" and isinstance(t["m"], bool)
            and t_a <= t["E"] <= t_b and isinstance(t["p"], str) for t in trades), trades[:1])
        rows = {r[0]: r for r in T.truth("wn", "GENUSD")}
        T.check("ws new: trades in REST (m=true = taker sold, ts = E/1e6)", all(
            t["t"] in rows and rows[t["t"]][1:5] == (t["E"] // 1_000_000, t["p"], t["q"], "sell" if t["m"] else "buy")
            for t in trades))
        last = {"genusd": s0.get("u"), "genbtc": s1.get("u")}
        ok = True
        for d in diffs:
            ok = ok and d["U"] == last[d["s"]] and d["u"] > d["U"] and len(d["b"]) + len(d["a"]) == 1
            last[d["s"]] = d["u"]
        T.check("ws new: depth diffs chained per symbol (U == previous u, u > U)", ok and
                {d["s"] for d in diffs} == {"genusd", "genbtc"})
        # requests / errors, snapshot=0 and N
        ws_config("wn", mode="generated", rate=0, count=0)

        async def talk(q, frames, n):
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wn", "/ws" + q)) as ws:
                    for f in frames:
                        await ws.send_str(f if isinstance(f, str) else json.dumps(f))
                    return (await recv(ws, n=n, quiet=2))[0]

        r = run(talk("?snapshot=0", [{"id": 1, "method": "subscribe", "params": ["genusd@depth"]},
                                     {"id": 2, "method": "ping"}, {"id": 3, "method": "LIST_SUBSCRIPTIONS"},
                                     {"id": 4, "method": "foo"}, {"id": 5, "method": "subscribe", "params": ["nosuch@trade"]},
                                     {"id": "x", "method": "subscribe", "params": ["genusd@trade", "genusd@nosuch"]},
                                     {"id": 7, "method": "time"}, "not json"], 8))
        T.check("ws new: snapshot=0 -> ack first, no snapshot", r[:1] == ['{"id":1,"status":200}'], r[:2])
        T.check("ws new: ping, list_subscriptions, unsupported, invalid stream names", r[1:6] == [
            '{"id":2,"status":200}', '{"id":3,"status":200,"result":["genusd@depth"]}',
            '{"id":4,"status":400,"error":{"code":-1020,"msg":"Unsupported operation"}}',
            '{"id":5,"status":400,"error":{"code":-1013,"msg":"Invalid stream name: nosuch@trade"}}',
            '{"id":"x","status":400,"error":{"code":-1013,"msg":"Invalid stream name: genusd@nosuch"}}'], r[1:6])
        T.check("ws new: time, bad JSON", len(r) == 8 and abs(json.loads(r[6])["result"]["serverTime"] / 1000 - time.time()) < 10
                and json.loads(r[7])["status"] == 400, r[6:])
        r = run(talk("?snapshot=5", [{"id": 1, "method": "subscribe", "params": ["genusd@depth"]}], 2))
        d = json.loads(r[0]) if r else {}
        T.check("ws new: snapshot=5 -> 5 levels per side", len(d.get("b", [])) == 5 and len(d.get("a", [])) == 5
                and r[1] == '{"id":1,"status":200}', r)
        # gap fault
        ws_config("wn", mode="generated", rate=0, count=200, close_at_end=True, faults=[{"kind": "gap", "at": 50}])
        a, end, _ = run(session("wn", "/ws?snapshot=-1", {"id": 1, "method": "subscribe", "params": ["genusd@depth"]}))
        m = [json.loads(x) for x in a]
        gaps = []
        last = m[0]["u"] if m else None
        for i, d in enumerate(m[2:], start=3):
            if d["U"] != last:
                gaps.append((i, d["U"] > last, d["u"] > d["U"]))
            last = d["u"]
        T.check("ws new: gap at 50 -> exactly one diff (message 50) with U > previous u", gaps == [(50, True, True)]
                and len(m) == 202 and ws_log("wn")[-1]["gaps_sent"] == 1, gaps)
        # recorded
        T.admin("wnr", "config", {})
        ws_config("wnr", mode="recorded", session="2021-04-17", close_at_end=True)
        a, end, _ = run(session("wnr", "/ws?snapshot=-1", {"id": 7, "method": "subscribe",
                                                           "params": ["btcusd@trade", "btcusd@depth@100ms", "ethusd@trade"]}))
        m = [json.loads(x) for x in a]
        frames = [json.loads(x) for x in session_lines("2021-04-17")]
        snap = next(f for f in frames if f.get("symbol") == "BTCUSD" and "trades" in f)
        exp = []
        for f in frames:
            if f["type"] == "trade" and f["symbol"] in ("BTCUSD", "ETHUSD"):
                exp.append(("t", f["symbol"].lower(), f["event_id"], f["timestamp"] * 1_000_000, f["price"],
                            f["quantity"], f["side"] == "sell"))
            elif f["type"] == "l2_updates" and "trades" not in f and f["symbol"] == "BTCUSD":
                exp.append(("d", "btcusd", sorted([c[1], c[2]] for c in f["changes"] if c[0] == "buy"),
                            sorted([c[1], c[2]] for c in f["changes"] if c[0] == "sell")))
        got = []
        for x in m[2:]:
            if "t" in x:
                got.append(("t", x["s"], x["t"], x["E"], x["p"], x["q"], x["m"]))
            else:
                got.append(("d", x["s"], sorted(x["b"]), sorted(x["a"])))
        s0 = m[0] if m else {}
        T.check("ws new recorded: snapshot from the session's book, then ack",
                s0.get("U") == s0.get("u") and len(s0.get("b", [])) == sum(1 for c in snap["changes"] if c[0] == "buy")
                and len(s0.get("a", [])) == sum(1 for c in snap["changes"] if c[0] == "sell")
                and s0["b"][0][0] == max((c[1] for c in snap["changes"] if c[0] == "buy"), key=float)
                and a[1] == '{"id":7,"status":200}', a[:2] if len(a) > 1 else a)
        T.check("ws new recorded: trades (t=event_id, E=ts*1e6) and depth diffs in session order", got == exp
                and end == "close", (len(got), len(exp), got[:2], exp[:2]))
        last, ok = s0.get("u"), True
        for x in m[2:]:
            if x.get("e") == "depthUpdate":
                ok = ok and x["U"] == last and x["u"] > x["U"]
                last = x["u"]
        T.check("ws new recorded: diffs chained", ok)

    def t_ws_rate():
        """Throughput: 200,000 generated v2 events, read by a raw-socket client."""
        T.admin("bench", "config", {"datasets": {"GENUSD": {"count": 200000, "seed": 1}}, "recorded": False})
        best = None
        for i in range(2):
            ws_config("bench", mode="generated", rate=0, count=200000, seed=1 + i)
            pre = T.truth("bench", "GENUSD")[-1][0]
            n, dt_client = fast_read(T.S.port, "/t/bench/v2/marketdata", v2sub("GENUSD"), 200001)
            time.sleep(0.2)
            r = ws_log("bench")[-1]
            dt = r["t_stream_end"] - r["t_stream_start"]
            rate = r["events_sent"] / dt
            print("ws throughput run %d: server sent %d events in %.3f s = %.0f events/s; client read %d frames "
                  "at %.0f/s (%d trades appended to REST)" % (i + 1, r["events_sent"], dt, rate, n, n / dt_client,
                                                               r["trades_sent"]))
            best = rate if best is None else max(best, rate)
            T.check("ws throughput run %d: all 200,000 events read" % (i + 1), n == 200001 and r["events_sent"] == 200000, (n, r))
            new = [x[0] for x in T.truth("bench", "GENUSD") if x[0] > pre]
            sent = [int(x["tid"]) for x in ws_sent("bench", r["conn_no"]) if x["kind"] == "live"]
            T.check("ws throughput run %d: every trade sent is in REST" % (i + 1), new == sent and len(sent) == r["trades_sent"],
                    (len(new), len(sent)))
        print("ws max generated send rate (server side): %.0f events/s" % best)

    def t_ws_shift():
        """--shift-recorded-to-now: replayed trade timestamps follow REST."""
        s2 = T.Server("--shift-recorded-to-now")
        try:
            st, _, b = T.req("/_admin/t/default/ws", "POST",
                             {"mode": "recorded", "session": "2021-06-23", "close_at_end": True}, base=s2.base)
            out = json.loads(b)
            lines = session_lines("2021-06-23")
            syms = sorted({json.loads(x)["symbol"] for x in lines if '"symbol"' in x})

            async def go():
                async with aiohttp.ClientSession() as s:
                    async with s.ws_connect(s2.base + "/v2/marketdata") as ws:
                        await ws.send_str(json.dumps(v2sub(*syms)))
                        return await recv(ws)

            texts, end, _ = asyncio.run(go())
            rest = {}
            for sym in syms:
                st, _, b = T.req("/_admin/t/default/truth/%s?format=json" % sym, base=s2.base)
                rest[sym] = {r["tid"]: r["timestampms"] for r in json.loads(b)} if st == 200 else {}
            ok, moved = len(texts) == len(lines) and end == "close", 0
            for got, orig in zip(texts, lines):
                g, o = json.loads(got), json.loads(orig)
                lst = [(g, o)] if o["type"] == "trade" else list(zip(g.get("trades", []), o.get("trades", [])))
                for gt, ot in lst:
                    ok = ok and gt["timestamp"] == rest[o["symbol"]].get(ot["event_id"]) and \
                        dict(gt, timestamp=0) == dict(ot, timestamp=0)
                    moved += gt["timestamp"] != ot["timestamp"]
                if not lst:
                    ok = ok and got == orig
            T.check("ws recorded + --shift-recorded-to-now: trade timestamps == REST, rest byte-exact",
                    st == 200 and out["trades_missing_in_rest"] == 0 and ok and moved > 100, (len(texts), end, moved))

            # rest_follows on the shifted server: the live trades come back with their shifted times
            lines = session_lines("2021-04-17")
            live = live_of(lines)
            syms = sorted({json.loads(x)["symbol"] for x in lines if '"symbol"' in x})
            shifted = {}
            for sym in syms:
                st, _, b = T.req("/_admin/t/rfs/truth/%s?format=json" % sym, base=s2.base)
                shifted.update({(sym, r["tid"]): r["timestampms"] for r in json.loads(b)})
            st, _, b = T.req("/_admin/t/rfs/ws", "POST", {"mode": "recorded", "session": "2021-04-17",
                                                           "rest_follows": True, "close_at_end": True}, base=s2.base)
            early = [m["event_id"] for _, sym, m in live if rest_row("rfs", sym, m["event_id"], s2.base)]

            async def go2():
                async with aiohttp.ClientSession() as s:
                    async with s.ws_connect(s2.base + "/t/rfs/v2/marketdata") as ws:
                        await ws.send_str(json.dumps(v2sub(*syms)))
                        return await recv(ws)

            texts, end, _ = asyncio.run(go2())
            got = [m for m in map(json.loads, texts) if m["type"] == "trade"]
            ok = len(got) == len(live) and end == "close"
            for g, (_, sym, m) in zip(got, live):
                ok = ok and g["timestamp"] == shifted[(sym, m["event_id"])] != m["timestamp"] and \
                    same(rest_row("rfs", sym, g["event_id"], s2.base), g) and dict(g, timestamp=0) == dict(m, timestamp=0)
            T.check("ws rest_follows + --shift-recorded-to-now: withheld until sent, then REST == ws message "
                    "with the shifted timestamp", st == 200 and not early and ok, (len(got), end, early[:3]))
        finally:
            s2.stop()
            s2.cleanup()

    def live_of(lines):
        """-> [(line index, SYMBOL, trade message)] of a session's live trade messages."""
        out = []
        for i, ln in enumerate(lines):
            m = json.loads(ln)
            if m["type"] == "trade":
                out.append((i, m["symbol"], m))
        return out

    def rest_row(token, sym, tid, base=None):
        """The trade with this tid as /v1/trades lists it (since_tid cursor), or None."""
        st, _, b = T.req("%s/v1/trades/%s?since_tid=%d&limit_trades=1&include_breaks=true"
                         % (T.pfx(token), sym.lower(), tid - 1), base=base)
        rows = T.as_rows(b) if st == 200 else []
        return rows[0] if rows and rows[0][0] == tid else None

    def same(row, m):
        """REST row (tid, ts, price, amount, side, broken) == v2 trade message m."""
        return row is not None and row[:5] == (m["event_id"], m["timestamp"], m["price"], m["quantity"], m["side"]) \
            and not row[5]

    def t_ws_rest_follows():
        """rest_follows: live trade messages are withheld from REST until the replay sends them."""
        tok = "wrf"
        T.admin(tok, "config", {})
        name = "2021-04-17"
        lines = session_lines(name)
        live = live_of(lines)
        syms = sorted({json.loads(x)["symbol"] for x in lines if '"symbol"' in x})
        want_counts = {}
        for _, sym, _ in live:
            want_counts[sym] = want_counts.get(sym, 0) + 1
        full = {sym: T.truth(tok, sym) for sym in syms}
        snap = {sym: set() for sym in syms}
        for ln in lines:
            m = json.loads(ln)
            for t in (m.get("trades") or []) if m["type"] == "l2_updates" else []:
                snap[m["symbol"]].add(t["event_id"])

        bad = [T.req("/_admin/t/%s/ws" % tok, "POST", b)[0] for b in (
            {"mode": "recorded", "rest_follows": "yes"}, {"mode": "recorded", "rest_follows": 1},
            {"mode": "generated", "rest_follows": True})]
        T.check("ws rest_follows: non-boolean or with mode generated -> 400", bad == [400, 400, 400], bad)
        T.check("ws rest_follows: default false, REST untouched",
                ws_config(tok, mode="recorded", session=name)["config"]["rest_follows"] is False
                and all(T.truth(tok, s) == full[s] for s in syms))

        # 1. set: the live trades leave REST (this namespace only), snapshot trades stay
        out = ws_config(tok, mode="recorded", session=name, rest_follows=True)
        T.check("ws rest_follows: admin reports the withheld live trades per symbol, none missing",
                out["rest_withheld"] == want_counts and out["trades_missing_in_rest"] == 0
                and out["config"]["rest_follows"] is True, out)
        st, _, g = T.get_json("/_admin/t/%s/ws" % tok)
        T.check("ws rest_follows: GET ws shows rest_withheld", g["rest_withheld"] == want_counts, g)
        listed = [(sym, m["event_id"]) for _, sym, m in live if rest_row(tok, sym, m["event_id"]) is not None]
        in_truth = [(sym, m["event_id"]) for _, sym, m in live
                    if m["event_id"] in {r[0] for r in T.truth(tok, sym)}]
        T.check("ws rest_follows: before the ws sends them, /v1/trades and /truth do not list the %d live trades"
                % len(live), not listed and not in_truth, (listed[:5], in_truth[:5]))
        keep_ok = all(T.truth(tok, s) == [r for r in full[s] if r[0] not in {m["event_id"] for _, y, m in live if y == s}]
                      for s in syms)
        T.check("ws rest_follows: every other trade (snapshot trades included) still in REST",
                keep_ok and all(snap[s] <= {r[0] for r in T.truth(tok, s)} for s in syms))
        T.check("ws rest_follows: other namespaces keep the live trades (copy-on-write)",
                all(T.truth("wrfother", s) == full[s] for s in ("BTCUSD", "ETHUSD", "LTCUSD")))

        # 2. a connection stalled after K messages: exactly the live trades of the first K
        #    frames are in REST, with the fields of the ws messages; the later ones are not
        k = live[len(live) // 2][0] + 1         # through the middle live trade
        ws_config(tok, mode="recorded", session=name, rest_follows=True, faults=[{"kind": "stall", "after": k}])
        texts, end, _ = run(session(tok, "/v2/marketdata", v2sub(*syms), quiet=1.0))
        sent = [m for m in map(json.loads, texts) if m["type"] == "trade"]
        before = [m for i, _, m in live if i < k]
        after = [(s, m) for i, s, m in live if i >= k]
        T.check("ws rest_follows: stalled replay sent the session's first %d frames" % k,
                texts == lines[:k] and end == "quiet" and sent == before, (len(texts), end))
        bad = [m["event_id"] for m in sent if not same(rest_row(tok, m["symbol"], m["event_id"]), m)]
        T.check("ws rest_follows: after the ws sent them, REST lists the %d trades with the message's "
                "tid/timestamp/price/amount/side" % len(sent), sent and not bad, bad[:5])
        early = [m["event_id"] for s, m in after if rest_row(tok, s, m["event_id"]) is not None]
        T.check("ws rest_follows: the %d trades not sent yet are still not in REST" % len(after),
                after and not early, early[:5])
        st, _, g = T.get_json("/_admin/t/%s/ws" % tok)
        T.check("ws rest_follows: rest_withheld counts the rest", sum(g["rest_withheld"].values()) == len(after), g)

        # 3. setting the config again puts back what is still withheld, then withholds anew;
        #    a full replay (new API too) publishes each trade by the time the client has it
        out = ws_config(tok, mode="recorded", session=name, rest_follows=True, close_at_end=True)
        T.check("ws rest_follows: config set again withholds all live trades again",
                out["rest_withheld"] == want_counts, out)

        async def follow():
            got, late = [], []
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url(tok, "/v2/marketdata")) as ws:
                    await ws.send_str(json.dumps(v2sub("BTCUSD", "ethusd")))
                    while True:
                        m = await ws.receive(timeout=10)
                        if m.type != aiohttp.WSMsgType.TEXT:
                            break
                        t = json.loads(m.data)
                        if t["type"] == "trade":
                            got.append(t)
                            if not same(rest_row(tok, t["symbol"], t["event_id"]), t):
                                late.append(t["event_id"])
            return got, late

        got, late = run(follow())
        want = [m for _, s, m in live if s in ("BTCUSD", "ETHUSD")]
        T.check("ws rest_follows: each of the %d BTCUSD/ETHUSD trades is in REST (same fields) when received"
                % len(want), got == want and not late, (len(got), late[:5]))
        T.check("ws rest_follows: the replay publishes unsubscribed symbols' trades too; REST == the full data",
                all(T.truth(tok, s) == full[s] for s in syms))
        texts, end, _ = run(session(tok, "/ws", {"id": 1, "method": "subscribe", "params": ["btcusd@trade"]}))
        nt = [json.loads(t) for t in texts if t.startswith('{"E":')]
        wb = [m for _, s, m in live if s == "BTCUSD"]
        T.check("ws rest_follows: a second connection (new API) gets the same trades, REST unchanged",
                [(t["t"], t["E"] // 1_000_000, t["p"], t["q"]) for t in nt] ==
                [(m["event_id"], m["timestamp"], m["price"], m["quantity"]) for m in wb]
                and T.truth(tok, "BTCUSD") == full["BTCUSD"], (len(nt), end))

        # 4. rest_follows false after a stalled replay restores REST completely
        ws_config(tok, mode="recorded", session=name, rest_follows=True, faults=[{"kind": "stall", "after": 3}])
        run(session(tok, "/v2/marketdata", v2sub(*syms), quiet=0.5))
        T.check("ws rest_follows: stalled early, trades still withheld",
                any(T.truth(tok, s) != full[s] for s in syms))
        out = ws_config(tok, mode="recorded", session=name)
        st, _, g = T.get_json("/_admin/t/%s/ws" % tok)
        T.check("ws rest_follows: config without it puts every withheld trade back",
                out["rest_withheld"] == {} and g["rest_withheld"] == {}
                and all(T.truth(tok, s) == full[s] for s in syms), out)

        # 5. a withheld trade below the symbol's newest REST trade goes back in tid order
        #    (LTCUSD of 2021-04-05 lies under 2021-04-17's trades)
        out = ws_config(tok, mode="recorded", session="2021-04-05", rest_follows=True, close_at_end=True)
        lt = [m for _, s, m in live_of(session_lines("2021-04-05")) if s == "LTCUSD"]
        gone = [m["event_id"] for m in lt if rest_row(tok, "LTCUSD", m["event_id"]) is not None]
        texts, end, _ = run(session(tok, "/v2/marketdata", v2sub("LTCUSD")))
        T.check("ws rest_follows 2021-04-05: LTCUSD trades under newer ones withheld, then inserted in tid order",
                out["rest_withheld"].get("LTCUSD") == len(lt) and not gone and end == "close"
                and all(same(rest_row(tok, "LTCUSD", m["event_id"]), m) for m in lt)
                and T.truth(tok, "LTCUSD") == full["LTCUSD"], (out["rest_withheld"], gone))
        ws_config(tok, mode="recorded")

    def t_ws_pings():
        """(--slow only) new API: protocol ping after 20 s; none once stalled."""
        T.admin("wpg", "config", {"datasets": {"GENUSD": {"count": 3000, "seed": 7}}, "recorded": False})
        ws_config("wpg", mode="generated", rate=0, count=5,
                  faults=[{"kind": "stall", "after": 3, "connection": 2}])

        async def watch(delay):
            await asyncio.sleep(delay)
            out = []
            t0 = time.monotonic()
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wpg", "/ws"), autoping=False) as ws:
                    await ws.send_str(json.dumps({"id": 1, "method": "subscribe", "params": ["genusd@trade"]}))
                    while time.monotonic() - t0 < 23:
                        try:
                            m = await ws.receive(timeout=23 - (time.monotonic() - t0))
                        except asyncio.TimeoutError:
                            break
                        out.append((m.type, round(time.monotonic() - t0, 1)))
                        if m.type == aiohttp.WSMsgType.PING:
                            await ws.pong(m.data)
                        elif m.type != aiohttp.WSMsgType.TEXT:
                            break
            return out

        async def both():
            return await asyncio.gather(watch(0), watch(0.3))

        a, b = run(both())
        pings = [t for k, t in a if k == aiohttp.WSMsgType.PING]
        T.check("ws new: protocol ping every 20 s", len(pings) == 1 and 19 < pings[0] < 21.5, a)
        T.check("ws new: stalled connection gets no pings", [k for k, _ in b] == [aiohttp.WSMsgType.TEXT] * 3, b)

    def wait_closed(token, n=1, timeout=5.0):
        """The namespace's last n log rows once they are closed (or after timeout)."""
        t_end = time.monotonic() + timeout
        while True:
            rows = ws_log(token)[-n:]
            if all(r["close_reason"] not in ("open", None) and r["t_close"] for r in rows) or \
                    time.monotonic() > t_end:
                return rows
            time.sleep(0.05)

    def t_ws_faults_frames():
        """binary_invalid_utf8, oversize and close faults."""
        ds = {"GENUSD": {"count": 3000, "seed": 7}}
        T.admin("wx", "config", {"datasets": ds, "recorded": False})
        port = T.S.port
        sub_new = {"id": 1, "method": "subscribe", "params": ["genusd@trade"]}

        # binary_invalid_utf8: binary frames (aiohttp client) before messages 2, 4, 6, 8
        ws_config("wx", mode="generated", rate=0, count=10, close_at_end=True,
                  faults=[{"kind": "binary_invalid_utf8", "at": [2, 4, 6, 8]}])

        async def mixed():
            out = []
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wx", "/v2/marketdata")) as ws:
                    await ws.send_str(json.dumps(v2sub("GENUSD")))
                    while True:
                        m = await ws.receive(timeout=5)
                        if m.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                            return out, m.type
                        out.append((m.type, m.data))

        got, end = run(mixed())
        kinds = "".join("B" if k == aiohttp.WSMsgType.BINARY else "T" for k, _ in got)
        bins = [d for k, d in got if k == aiohttp.WSMsgType.BINARY]
        bad = (b'"symbol":"\xff\xfe"', b'"symbol":"GENUSD\xc0\xaf"', b'"symbol":"GENUSD\xed\xa0\x80"',
               b'"symbol":"GENUSD\xe2\x82"')

        def not_utf8(b):
            try:
                b.decode("utf-8")
                return False
            except UnicodeDecodeError:
                return True

        T.check("ws binary_invalid_utf8 at [2,4,6,8]: a binary frame before each (FF FE, overlong, surrogate, truncated)",
                kinds == "TBTTBTTBTTBTTTT" and end == aiohttp.WSMsgType.CLOSE and len(bins) == 4
                and all(b.startswith(b'{"type":"trade",') and x in b and not_utf8(b) for b, x in zip(bins, bad)),
                (kinds, end, bins[:1]))
        r = ws_log("wx")[-1]
        T.check("ws binary_invalid_utf8: log", r["invalid_utf8_sent"] == 4 and r["messages_sent"] == 11
                and r["malformed_sent"] == 0, r)
        # as text frames (RFC 6455 says a text frame is UTF-8: read with the raw client), new API
        ws_config("wx", mode="generated", rate=0, count=5, close_at_end=True,
                  faults=[{"kind": "binary_invalid_utf8", "at": [1, 3], "opcode": "text"}])
        frames, end = raw_frames(port, "/t/wx/ws?snapshot=-1", sub_new, keep=4096)
        ops = [(f[0], f[1]) for f in frames]
        T.check("ws binary_invalid_utf8 opcode text (new API): invalid UTF-8 in text frames before messages 1 and 3",
                ops[:6] == [(True, 1)] * 6 and ops[-1] == (True, 8) and len(frames) == 2 + 6 + 1
                and frames[0][3].startswith(b'{"E":1600000000000000000,"s":"\xff\xfe","t":999999999,')
                and b'"s":"genusd\xc0\xaf"' in frames[3][3] and not_utf8(frames[0][3]) and not_utf8(frames[3][3])
                and not not_utf8(frames[1][3]) and not not_utf8(frames[2][3]), (ops, [f[3][:60] for f in frames[:4]], end))

        # oversize, complete and small enough to read: content is JSON, fragments as promised
        ws_config("wx", mode="generated", rate=0, count=20, close_at_end=True,
                  faults=[{"kind": "oversize", "after": 3, "bytes": 300000}])
        frames, end = raw_frames(port, "/t/wx/v2/marketdata", v2sub("GENUSD"), quiet=1.0)
        head = b'{"type":"trade","symbol":"GENUSD","pad":"'
        frag = frames[3:]
        T.check("ws oversize 300000 after 3: 3 messages, then fragments 65536 x4 + 37856 (text, cont..., FIN last), "
                "then nothing", [(f[0], f[1]) for f in frames[:3]] == [(True, 1)] * 3 and
                [(f[0], f[1], f[2]) for f in frag] == [(False, 1, 65536)] + [(False, 0, 65536)] * 3 + [(True, 0, 37856)]
                and frag[0][3].startswith(head + b"xxxx") and frag[-1][4].endswith(b'xxx"}') and end == "quiet",
                ([f[:3] for f in frames], end))
        r = wait_closed("wx")[0]
        T.check("ws oversize: log (oversize_bytes_sent, close_reason oversize)", r["oversize_bytes_sent"] == 300000
                and r["messages_sent"] == 3 and r["close_reason"] == "oversize", r)

        async def whole(path, sub):
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wx", path), max_msg_size=0) as ws:
                    await ws.send_str(json.dumps(sub))
                    return await recv(ws, quiet=1.0)

        ws_config("wx", mode="generated", rate=0, count=20, faults=[{"kind": "oversize", "after": 2, "bytes": 300000,
                                                                     "fragment": 1000}])
        texts, end, _ = run(whole("/v2/marketdata", v2sub("GENUSD")))
        T.check("ws oversize: reassembled (aiohttp, fragment 1000) it is one JSON object of exactly 300000 bytes",
                len(texts) == 3 and len(texts[2]) == 300000 and json.loads(texts[2]) == {
                    "type": "trade", "symbol": "GENUSD", "pad": "x" * (300000 - len(head) - 2)} and end == "quiet",
                (len(texts), [len(x) for x in texts], end))
        ws_config("wx", mode="generated", rate=0, count=20, faults=[{"kind": "oversize", "after": 1, "bytes": 20}])
        texts, end, _ = run(whole("/ws?snapshot=-1", sub_new))
        T.check("ws oversize 20 bytes (new API): the first 20 bytes of the JSON text", len(texts) == 2
                and texts[1] == '{"E":160000000000000', (texts, end))

        # 200 MB, read to the end by the raw client: the server never holds it
        def hwm():
            with open("/proc/%d/status" % T.S.proc.pid) as f:
                return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) * 1024

        ws_config("wx", mode="generated", rate=0, count=20, faults=[{"kind": "oversize", "after": 3, "bytes": 200_000_000}])
        hwm0 = hwm()
        t0 = time.monotonic()
        frames, end = raw_frames(port, "/t/wx/v2/marketdata", v2sub("GENUSD"), quiet=1.0)
        dt = time.monotonic() - t0 - 1.0
        frag = frames[3:]
        grew = hwm() - hwm0
        T.check("ws oversize 200 MB: all of it in 3052 fragments (%.1f s), server peak RSS grew %.1f MB"
                % (dt, grew / 1e6), sum(f[2] for f in frag) == 200_000_000 and len(frag) == 3052
                and frag[0][:2] == (False, 1) and frag[-1][:2] == (True, 0)
                and all(f[:2] == (False, 0) for f in frag[1:-1]) and grew < 32e6, (len(frag), grew, end))

        # the client stops reading and closes: the server stops too (one fragment / one huge frame)
        for fragment, name in ((65536, "fragments"), (200_000_000, "one frame")):
            ws_config("wx", mode="generated", rate=0, count=20,
                      faults=[{"kind": "oversize", "after": 3, "bytes": 200_000_000, "fragment": fragment}])
            frames, end = raw_frames(port, "/t/wx/v2/marketdata", v2sub("GENUSD"), stop_after=2_000_000)
            r = wait_closed("wx")[0]
            T.check("ws oversize 200 MB in %s, client closes after 2 MB: server stops (sent %d bytes)"
                    % (name, r["oversize_bytes_sent"]), end == "stopped" and frames[3][:3] == (
                        fragment >= 200_000_000, 1, min(fragment, 200_000_000))
                    and r["close_reason"] == "oversize" and 2_000_000 <= r["oversize_bytes_sent"] < 100_000_000,
                    (frames[3][:3] if len(frames) > 3 else frames, end, r["close_reason"], r["oversize_bytes_sent"]))

        # close with a code and a reason (non-ASCII and a control character included)
        reason = "policy: caf\u00e9 \u0001 end"
        ws_config("wx", mode="generated", rate=0, count=100, faults=[{"kind": "close", "after": 3, "code": 1008,
                                                                      "reason": reason}])

        async def closing():
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url("wx", "/v2/marketdata")) as ws:
                    await ws.send_str(json.dumps(v2sub("GENUSD")))
                    texts, end, _ = await recv(ws)
                    return texts, end, ws.close_code

        texts, end, code = run(closing())
        T.check("ws close after 3 (code 1008, reason): 3 messages then the close frame", len(texts) == 3
                and end == "close" and code == 1008, (len(texts), end, code))
        r = wait_closed("wx")[0]
        T.check("ws close: log", r["close_reason"] == "close" and r["close_code_sent"] == 1008
                and r["messages_sent"] == 3, r)
        ws_config("wx", mode="generated", rate=0, count=100, faults=[{"kind": "close", "after": 2, "code": 4000,
                                                                      "reason": reason}])
        frames, end = raw_frames(port, "/t/wx/ws?snapshot=-1", sub_new)
        T.check("ws close (new API, raw): close payload = code 4000 big-endian + the reason's UTF-8",
                len(frames) == 3 and frames[2][:2] == (True, 8) and frames[2][3] == b"\x0f\xa0" + reason.encode()
                and end == "close", (frames, end))

        # bad fault specs
        bad = [{"kind": "oversize", "after": 1},
               {"kind": "oversize", "bytes": 0},
               {"kind": "oversize", "bytes": 10, "fragment": 0},
               {"kind": "oversize", "bytes": 10, "foo": 1},
               {"kind": "close", "code": 70000},
               {"kind": "close", "reason": "x" * 124},
               {"kind": "close", "reason": 5},
               {"kind": "close", "after": -1},
               {"kind": "binary_invalid_utf8", "at": 0},
               {"kind": "binary_invalid_utf8", "at": [1], "opcode": "ping"},
               {"kind": "binary_invalid_utf8", "after": 1, "at": [1]}]
        sts = [T.req("/_admin/t/wx/ws", "POST", {"faults": [f]})[0] for f in bad]
        T.check("ws admin: bad oversize/close/binary_invalid_utf8 specs -> 400", sts == [400] * len(bad), sts)
        st, _, b = T.req("/_admin/t/wx/ws", "POST", {"faults": [{"kind": "close", "reason": "\u00e9" * 61 + "x"}]})
        T.check("ws admin: close reason of exactly 123 UTF-8 bytes accepted, defaults filled",
                st == 200 and json.loads(b)["config"]["faults"][0] == {
                    "kind": "close", "reason": "\u00e9" * 61 + "x", "after": 0, "code": 1000}, b)

    out = [t_ws_recorded, t_ws_generated, t_ws_faults, t_ws_faults_frames, t_ws_new, t_ws_slow, t_ws_shift,
           t_ws_rest_follows, t_ws_rate]
    if "--slow" in sys.argv:
        out.append(t_ws_pings)
    return out


def raw_frames(port, path, sub, keep=256, stop_after=None, quiet=2.0, max_time=120.0):
    """Raw websocket client that reports frames as sent, without holding
    their payloads: upgrade, one masked subscribe frame, then read frames
    until a close frame (answered), EOF, `quiet` s of silence, or, with
    stop_after, until that many payload bytes have arrived (then the socket
    is closed without a close frame).  -> (frames, end): frames are
    (fin, opcode, length, first `keep` payload bytes, last 16 payload bytes),
    a frame cut short by stop_after included; end is close|eof|quiet|stopped."""
    s, buf = _upgrade(port, path)
    _send_masked(s, 0x81, json.dumps(sub).encode())
    frames = []
    cur = None                  # [fin, opcode, length, left, head bytearray, tail bytes]
    total = 0
    t_end = time.monotonic() + max_time
    s.settimeout(quiet)
    try:
        while True:
            pos, L = 0, len(buf)
            while True:
                if cur is None:
                    if L - pos < 2:
                        break
                    b0, b1 = buf[pos], buf[pos + 1] & 0x7f
                    h = 2 if b1 < 126 else 4 if b1 == 126 else 10
                    if L - pos < h:
                        break
                    n = b1 if b1 < 126 else int.from_bytes(buf[pos + 2:pos + h], "big")
                    cur = [bool(b0 & 0x80), b0 & 0x0f, n, n, bytearray(), b""]
                    pos += h
                take = min(cur[3], L - pos)
                if len(cur[4]) < keep:
                    cur[4] += buf[pos:pos + min(take, keep - len(cur[4]))]
                if take:
                    cur[5] = (cur[5] + bytes(buf[max(pos, pos + take - 16):pos + take]))[-16:]
                cur[3] -= take
                pos += take
                total += take
                if cur[3] == 0:
                    frames.append((cur[0], cur[1], cur[2], bytes(cur[4]), cur[5]))
                    if cur[1] == 8:
                        _send_masked(s, 0x88, bytes(cur[4][:2]))
                        return frames, "close"
                    cur = None
                if stop_after is not None and total >= stop_after:
                    if cur is not None:
                        frames.append((cur[0], cur[1], cur[2], bytes(cur[4]), cur[5]))
                    return frames, "stopped"
                if pos >= L:
                    break
            buf = buf[pos:]
            if time.monotonic() > t_end:
                return frames, "quiet"
            try:
                chunk = s.recv(1 << 20)
            except socket.timeout:
                return frames, "quiet"
            except ConnectionError:
                return frames, "eof"
            if not chunk:
                return frames, "eof"
            buf += chunk
    finally:
        s.close()


def _upgrade(port, path):
    """-> (socket after a 101 answer, bytes already read past the headers)."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("no upgrade answer")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head)
    return s, buf


def _send_masked(s, b0, p):
    """One masked client frame (b0: FIN + opcode) with a payload < 64 KiB."""
    mask = os.urandom(4)
    hdr = bytes((b0, 0x80 | len(p))) if len(p) < 126 else bytes((b0, 0xfe)) + struct.pack(">H", len(p))
    s.sendall(hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(p)))


def fast_read(port, path, sub, want):
    """Minimal websocket client: upgrade, one masked subscribe frame, then
    count frames (headers only) until `want`; -> (frames, seconds)."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, buf = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head)
    p = json.dumps(sub).encode()
    mask = os.urandom(4)
    hdr = bytes((0x81, 0x80 | len(p))) if len(p) < 126 else bytes((0x81, 0xfe)) + struct.pack(">H", len(p))
    s.sendall(hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(p)))
    n = pos = 0
    t0 = time.perf_counter()
    s.settimeout(30)
    while n < want:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf = buf[pos:] + chunk
        pos = 0
        L = len(buf)
        while pos + 2 <= L:
            b1 = buf[pos + 1] & 0x7f
            if b1 < 126:
                h, ln = 2, b1
            elif b1 == 126:
                if pos + 4 > L:
                    break
                h, ln = 4, (buf[pos + 2] << 8) | buf[pos + 3]
            else:
                if pos + 10 > L:
                    break
                h, ln = 10, int.from_bytes(buf[pos + 2:pos + 10], "big")
            if pos + h + ln > L:
                break
            pos += h + ln
            n += 1
    dt = time.perf_counter() - t0
    s.close()
    return n, dt
