"""wire.py -- what goes on the wire: the Reply value and Gemini-style bodies.

A route handler first computes the Reply it would send when nothing goes
wrong (status, content type, body bytes, and for list bodies the element
texts); faults.py may then turn that Reply into something else.  Keeping the
"real" reply as a value lets every fault work on any route, and lets a future
websocket module reuse the body helpers.
"""

import json

from aiohttp import web

JSON = "application/json"
TEXT = "text/plain"


class Reply:
    """The response a route would send, before faults.

    items: the JSON texts of the body's array elements in body order (so a
    fault can rebuild or mutate the array), or None for non-array bodies.
    n/first_tid/last_tid describe a trades page for the request log
    (first = first element as sent = newest)."""

    __slots__ = ("status", "ctype", "body", "headers", "items", "n", "first_tid", "last_tid")

    def __init__(self, status, body, ctype=JSON, items=None, headers=None,
                 n=None, first_tid=None, last_tid=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.items = items
        self.headers = headers
        self.n = n
        self.first_tid = first_tid
        self.last_tid = last_tid

    def response(self):
        if self.ctype is None:
            return web.Response(status=self.status, body=self.body, headers=self.headers)
        return web.Response(status=self.status, body=self.body, content_type=self.ctype,
                            headers=self.headers)


def dumps(obj):
    """Compact JSON, as Gemini sends it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def error_body(reason, message):
    return dumps({"result": "error", "reason": reason, "message": message})


def api_error(status, reason, message):
    return Reply(status, error_body(reason, message))


def invalid_symbol(symbol):
    return api_error(400, "InvalidSymbol", "Received unsupported symbol '%s'" % symbol.lower())


def invalid_parameter(message):
    return api_error(400, "InvalidParameter", message)


def empty_404():
    """Gemini's conformance fixture: 404 with an empty body."""
    return Reply(404, b"", ctype=None)


def array_reply(items):
    """200 with a JSON array built from element texts (str)."""
    return Reply(200, ("[" + ",".join(items) + "]").encode(), items=items, n=len(items))
