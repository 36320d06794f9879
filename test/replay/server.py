#!/usr/bin/python3
"""server.py -- Gemini REST + websocket replay server for gemini_etl's tests.

Imitates api.gemini.com's public REST API (/v1/symbols, /v1/symbols/details,
/v1/trades, /v2/candles) closely enough that the extension cannot tell the
difference, serving real recorded trades (test/fixtures) plus generated trades
at volume, with per-namespace fault injection and ground truth for tests.
On the same port it serves Gemini's websockets (Market Data v2 and the new
WebSocket API, see "Websockets" below) from the same per-namespace data.

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

Websockets (same port, same namespaces; modules ws*.py):
  ws://127.0.0.1:PORT[/t/<token>]/v2/marketdata   Market Data v2: send
      {"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]},
       {"name":"candles_1m","symbols":["BTCUSD"]}]}
  ws://127.0.0.1:PORT[/t/<token>]/ws?snapshot=-1  the new API (also at / and /t/<token>):
      send {"id":1,"method":"subscribe","params":["btcusd@trade","btcusd@depth@100ms"]};
      with snapshot != 0 each depth symbol's book comes first (U == u), then
      {"id":1,"status":200}; trades {"E":ns,"s","t","p","q","m"} and depth diffs
      {"e":"depthUpdate",...,"U":previous u,"u":>U}; protocol pings every 20 s.
  What a connection gets depends on the namespace's ws config, set by
      POST /_admin/t/<token>/ws {"mode":"recorded"|"generated","session":"2021-04-17",
        "speed":0,"rate":1000,"count":10000,"seed":1,"trade_ratio":0.5,
        "close_at_end":false,"rest_follows":false,"faults":[...]}
  (applies to connections opened afterwards; resets ws numbering and logs,
  not the REST datasets except for rest_follows; admin /config does not
  reset it):
    recorded   replays fixture v2_marketdata_l2_session_<session>.jsonl (2021-04-05,
               2021-04-17, 2021-06-23): v2 gets the frames of the subscribed symbols
               plus heartbeats byte for byte, at the recorded pacing / speed (0 =
               at once), then a heartbeat every 5 s (or a close frame if
               close_at_end); the new API gets them converted (@trade: t = event_id,
               E = timestamp*1e6; l2 -> chained depth diffs).  Every session trade
               is in the recorded REST datasets (same tid, time, price, amount).
               "rest_follows":true makes REST realistic: the session's live trade
               messages are withheld from REST until the replay reaches them, then
               published there (same tid, time, price, amount, side), so a client
               that pulled REST first gets them new over the websocket.
    generated  per subscribed symbol a snapshot (book of 50+50 levels; v2 adds the
               50 newest REST trades), then `count` events at `rate`/s (0 = as fast
               as the client reads), a seeded mix of trades (share trade_ratio) and
               one-level book updates; each trade is appended to the namespace's
               REST dataset as it is sent (tid above the max, timestampms = send
               time), so since_tid paging and /truth include it.  v2 heartbeats
               every 5 s; v2 candles_* subscriptions get the dataset's candles and
               the 2 newest every 1000 events.
  ws faults: drop (TCP close without close frame after message K), stall (silence
  after message K, socket open), malformed (extra bad frames before messages K..),
  reject_connect (HTTP 503 for the first N upgrades), gap (new API: a diff skips
  ahead); details in ws_config.py.  Logs: GET /_admin/t/<token>/ws/log (one row
  per connection) and /ws/sent (every trade sent, with send time in us).
  Example:
    curl -XPOST http://127.0.0.1:PORT/_admin/t/mytest/ws \
         -d '{"mode":"generated","rate":0,"count":200000,"faults":[{"kind":"drop","after":5000}]}'

Modules (one purpose each):
  data.py    datasets (recorded from fixtures, generated from a seed), pages, candles, truth
  state.py   namespaces: datasets (copy-on-write), faults, route counters, request log
  faults.py  fault specs and faulted responses (the list of kinds is in its docstring)
  wire.py    the Reply value and Gemini-style bodies
  rest.py    the Gemini REST routes (exact semantics in its docstring)
  admin.py   the admin API (/_admin/...; summary in its docstring)
  ws.py        websocket routes, connection lifecycle, ws admin API (in its docstring)
  ws_config.py ws config keys, ws fault kinds, connection and sent-trade logs
  ws_conn.py   one connection: frame batching, message numbering, faults
  ws_stream.py the send loops (rate / pacing / heartbeats) shared by both APIs
  ws_v2.py     Market Data v2 protocol;  ws_new.py  the new WebSocket API
  ws_gen.py    generated books and events, appending sent trades to REST, candles
  ws_session.py recorded sessions (frames, pacing, REST agreement)
  ws_wire.py   message texts, frame headers, order book
  selftest.py  starts this server and checks all of the above (ws part: selftest_ws.py)

Exit: SIGTERM or SIGINT stop the server cleanly (exit status 0).
"""

import argparse
import asyncio
import gc
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
import ws  # noqa: E402

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
    ws.add_routes(app)
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
    gc.collect()
    gc.freeze()     # the default datasets live forever: keep them out of GC scans
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
