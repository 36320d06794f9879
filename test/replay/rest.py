"""rest.py -- Gemini's public REST routes, as api.gemini.com serves them.

Every route exists at the root (namespace "default") and under /t/<token>/
([A-Za-z0-9_-]+), each token being an independent namespace (state.py).

  GET /v1/symbols                     ["btcusd",...]: fixture symbol list + dataset symbols
  GET /v1/symbols/details/:symbol     the fixture line byte-exact, else synthesized;
                                      unknown -> 400 InvalidSymbol
  GET /v1/trades/:symbol              see below
  GET /v2/candles/:symbol/:time_frame 1m 5m 15m 30m 1hr 6hr 1day, computed from the
                                      non-broken trades, newest first, <= 1440 candles
  anything else                       404 with an empty body

/v1/trades/:symbol (symbol case-insensitive) query parameters:
  since_tid=N      trades with tid > N.  Beats timestamp (which is then ignored).
  timestamp=T      (alias since=T) trades with timestampms >= the instant T,
                   inclusive.  T >= 1e11 is milliseconds, smaller T is seconds
                   (converted as T*1000).  Example: timestamp=1767657600 and
                   timestamp=1767657600000 both include a trade at ...600000.
  limit_trades=L   1..500, default 50.  0/negative/>500/non-integer -> 400
                   {"result":"error","reason":"InvalidParameter","message":...}
  include_breaks   "true" or "1" (any case): broken trades are included and every
                   object carries "broken":true|false; otherwise broken trades
                   are left out and no object has a "broken" key.
  With since_tid or timestamp the page holds the OLDEST L trades after the
  cursor; with neither, the newest L.  Either way the page lists them newest
  first.  Unknown symbol -> 400 {"result":"error","reason":"InvalidSymbol",
  "message":"Received unsupported symbol 'nosuch'"}.  A known symbol without
  trades gives [].  Gemini's 7-day / 90-day windows are NOT imitated (the
  generated data lives in early 2026 and must stay reachable).

The symbol is checked before the parameters.  Handlers do little work per
request: pages are joined from pre-rendered trade texts (data.View.page);
the only log is the namespace's request log (aiohttp's access log is off).
"""

import time

import data
import faults as faults_mod
from wire import Reply, array_reply, empty_404, invalid_parameter, invalid_symbol

TOKEN = "{token:[A-Za-z0-9_-]+}"
MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def _int(s):
    """Strict decimal integer (optional '-') or None."""
    if s and s.isascii():
        if s.isdigit():
            return int(s)
        if s[0] == "-" and s[1:].isdigit():
            return int(s)
    return None


def parse_trades_query(q):
    """-> (limit, since_tid, ts_from_ms, include_breaks, raw_timestamp) or a Reply (400)."""
    limit = DEFAULT_LIMIT
    v = q.get("limit_trades")
    if v is not None:
        limit = _int(v)
        if limit is None:
            return invalid_parameter("limit_trades must be an integer")
        if limit < 1:
            return invalid_parameter("limit_trades must be at least 1")
        if limit > MAX_LIMIT:
            return invalid_parameter("limit_trades must be at most 500")
    since_tid = None
    v = q.get("since_tid")
    if v is not None:
        since_tid = _int(v)
        if since_tid is None or since_tid < 0:
            return invalid_parameter("since_tid must be a non-negative integer")
    ts_from = None
    raw_ts = q.get("timestamp")
    if raw_ts is None:
        raw_ts = q.get("since")
    if raw_ts is not None:
        ts_from = _int(raw_ts)
        if ts_from is None or ts_from < 0:
            return invalid_parameter("timestamp must be a non-negative integer")
        if ts_from < 100_000_000_000:
            ts_from *= 1000
    ib = q.get("include_breaks")
    include_breaks = ib is not None and ib.lower() in ("true", "1")
    return limit, since_tid, ts_from, include_breaks, raw_ts


def trades_reply(ns, symbol, q):
    sym = symbol.upper()
    ds = ns.datasets.get(sym)
    if ds is None and not ns.knows(sym):
        return invalid_symbol(symbol), None
    parsed = parse_trades_query(q)
    if isinstance(parsed, Reply):
        return parsed, None
    limit, since_tid, ts_from, include_breaks, _ = parsed
    if ds is None:
        return array_reply([]), parsed
    items, first, last = ds.view(include_breaks).page(
        since_tid, None if since_tid is not None else ts_from, limit)
    r = Reply(200, ("[" + ",".join(items) + "]").encode(), items=items,
              n=len(items), first_tid=first, last_tid=last)
    return r, parsed


def candles_reply(ns, symbol, frame):
    sym = symbol.upper()
    ds = ns.datasets.get(sym)
    if ds is None and not ns.knows(sym):
        return invalid_symbol(symbol)
    frame_ms = data.FRAMES.get(frame)
    if frame_ms is None:
        return invalid_parameter("Invalid time_frame '%s' (use %s)" % (frame, ", ".join(data.FRAMES)))
    if ds is None:
        return array_reply([])
    parts, body = ds.candles(frame_ms)
    return Reply(200, body, items=parts, n=len(parts))


async def _finish(request, ns, route, t0, reply, fault, pre, parsed=None):
    """Send reply (or its faulted form) and write the request log entry."""
    status = reply.status
    fname = None
    if pre:
        fname = "+".join(f.kind for f in pre)
    if fault is not None:
        fname = fault.kind if fname is None else fname + "+" + fault.kind
    try:
        if fault is None:
            resp = reply.response()
        else:
            resp = await faults_mod.respond(fault, request, reply, route)
            status = resp.status
        return resp
    finally:
        if parsed is not None:
            limit, since_tid, _, include_breaks, raw_ts = parsed
        else:
            limit = since_tid = raw_ts = include_breaks = None
        if fault is None or fault.kind in faults_mod.PAGE_KINDS:
            n, first, last = reply.n, reply.first_tid, reply.last_tid
        else:
            n = first = last = None
        ns.record(t0, time.time(), route, request.rel_url.raw_path, request.query_string,
                  status, fname, n, first, last, limit, since_tid, raw_ts, include_breaks)


def _ns(request):
    return request.app["registry"].get(request.match_info.get("token", "default"))


async def handle_trades(request):
    t0 = time.time()
    ns = _ns(request)
    pre, fault = ns.begin("trades")
    symbol = request.match_info["symbol"]
    for f in pre:
        ns.run_pre(f, symbol)
    reply, parsed = trades_reply(ns, symbol, request.query)
    return await _finish(request, ns, "trades", t0, reply, fault, pre, parsed)


async def handle_symbols(request):
    t0 = time.time()
    ns = _ns(request)
    pre, fault = ns.begin("symbols")
    for f in pre:
        ns.run_pre(f, None)
    syms = ns.symbols()
    reply = Reply(200, ns.symbols_body(), items=['"%s"' % s for s in syms] if fault else None,
                  n=len(syms))
    return await _finish(request, ns, "symbols", t0, reply, fault, pre)


async def handle_details(request):
    t0 = time.time()
    ns = _ns(request)
    pre, fault = ns.begin("details")
    symbol = request.match_info["symbol"]
    for f in pre:
        ns.run_pre(f, symbol)
    body = ns.details(symbol.upper())
    reply = invalid_symbol(symbol) if body is None else Reply(200, body)
    return await _finish(request, ns, "details", t0, reply, fault, pre)


async def handle_candles(request):
    t0 = time.time()
    ns = _ns(request)
    pre, fault = ns.begin("candles")
    symbol = request.match_info["symbol"]
    for f in pre:
        ns.run_pre(f, symbol)
    reply = candles_reply(ns, symbol, request.match_info["time_frame"])
    return await _finish(request, ns, "candles", t0, reply, fault, pre)


async def handle_not_found(request):
    """Any other path: 404 with an empty body (logged as route "notfound")."""
    t0 = time.time()
    path = request.rel_url.raw_path
    token = "default"
    if path.startswith("/t/"):
        tok = path[3:].split("/", 1)[0]
        if tok and all(c.isascii() and (c.isalnum() or c in "_-") for c in tok):
            token = tok
    ns = request.app["registry"].get(token)
    reply = empty_404()
    ns.record(t0, time.time(), "notfound", path, request.query_string, 404, None)
    return reply.response()


def add_routes(app):
    """Register the Gemini REST routes (root and /t/<token>/ prefixed)."""
    for prefix in ("", "/t/" + TOKEN):
        app.router.add_get(prefix + "/v1/symbols", handle_symbols)
        app.router.add_get(prefix + "/v1/symbols/details/{symbol}", handle_details)
        app.router.add_get(prefix + "/v1/trades/{symbol}", handle_trades)
        app.router.add_get(prefix + "/v2/candles/{symbol}/{time_frame}", handle_candles)


def add_fallback(app):
    """The catch-all 404; must be registered after every other route."""
    app.router.add_route("*", "/{tail:.*}", handle_not_found)
