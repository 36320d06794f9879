"""ws.py -- the websocket side of the replay server: routes and admin API.

Routes (root = namespace "default", /t/<token>/ = that namespace):
  GET /v2/marketdata[/]           Market Data v2 (ws_v2.py)
  GET /ws, /, /t/<token>[/]       the new WebSocket API (ws_new.py), ?snapshot=-1|0|N
  A plain GET (no upgrade) on these paths is the usual empty 404.

Admin (JSON; errors 400 {"ok":false,"error":...}):
  POST /_admin/t/<token>/ws       set the ws config (keys, defaults, faults: ws_config.py);
                                  -> {"ok":true,"config":{..},"session":{..},
                                      "trades_missing_in_rest":N,"missing_sample":[..],
                                      "rest_withheld":{SYMBOL:N}}
                                  (the rest for recorded mode: session trades the
                                  namespace's REST data lacks, checked before any
                                  withholding, so 0 with recorded datasets; with
                                  rest_follows the live trades taken out of REST until
                                  the replay reaches them, else {}).  Any set first puts
                                  back what a previous rest_follows config still withholds.
  GET  /_admin/t/<token>/ws       config, counters, available sessions, rest_withheld
                                  (the trades still withheld, per symbol)
  GET  /_admin/t/<token>/ws/log   ?format=csv|json: one row per connection (ws_config.LOG_FIELDS)
  GET  /_admin/t/<token>/ws/sent  ?format=csv|json [&conn_no=N]: every trade sent
                                  (conn_no, seq, tid, symbol, send_time_ms, send_time_us, kind)

A connection's lifecycle: upgrade (or HTTP 503 while a reject_connect fault
has attempts left), a Stream per protocol reading client frames, one send
task (plus a heartbeat task for v2 generated), and a log row that ends with
close_reason normal (server closed: close_at_end or shutdown), client,
drop, stall (the connection was stalled when it ended), oversize (an
oversize fault's message was started), close (a close fault's close frame
was sent), rejected, or ping_timeout (new API: no pong within 10 s of a
protocol ping; aiohttp closes such connections).  Rows of open connections
say "open".
"""

import asyncio
import json
import logging
import time

from aiohttp import WSMsgType, web

import rest
import ws_config
import ws_session
from rest import TOKEN
from ws_conn import Conn
from ws_new import NewStream
from ws_v2 import V2Stream

log = logging.getLogger("replay")
MAX_MSG = 4 * 1024 * 1024


class Ctx:
    __slots__ = ("registry", "token", "fixtures_dir", "withheld")

    def __init__(self, registry, token, withheld=None):
        self.registry = registry
        self.token = token
        self.fixtures_dir = registry.fixtures.dir
        self.withheld = withheld    # ws_config.Withheld of the connection's config, or None


def ws_ns(app, token):
    d = app["ws_ns"]
    w = d.get(token)
    if w is None:
        w = d[token] = ws_config.WsNamespace(token)
    return w


async def _handle(request, api):
    app = request.app
    probe = web.WebSocketResponse()
    if not probe.can_prepare(request).ok:
        return await rest.handle_not_found(request)
    token = request.match_info.get("token", "default")
    wsn = ws_ns(app, token)
    cfg = wsn.cfg
    row = wsn.open_row(api, request.rel_url.raw_path, request.query_string)
    row.t_open = time.time()
    if wsn.reject_left > 0:
        wsn.reject_left -= 1
        row.close_reason = "rejected"
        row.t_close = time.time()
        return web.Response(status=503, content_type="application/json",
                            body=b'{"result":"error","reason":"Maintenance",'
                                 b'"message":"Service unavailable (injected reject_connect)"}')
    wsn.accepted += 1
    row.accepted_no = wsn.accepted
    ws = web.WebSocketResponse(heartbeat=20.0 if api == "new" else None, compress=False,
                               max_msg_size=MAX_MSG, timeout=2.0)
    await ws.prepare(request)
    conn = Conn(ws, row, wsn.sent, ws_config.ConnFaults(cfg["faults"], row.accepted_no), api)
    cls = V2Stream if api == "v2" else NewStream
    stream = cls(conn, Ctx(app["registry"], token, wsn.withheld), cfg, row, request.query)
    app["ws_open"].add(conn)
    try:
        if conn.state != "drop":
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await stream.on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await stream.on_text(msg.data.decode("utf-8", "replace"))
                else:
                    break
    except (ConnectionError, asyncio.TimeoutError) as e:
        log.info("ws conn %d: %s", row.conn_no, e)
    finally:
        await stream.stop()
        await conn.finish()
        app["ws_open"].discard(conn)
        conn.flush()
        row.t_close = time.time()
        if row.close_reason == "open":
            # aiohttp closes the socket itself when a protocol ping gets no pong
            timeout = isinstance(ws.exception(), asyncio.TimeoutError)
            row.close_reason = "ping_timeout" if timeout else "client"
    return ws


async def handle_v2(request):
    return await _handle(request, "v2")


async def handle_new(request):
    return await _handle(request, "new")


async def on_shutdown(app):
    """Close open websockets (close frame 1001) so the server stops promptly."""
    conns = list(app["ws_open"])
    for c in conns:
        if c.row.close_reason == "open":
            c.row.close_reason = "normal"
        c.flush()
    await asyncio.gather(*(asyncio.wait_for(c.ws.close(code=1001, message=b"server shutdown"), 1.5)
                           for c in conns), return_exceptions=True)


# ---- admin --------------------------------------------------------------------------------

def _ok(obj, status=200):
    return web.Response(status=status, body=json.dumps(obj, separators=(",", ":")).encode(),
                        content_type="application/json")


def _err(msg, status=400):
    return _ok({"ok": False, "error": msg}, status)


async def admin_set(request):
    app = request.app
    reg = app["registry"]
    token = request.match_info["token"]
    fx_dir = reg.fixtures.dir
    try:
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        cfg = ws_config.parse_config(body, ws_session.names(fx_dir))
    except (ValueError, TypeError) as e:
        return _err(str(e))
    wsn = ws_ns(app, token)
    ns = reg.get(token)
    if wsn.withheld is not None:
        wsn.withheld.restore(ns)
    withheld = None
    out = {"ok": True, "config": cfg}
    if cfg["mode"] == "recorded":
        s = ws_session.load(fx_dir, cfg["session"])
        missing = ws_session.missing_in_rest(s, ns)
        out.update(session=s.summary(), trades_missing_in_rest=len(missing),
                   missing_sample=missing[:10])
        if cfg["rest_follows"]:
            withheld = ws_config.Withheld(ns, ws_session.withhold(s, ns))
        out["rest_withheld"] = withheld.pending() if withheld else {}
    wsn.set_config(cfg, withheld)
    return _ok(out)


async def admin_get(request):
    app = request.app
    w = ws_ns(app, request.match_info["token"])
    out = {"ok": True, "sessions": ws_session.names(app["registry"].fixtures.dir)}
    out.update(w.summary())
    return _ok(out)


async def admin_log(request):
    w = ws_ns(request.app, request.match_info["token"])
    fmt = request.query.get("format", "csv")
    if fmt == "csv":
        return web.Response(body=ws_config.log_csv(w.rows).encode(), content_type="text/csv")
    if fmt == "json":
        return web.Response(body=ws_config.log_json(w.rows).encode(), content_type="application/json")
    return _err("format must be csv or json")


async def admin_sent(request):
    w = ws_ns(request.app, request.match_info["token"])
    rows = w.sent
    c = request.query.get("conn_no")
    if c:
        try:
            c = int(c)
        except ValueError:
            return _err("conn_no must be an integer")
        rows = [r for r in rows if r[0] == c]
    fmt = request.query.get("format", "csv")
    if fmt == "csv":
        return web.Response(body=ws_config.sent_csv(rows).encode(), content_type="text/csv")
    if fmt == "json":
        return web.Response(body=ws_config.sent_json(rows).encode(), content_type="application/json")
    return _err("format must be csv or json")


def add_routes(app):
    """Register the websocket and ws-admin routes (before the 404 fallback)."""
    app["ws_ns"] = {}
    app["ws_open"] = set()
    app.on_shutdown.append(on_shutdown)
    for prefix in ("", "/t/" + TOKEN):
        app.router.add_get(prefix + "/v2/marketdata", handle_v2)
        app.router.add_get(prefix + "/v2/marketdata/", handle_v2)
        app.router.add_get(prefix + "/ws", handle_new)
    app.router.add_get("/", handle_new)
    app.router.add_get("/t/" + TOKEN, handle_new)
    app.router.add_get("/t/" + TOKEN + "/", handle_new)
    p = "/_admin/t/" + TOKEN
    app.router.add_post(p + "/ws", admin_set)
    app.router.add_get(p + "/ws", admin_get)
    app.router.add_get(p + "/ws/log", admin_log)
    app.router.add_get(p + "/ws/sent", admin_sent)
