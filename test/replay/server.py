#!/usr/bin/python3
"""server.py -- Gemini REST replay server for gemini_etl's tests.

Imitates api.gemini.com's public REST API (/v1/symbols, /v1/symbols/details,
/v1/trades, /v2/candles) closely enough that the extension cannot tell the
difference, serving real recorded trades (test/fixtures) plus generated trades
at volume, with per-namespace fault injection and ground truth for tests.

Usage:
  test/replay/server.py [--host 127.0.0.1] [--port 0] [--port-file PATH]
                        [--fixtures DIR] [--generate SYMBOL:COUNT:SEED[:START_ISO[:SPAN_SECONDS]]]...
                        [--shift-recorded-to-now] [--log-file PATH] [--log-max N]

  --port 0             pick a free port; the actual port is written to --port-file
                       (atomically: tmp file + rename) once the server listens
  --fixtures DIR       default: ../fixtures next to this script
  --generate SPEC      add a generated dataset to every namespace's defaults,
                       e.g. GENUSD:200000:1 or GENUSD:5000:7:2026-01-05T23:30:00Z:7200
                       (START defaults to 2026-01-05T23:30:00Z, SPAN to 7200 s)
  --shift-recorded-to-now
                       move each recorded symbol's trades so its newest trade is
                       60 s before server start (spacing kept)
  --log-file PATH      the server's own log (default: stderr)
  --log-max N          request-log entries kept per namespace (default 1000000)

Then point the extension at it:
  SET gemini_etl.api_url = 'http://127.0.0.1:PORT'            -- namespace "default"
  SET gemini_etl.api_url = 'http://127.0.0.1:PORT/t/mytest'   -- an isolated namespace

Examples:
  curl 'http://127.0.0.1:PORT/v1/trades/genusd?since_tid=0&limit_trades=500&include_breaks=true'
  curl -XPOST http://127.0.0.1:PORT/_admin/t/mytest/config \\
       -d '{"datasets":{"GENUSD":{"count":2345,"seed":7}},
            "faults":[{"kind":"429","nth":2,"retry_after":3},{"kind":"disconnect","nth":4}]}'
  curl 'http://127.0.0.1:PORT/_admin/t/mytest/truth/GENUSD?format=csv'
  curl 'http://127.0.0.1:PORT/_admin/t/mytest/log?format=csv'

Modules (one purpose each):
  data.py    datasets (recorded from fixtures, generated from a seed), pages, candles, truth
  state.py   namespaces: datasets (copy-on-write), faults, route counters, request log
  faults.py  fault specs and faulted responses (the list of kinds is in its docstring)
  wire.py    the Reply value and Gemini-style bodies
  rest.py    the Gemini REST routes (exact semantics in its docstring)
  admin.py   the admin API (/_admin/...; summary in its docstring)
  selftest.py  starts this server and checks all of the above
A websocket side can be added as another module registering its routes (e.g.
/v2/marketdata and /t/<token>/v2/marketdata) in build_app() before the 404
fallback, reading the same Registry/Dataset objects.

Exit: SIGTERM or SIGINT stop the server cleanly (exit status 0).
"""

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from aiohttp import web  # noqa: E402

import admin  # noqa: E402
import data  # noqa: E402
import rest  # noqa: E402
import state  # noqa: E402

log = logging.getLogger("replay")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Gemini REST replay server (see module docstring)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--fixtures", default=os.path.normpath(os.path.join(HERE, "..", "fixtures")))
    ap.add_argument("--generate", action="append", default=[], metavar="SYMBOL:COUNT:SEED[:START_ISO[:SPAN_SECONDS]]")
    ap.add_argument("--shift-recorded-to-now", action="store_true")
    ap.add_argument("--log-file")
    ap.add_argument("--log-max", type=int, default=1_000_000)
    return ap.parse_args(argv)


def build_registry(args, start_ms):
    t0 = time.monotonic()
    if not os.path.isdir(args.fixtures):
        raise ValueError("fixtures directory %s does not exist" % args.fixtures)
    fx = data.load_fixtures(args.fixtures)
    if args.shift_recorded_to_now:
        data.shift_recorded(fx.recorded, start_ms - 60_000)
    total = sum(len(d) for d in fx.recorded.values())
    log.info("fixtures %s: %d recorded trades in %d symbols (%s)", args.fixtures, total,
             len(fx.recorded), "shifted to now-60s" if args.shift_recorded_to_now else "original times")
    for sym, ds in sorted(fx.recorded.items()):
        log.info("recorded %-8s %5d trades  tids %d..%d  %s .. %s", sym, len(ds), ds.tids[0], ds.tids[-1],
                 data.iso_ms(min(ds.ts)), data.iso_ms(max(ds.ts)))
    log.info("fixture symbol list: %d symbols, %d details lines", len(fx.symbol_list), len(fx.details))
    generated = {}
    for spec in args.generate:
        g = data.parse_generate_spec(spec)
        t1 = time.monotonic()
        ds = data.generate(g["symbol"], g["count"], g["seed"], start_ms=g.get("start_ms"), span_s=g.get("span_s"))
        generated[ds.symbol] = ds
        log.info("generated %s: %d trades (seed %s, %s, %.3f s)", ds.symbol, len(ds), g["seed"],
                 ds.info.get("start"), time.monotonic() - t1)
    log.info("data ready in %.3f s", time.monotonic() - t0)
    return state.Registry(fx, generated, log_max=args.log_max)


def build_app(registry):
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["registry"] = registry
    admin.add_routes(app)
    rest.add_routes(app)
    # a websocket module would add its routes here
    rest.add_fallback(app)
    return app


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


async def serve(app, args):
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    sock.setblocking(False)
    site = web.SockSite(runner, sock, shutdown_timeout=1.0)
    await site.start()
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.port_file:
        write_port_file(args.port_file, port)
    log.info("listening on http://%s:%d (pid %d)", args.host, port, os.getpid())
    t0 = time.monotonic()
    app["registry"].warm()
    log.info("datasets rendered in %.3f s", time.monotonic() - t0)
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()
    if args.port_file:
        try:
            os.unlink(args.port_file)
        except OSError:
            pass
    log.info("stopped")


def main(argv=None):
    start_ms = data.now_ms()
    args = parse_args(argv)
    handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s replay[%(process)d] %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").disabled = True
    try:
        registry = build_registry(args, start_ms)
    except (OSError, ValueError) as e:
        log.error("startup failed: %s", e)
        return 2
    app = build_app(registry)
    asyncio.run(serve(app, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
