"""faults.py -- fault specifications and how a faulted response is produced.

A fault is a dict {"kind": K, "nth": N, "times": T=1, "route": R="trades", ...params}.
It applies to the N-th .. (N+T-1)-th request (1-based) to route R in its
namespace, counted since the namespace's faults were last set (admin
/config or /faults).  R is one of trades, symbols, details, candles, or
"any" (then N counts requests to all four routes together).  When several
faults match one request, "pre-actions" (break_before, append_before) all
run, and the first matching response fault is applied.

Response kinds (params in brackets; every kind also takes [headers] = extra
response headers):
  429           429, Retry-After: [retry_after=1], {"result":"error","reason":"RateLimit",...}
  500           500 text/plain "upstream unavailable" [body]
  502           502 text/plain "Bad Gateway" [body]
  503           503 {"result":"error","reason":"Maintenance",...}
  404_empty     404, empty body
  400           400 {"result":"error","reason":"Bad Request","message":[message]}
  truncated     200 application/json, the real body cut to half its length
                (Content-Length matches the cut body)
  disconnect    200, Content-Length of the full body, half the body is written,
                then the connection is closed (curl: exit 18, partial file)
  slow          sleeps [delay_ms=2000] then sends the real response
  result_error  200 {"result":"error","reason":"System","message":"We are investigating ..."}
  garbage       200 application/json "<html><body>Bad gateway</body></html>" [body]
  huge          200, a valid JSON array of exactly [size=20 MiB] bytes, streamed:
                the real page padded with whitespace ([fill]="whitespace") or with
                the page's elements repeated, then whitespace ([fill]="repeat")
  bad_element   200, the real page with element [index=0] (negative: from the end)
                mutated by [mutation]: missing_tid | price_number | bad_type
                ([type_value="foo"]) | not_object | empty_object | huge_time
                (timestampms 9223372036854775807: converting it to a time
                overflows unless it is bounds-checked first)
Pre-actions (the request itself is then served normally, or by another fault):
  break_before  mark trades [tids] (or [tid]) of [symbol=the request's symbol] broken
  append_before append [count=10] generated trades ([seed=nth]) to [symbol]
"""

import asyncio
import re

from aiohttp import web

from wire import JSON, TEXT, dumps, error_body

ROUTES = ("trades", "symbols", "details", "candles")
PRE_KINDS = ("break_before", "append_before")
RESPONSE_KINDS = ("429", "500", "502", "503", "404_empty", "400", "truncated",
                  "disconnect", "slow", "result_error", "garbage", "huge", "bad_element")
KINDS = RESPONSE_KINDS + PRE_KINDS
# kinds whose response carries the real page (so the log keeps its trade count)
PAGE_KINDS = ("truncated", "disconnect", "slow", "huge", "bad_element")
MUTATIONS = ("missing_tid", "price_number", "bad_type", "not_object", "empty_object", "huge_time")

_COMMON = {"kind", "nth", "times", "route", "headers", "note"}
_PARAMS = {
    "429": {"retry_after", "body"},
    "500": {"body"},
    "502": {"body"},
    "503": {"body"},
    "404_empty": set(),
    "400": {"message", "reason"},
    "truncated": {"ratio"},
    "disconnect": {"ratio"},
    "slow": {"delay_ms"},
    "result_error": set(),
    "garbage": {"body"},
    "huge": {"size", "fill"},
    "bad_element": {"index", "mutation", "type_value"},
    "break_before": {"tids", "tid", "symbol"},
    "append_before": {"symbol", "count", "seed"},
}

HUGE_DEFAULT = 20 * 1024 * 1024
_SPACES = b" " * (1 << 20)


class Fault:
    __slots__ = ("kind", "nth", "times", "route", "p", "spec")

    def __init__(self, spec):
        self.spec = dict(spec)
        self.kind = str(spec["kind"])
        self.nth = int(spec.get("nth", 1))
        self.times = int(spec.get("times", 1))
        self.route = spec.get("route", "trades")
        self.p = spec

    def matches(self, route, n_route, n_any):
        if self.route == "any":
            n = n_any
        elif self.route == route:
            n = n_route
        else:
            return False
        return self.nth <= n < self.nth + self.times


def _int(spec, key, lo=None):
    v = spec.get(key)
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("fault %r: %s must be an integer" % (spec.get("kind"), key))
    if lo is not None and v < lo:
        raise ValueError("fault %r: %s must be >= %d" % (spec.get("kind"), key, lo))


def parse_faults(specs):
    """Validate a list of fault dicts -> list of Fault (ValueError if bad)."""
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise ValueError("faults must be a list")
    out = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise ValueError("each fault must be an object")
        kind = spec.get("kind")
        if isinstance(kind, int) and not isinstance(kind, bool):
            spec = dict(spec, kind=str(kind))
            kind = spec["kind"]
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(KINDS)))
        unknown = set(spec) - _COMMON - _PARAMS[kind]
        if unknown:
            raise ValueError("fault %r: unknown keys %s" % (kind, sorted(unknown)))
        if "nth" not in spec:
            raise ValueError("fault %r: nth is required" % kind)
        _int(spec, "nth", 1)
        _int(spec, "times", 1)
        route = spec.get("route", "trades")
        if route not in ROUTES + ("any",):
            raise ValueError("fault %r: route must be one of %s or any" % (kind, ", ".join(ROUTES)))
        if spec.get("headers") is not None and not isinstance(spec["headers"], dict):
            raise ValueError("fault %r: headers must be an object" % kind)
        for k in ("retry_after", "delay_ms", "size", "index", "count"):
            _int(spec, k, None if k == "index" else 0)
        if kind == "bad_element" and spec.get("mutation", "missing_tid") not in MUTATIONS:
            raise ValueError("fault bad_element: mutation must be one of %s" % ", ".join(MUTATIONS))
        if kind == "huge" and spec.get("fill", "whitespace") not in ("whitespace", "repeat"):
            raise ValueError("fault huge: fill must be whitespace or repeat")
        if kind == "break_before":
            tids = spec.get("tids", [spec["tid"]] if "tid" in spec else None)
            if not isinstance(tids, list) or not tids or not all(
                    isinstance(t, int) and not isinstance(t, bool) for t in tids):
                raise ValueError("fault break_before: tids must be a non-empty list of integers")
        if kind in PRE_KINDS and route not in ("trades", "candles") and not spec.get("symbol"):
            raise ValueError("fault %s: symbol is required unless route is trades or candles" % kind)
        for k in ("ratio",):
            if k in spec and not (isinstance(spec[k], (int, float)) and 0 <= spec[k] <= 1):
                raise ValueError("fault %r: ratio must be between 0 and 1" % kind)
        out.append(Fault(spec))
    return out


def match(faults, route, n_route, n_any):
    """-> (list of matching pre-action faults, first matching response fault or None)."""
    pre, resp = [], None
    for f in faults:
        if f.matches(route, n_route, n_any):
            if f.kind in PRE_KINDS:
                pre.append(f)
            elif resp is None:
                resp = f
    return pre, resp


# ---------------------------------------------------------------------------
# producing the faulted response
# ---------------------------------------------------------------------------

def _hdrs(f, extra=None):
    h = dict(f.p.get("headers") or {})
    if extra:
        for k, v in extra.items():
            h.setdefault(k, v)
    return h or None


def _resp(f, status, body, ctype=JSON, extra=None):
    return web.Response(status=status, body=body, content_type=ctype, headers=_hdrs(f, extra))


_TID_RE = re.compile(r'"tid":"?-?\d+"?,?')
_PRICE_RE = re.compile(r'"price":"([^"]*)"')
_TSMS_RE = re.compile(r'"timestampms":"?-?\d+"?')
_TYPE_RE = re.compile(r'"type":"[^"]*"')


def mutate_element(text, mutation, type_value="foo", is_trade=True):
    if mutation == "not_object":
        return '"not an object"'
    if mutation == "empty_object":
        return "{}"
    if not is_trade:
        return "null"
    if mutation == "missing_tid":
        return _TID_RE.sub("", text, count=1)
    if mutation == "price_number":
        return _PRICE_RE.sub(r'"price":\1', text, count=1)
    if mutation == "bad_type":
        return _TYPE_RE.sub('"type":%s' % dumps(type_value).decode(), text, count=1)
    if mutation == "huge_time":
        return _TSMS_RE.sub('"timestampms":9223372036854775807', text, count=1)
    return text


async def respond(f, request, reply, route):
    """The web response for request under fault f, given the real reply."""
    k = f.kind
    p = f.p
    if k == "429":
        body = p.get("body")
        body = body.encode() if isinstance(body, str) else error_body("RateLimit", "Rate limit exceeded")
        return _resp(f, 429, body, extra={"Retry-After": str(p.get("retry_after", 1))})
    if k == "500":
        return _resp(f, 500, str(p.get("body", "upstream unavailable")).encode(), TEXT)
    if k == "502":
        return _resp(f, 502, str(p.get("body", "Bad Gateway")).encode(), TEXT)
    if k == "503":
        body = p.get("body")
        body = body.encode() if isinstance(body, str) else error_body(
            "Maintenance", "The Gemini Exchange is currently undergoing maintenance.")
        return _resp(f, 503, body)
    if k == "404_empty":
        return web.Response(status=404, body=b"", headers=_hdrs(f))
    if k == "400":
        return _resp(f, 400, error_body(p.get("reason", "Bad Request"),
                                        p.get("message", "Bad request (injected fault)")))
    if k == "result_error":
        return _resp(f, 200, error_body(
            "System", "We are investigating technical issues with the Gemini Exchange."))
    if k == "garbage":
        return _resp(f, 200, str(p.get("body", "<html><body>Bad gateway</body></html>")).encode())
    if k == "slow":
        await asyncio.sleep(p.get("delay_ms", 2000) / 1000.0)
        return _real(f, reply)
    if k == "truncated":
        body = reply.body
        cut = body[: int(len(body) * p.get("ratio", 0.5))]
        return web.Response(status=200, body=cut, content_type=reply.ctype or JSON, headers=_hdrs(f))
    if k == "bad_element":
        items = reply.items
        if not items:
            return _real(f, reply)
        idx = p.get("index", 0)
        if idx < 0:
            idx += len(items)
        idx = max(0, min(len(items) - 1, idx))
        items = list(items)
        items[idx] = mutate_element(items[idx], p.get("mutation", "missing_tid"),
                                    p.get("type_value", "foo"), route == "trades")
        body = ("[" + ",".join(items) + "]").encode()
        return web.Response(status=200, body=body, content_type=JSON, headers=_hdrs(f))
    if k == "disconnect":
        return await _disconnect(f, request, reply)
    if k == "huge":
        return await _huge(f, request, reply)
    return _real(f, reply)


def _real(f, reply):
    h = _hdrs(f, reply.headers)
    if reply.ctype is None:
        return web.Response(status=reply.status, body=reply.body, headers=h)
    return web.Response(status=reply.status, body=reply.body, content_type=reply.ctype, headers=h)


async def _disconnect(f, request, reply):
    body = reply.body
    resp = web.StreamResponse(status=200, headers=_hdrs(f))
    resp.content_type = reply.ctype or JSON
    resp.content_length = len(body)
    await resp.prepare(request)
    part = body[: int(len(body) * f.p.get("ratio", 0.5))]
    try:
        if part:
            await resp.write(part)
    except ConnectionError:
        return resp
    tr = request.transport
    if tr is not None:
        tr.close()          # flushes what was written, then closes: a short body
    # aiohttp treats the closed transport as a client disconnect from here on
    return resp


async def _huge(f, request, reply):
    items = reply.items or []
    fill = f.p.get("fill", "whitespace")
    head = ("[" + ",".join(items)).encode() if items else b"["
    size = max(f.p.get("size", HUGE_DEFAULT), len(head) + 1)
    resp = web.StreamResponse(status=200, headers=_hdrs(f))
    resp.content_type = JSON
    resp.content_length = size
    await resp.prepare(request)
    try:
        sent = len(head)
        await resp.write(head)
        if fill == "repeat" and items:
            chunk = ("," + ",".join(items)).encode()
            while sent + len(chunk) + 1 <= size:
                await resp.write(chunk)
                sent += len(chunk)
        pad = size - sent - 1
        while pad > 0:
            n = min(pad, len(_SPACES))
            await resp.write(_SPACES if n == len(_SPACES) else _SPACES[:n])
            pad -= n
        await resp.write(b"]")
        await resp.write_eof()
    except ConnectionError:
        pass                # the client gave up (e.g. a response size limit): fine
    return resp
