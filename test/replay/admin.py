"""admin.py -- the JSON admin API that tests use to drive the replay server.

  GET  /_admin/health                      {"ok":true}
  POST /_admin/t/<token>/config            {"faults":[...], "datasets":{SYM:{count,seed,start,
                                           span_seconds,bad_times,ints_as_strings,price_base,
                                           price_decimals,broken_rate,giant_bursts,tid_start}},
                                           "recorded":true}
                                           -> resets the namespace completely (datasets, faults,
                                           counters, log); {"ok":true,"symbols":{SYM:count}}
  POST /_admin/t/<token>/faults            {"faults":[...]}: replace faults, reset route counters
  POST /_admin/t/<token>/append            {"symbol","count","seed"[,"span_seconds","start"]}:
                                           newer trades (tids above the max, timestamps after the
                                           last); -> {"ok":true,"first_tid","last_tid","count","total"}
  POST /_admin/t/<token>/break             {"symbol","tids":[...][,"broken":true]}
                                           -> {"ok":true,"changed":[...],"missing":[...]}
  GET  /_admin/t/<token>/truth/<SYMBOL>    ?format=csv|json [&from_ms=..][&to_ms=..]
                                           CSV header tid,timestampms,price,amount,side,broken;
                                           by tid, broken trades included; from inclusive, to exclusive
  GET  /_admin/t/<token>/log               ?format=csv|json [&since_seq=N]: the request log
  GET  /_admin/t/<token>/state             datasets summary, faults, counters
  GET  /_admin/namespaces                  tokens in use

Errors are 400/404 {"ok":false,"error":"..."}.  Fault specs: see faults.py.
The default namespace is token "default".
"""

import json

from aiohttp import web

import data
import faults as faults_mod
import state
from rest import TOKEN


def _ok(obj, status=200):
    return web.Response(status=status, body=json.dumps(obj, separators=(",", ":")).encode(),
                        content_type="application/json")


def _err(msg, status=400):
    return _ok({"ok": False, "error": msg}, status)


async def _body(request):
    raw = await request.read()
    if not raw.strip():
        return {}
    return json.loads(raw)


def _token(request):
    return request.match_info["token"]


async def health(request):
    return _ok({"ok": True})


async def namespaces(request):
    return _ok({"ok": True, "namespaces": sorted(request.app["registry"].namespaces)})


async def config(request):
    reg = request.app["registry"]
    try:
        cfg = await _body(request)
        ns = reg.configure(_token(request), cfg)
    except (ValueError, TypeError, KeyError) as e:
        return _err(str(e))
    return _ok({"ok": True, "symbols": {s: len(d) for s, d in sorted(ns.datasets.items())}})


async def set_faults(request):
    ns = request.app["registry"].get(_token(request))
    try:
        body = await _body(request)
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        fl = faults_mod.parse_faults(body.get("faults") or [])
    except (ValueError, TypeError, KeyError) as e:
        return _err(str(e))
    ns.set_faults(fl)
    return _ok({"ok": True, "faults": len(fl)})


async def append(request):
    ns = request.app["registry"].get(_token(request))
    try:
        body = await _body(request)
        sym = str(body["symbol"]).upper()
        if not sym.isalnum():
            raise ValueError("bad symbol")
        count = int(body.get("count", 10))
        if count < 1:
            raise ValueError("count must be >= 1")
        opts = {}
        if body.get("span_seconds") is not None:
            opts["span_s"] = float(body["span_seconds"])
        if body.get("start") is not None:
            opts["start_ms"] = data.parse_instant(body["start"])
        for k in ("price_base", "price_decimals", "broken_rate"):
            if body.get(k) is not None:
                opts[k] = body[k]
        first, last = ns.append(sym, count, body.get("seed", 1), **opts)
    except (ValueError, TypeError, KeyError) as e:
        return _err("append: %s" % (e,))
    ds = ns.datasets[sym]
    return _ok({"ok": True, "symbol": sym, "first_tid": first, "last_tid": last,
                "count": count, "total": len(ds)})


async def break_(request):
    ns = request.app["registry"].get(_token(request))
    try:
        body = await _body(request)
        sym = str(body["symbol"]).upper()
        tids = body.get("tids")
        if not isinstance(tids, list) or not all(isinstance(t, int) and not isinstance(t, bool)
                                                 for t in tids):
            raise ValueError("tids must be a list of integers")
        changed, missing = ns.break_trades(sym, tids, bool(body.get("broken", True)))
    except KeyError as e:
        return _err("unknown symbol %s" % (e,), 404)
    except (ValueError, TypeError) as e:
        return _err(str(e))
    return _ok({"ok": True, "changed": changed, "missing": missing})


def _opt_int(q, key):
    v = q.get(key)
    if v is None or v == "":
        return None
    return int(v)


async def truth(request):
    ns = request.app["registry"].get(_token(request))
    sym = request.match_info["symbol"].upper()
    ds = ns.datasets.get(sym)
    if ds is None:
        return _err("no dataset for symbol %s" % sym, 404)
    try:
        lo, hi = _opt_int(request.query, "from_ms"), _opt_int(request.query, "to_ms")
    except ValueError:
        return _err("from_ms/to_ms must be integers")
    fmt = request.query.get("format", "csv")
    if fmt == "csv":
        return web.Response(body=ds.truth_csv(lo, hi).encode(), content_type="text/csv")
    if fmt == "json":
        rows = [{"tid": i, "timestampms": t, "price": p, "amount": a, "side": s, "broken": bool(b)}
                for i, t, p, a, s, b in ds.truth_rows(lo, hi)]
        return _ok(rows)
    return _err("format must be csv or json")


def _csv_field(v):
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


async def log(request):
    ns = request.app["registry"].get(_token(request))
    try:
        since = _opt_int(request.query, "since_seq") or 0
    except ValueError:
        return _err("since_seq must be an integer")
    entries = [e for e in ns.log if e[0] > since]
    fmt = request.query.get("format", "csv")
    if fmt == "csv":
        lines = [",".join(state.LOG_FIELDS)]
        lines.extend(",".join(_csv_field(v) for v in e) for e in entries)
        lines.append("")
        return web.Response(body="\n".join(lines).encode(), content_type="text/csv")
    if fmt == "json":
        return _ok([dict(zip(state.LOG_FIELDS, e)) for e in entries])
    return _err("format must be csv or json")


async def ns_state(request):
    ns = request.app["registry"].get(_token(request))
    return _ok(ns.state())


def add_routes(app):
    p = "/_admin/t/" + TOKEN
    app.router.add_get("/_admin/health", health)
    app.router.add_get("/_admin/namespaces", namespaces)
    app.router.add_post(p + "/config", config)
    app.router.add_post(p + "/faults", set_faults)
    app.router.add_post(p + "/append", append)
    app.router.add_post(p + "/break", break_)
    app.router.add_get(p + "/truth/{symbol}", truth)
    app.router.add_get(p + "/log", log)
    app.router.add_get(p + "/state", ns_state)
