#!/bin/bash
# The main job, in one command (as root on Debian 12):
#   installs the packages, builds and installs gemini_etl, starts a throwaway
#   PostgreSQL 15 cluster with pg_cron and gemini_etl preloaded, pulls the
#   last hour of BTCUSD and ETHUSD trades, prints a summary, runs the hourly
#   pipeline (pull, quality, transform, export) for the last 3 hours into S3
#   (GEMINI_S3_BUCKET, with GEMINI_S3_ENDPOINT/GEMINI_S3_REGION, if you set
#   it; else a local S3-compatible server it starts and says so), shows
#   gemini.runs, gemini.run_steps, gemini.quality_results, the objects and
#   the Athena DDL, then streams BTCUSD and ETHUSD over the websocket for 10
#   seconds, exports the open hour (near real time) and shows what arrived.
# It uses https://api.gemini.com when reachable; otherwise it says so and
# replays recorded Gemini data through the project's replay server, with
# REST following the websocket (ws config "rest_follows"): the recorded
# session's live trades are not in REST until the websocket replay sends them.
#
#   ./run_demo.sh          run it (re-running starts from a fresh cluster)
#   ./run_demo.sh stop     stop the cluster and the replay server
set -euo pipefail
cd "$(dirname "$0")"
. test/lib.sh

DEMO_DIR=${DEMO_DIR:-/tmp/gemini_etl_demo}
PORT=${DEMO_PORT:-54329}
BIN=/usr/lib/postgresql/15/bin
LIVE_URL=https://api.gemini.com

stop_all() {
  if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DEMO_DIR/data" -m fast stop >/dev/null 2>&1 || true
  fi
  if [ -f "$DEMO_DIR/replay.pid" ]; then
    kill "$(cat "$DEMO_DIR/replay.pid")" 2>/dev/null || true
    rm -f "$DEMO_DIR/replay.pid"
  fi
}

if [ "${1:-}" = "stop" ]; then stop_all; echo "stopped"; exit 0; fi

echo "== 1/5 packages"
scripts/install_deps.sh
echo "== 2/5 build and install"
build_install

echo "== 3/5 throwaway cluster in $DEMO_DIR (port $PORT)"
stop_all
rm -rf "$DEMO_DIR"; mkdir -p "$DEMO_DIR"; chown postgres:postgres "$DEMO_DIR"
runuser -u postgres -- "$BIN/initdb" -D "$DEMO_DIR/data" -A trust -U postgres >/dev/null
cat >> "$DEMO_DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
shared_preload_libraries = 'pg_cron,gemini_etl'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
CONF
runuser -u postgres -- "$BIN/pg_ctl" -D "$DEMO_DIR/data" -l "$DEMO_DIR/server.log" -w start >/dev/null
PSQL=(psql -X -q -h "$DEMO_DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

echo "== 4/5 source of data"
if curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$LIVE_URL/v1/symbols" 2>/dev/null | grep -q '^200$'; then
  API_URL=$LIVE_URL
  WS_URL=wss://api.gemini.com/v2/marketdata
  echo "Gemini's live API ($LIVE_URL) is reachable: pulling live data."
else
  echo "Gemini's live API ($LIVE_URL) is NOT reachable from this machine."
  echo "Using the recorded Gemini data instead, replayed by test/replay/server.py,"
  echo "with its trade times shifted so the newest recorded trade is a minute old."
  /usr/bin/python3 test/replay/server.py --host 127.0.0.1 --port 0 --port-file "$DEMO_DIR/replay.port" \
     --shift-recorded-to-now --log-file "$DEMO_DIR/replay.log" >"$DEMO_DIR/replay.out" 2>&1 &
  echo $! > "$DEMO_DIR/replay.pid"
  for _ in $(seq 1 100); do [ -s "$DEMO_DIR/replay.port" ] && break; sleep 0.1; done
  API_URL="http://127.0.0.1:$(cat "$DEMO_DIR/replay.port")"
  WS_URL="ws://127.0.0.1:$(cat "$DEMO_DIR/replay.port")/v2/marketdata"
  echo "Replay server: $API_URL (websocket: the recorded 2021-04-17 v2 session, 31 s replayed 5x faster)"
  # rest_follows: like the real exchange, REST only lists the trades already
  # published; the session's live trade messages are held back from REST until
  # the websocket replay sends them (same tid, time, price, amount), so the
  # stream gets them new instead of as duplicates of the REST pull.
  curl -sS -X POST -H 'Content-Type: application/json' "$API_URL/_admin/t/default/ws" \
       -d '{"mode": "recorded", "session": "2021-04-17", "speed": 5, "rest_follows": true}' \
       >"$DEMO_DIR/replay_ws.json"
  /usr/bin/python3 -c 'import json, sys
w = json.load(open(sys.argv[1]))["rest_withheld"]
print("Held back from REST until the websocket replay sends them (live trades of the session):")
print("  " + ", ".join("%s %d" % kv for kv in sorted(w.items())))' "$DEMO_DIR/replay_ws.json"
fi
"${PSQL[@]}" -c "ALTER SYSTEM SET gemini_etl.api_url = '$API_URL'" \
            -c "ALTER SYSTEM SET gemini_etl.ws_url = '$WS_URL'" -c "SELECT pg_reload_conf()" >/dev/null

echo "== 5/5 CREATE EXTENSION, pull the last hour of BTCUSD and ETHUSD"
"${PSQL[@]}" <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION gemini_etl;
\timing on
SELECT 'BTCUSD' AS symbol, gemini_pull_since('BTCUSD') AS new_trades
UNION ALL
SELECT 'ETHUSD', gemini_pull_since('ETHUSD');
\timing off
\echo
\echo Summary (gemini.trades):
SELECT t.symbol, count(*) AS trades, min(t.traded_at) AS first_trade, max(t.traded_at) AS last_trade,
       (SELECT price FROM gemini.trades l WHERE l.symbol = t.symbol ORDER BY tid DESC LIMIT 1) AS last_price,
       sum(t.amount) AS volume
  FROM gemini.trades t GROUP BY t.symbol ORDER BY 1;
\echo Pulls (gemini.pulls):
SELECT run_id, symbol, pages, requests, trades_seen, trades_new, quarantined, last_tid,
       finished_at - started_at AS took FROM gemini.pulls ORDER BY run_id;
\echo Raw layer (gemini.raw_pages):
SELECT endpoint, symbol, count(*) AS pages, sum(length(body)) AS bytes FROM gemini.raw_pages GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM gemini.check_partitions();
SQL

echo "== S3: where the pipeline exports"
if [ -n "${GEMINI_S3_BUCKET:-}" ]; then
  echo "Using the bucket you configured: $GEMINI_S3_BUCKET (endpoint: ${GEMINI_S3_ENDPOINT:-AWS})."
  echo "Credentials: the server's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or its ~/.aws/credentials."
  "${PSQL[@]}" -c "ALTER SYSTEM SET gemini_etl.s3_bucket = '$GEMINI_S3_BUCKET'" \
              -c "ALTER SYSTEM SET gemini_etl.s3_endpoint = '${GEMINI_S3_ENDPOINT:-}'" \
              -c "ALTER SYSTEM SET gemini_etl.s3_region = '${GEMINI_S3_REGION:-us-east-1}'" -c "SELECT pg_reload_conf()" >/dev/null
else
  echo "No real bucket is configured (GEMINI_S3_BUCKET is empty): starting a local S3-compatible server,"
  echo "s3rver behind the tests' SigV4-checking proxy (test/s3), with bucket gemini-test. It stops with this script;"
  echo "the objects stay in $DEMO_DIR/s3/s3rver."
  start_s3 "$DEMO_DIR/s3" >/dev/null
  echo "Local S3: $S3_ENDPOINT"
  "${PSQL[@]}" -c "ALTER SYSTEM SET gemini_etl.s3_endpoint = '$S3_ENDPOINT'" \
              -c "ALTER SYSTEM SET gemini_etl.s3_bucket = '$S3_BUCKET'" \
              -c "ALTER SYSTEM SET gemini_etl.s3_access_key_id = '$S3_ACCESS_KEY_ID'" \
              -c "ALTER SYSTEM SET gemini_etl.s3_secret_access_key = '$S3_SECRET_ACCESS_KEY'" \
              -c "SELECT pg_reload_conf()" >/dev/null
fi
sleep 0.5

echo "== pipeline: pull, quality, transform, export for each of the last 3 whole hours (gemini_backfill)"
"${PSQL[@]}" <<'SQL'
\timing on
SELECT gemini_backfill('{BTCUSD,ETHUSD}', date_trunc('hour', now()) - interval '3 hours', date_trunc('hour', now())) AS runs;
\timing off
\echo Runs (gemini.runs):
SELECT run_id, interval_start, status, trigger, rows, finished_at - started_at AS took, failed_step, message
  FROM gemini.runs ORDER BY run_id;
\echo Steps of the last run (gemini.run_steps):
SELECT step, symbol, attempt, rows, finished_at - started_at AS took, sqlstate
  FROM gemini.run_steps WHERE run_id = (SELECT max(run_id) FROM gemini.runs) ORDER BY started_at;
\echo Quality results of the last run (gemini.quality_results):
SELECT q.target, q.rule_name, q.outcome, q.metric, q.failing_rows
  FROM gemini.quality_results q WHERE q.run_id = (SELECT max(run_id) FROM gemini.runs) ORDER BY q.target, q.rule_id;
\echo Objects written (gemini.exports):
SELECT key, rows, bytes, format FROM gemini.exports ORDER BY key;
\echo The Athena table for the curated trades (paste into Athena; partitions are projected, no crawler):
\pset format unaligned
\pset tuples_only on
SELECT gemini_athena_ddl('gemini.trades', 'parquet');
\pset format aligned
\pset tuples_only off
SQL

echo "== stream: BTCUSD and ETHUSD over the websocket for 10 seconds"
"${PSQL[@]}" -c "SELECT gemini_stream_start('{BTCUSD,ETHUSD}') AS stream_id"
sleep 10
echo "Near real time: the open hour of the streamed data to S3 (what the schedule does every 5 minutes):"
"${PSQL[@]}" -c "SELECT gemini.export_live() AS rows_exported" \
             -c "SELECT key, rows, bytes FROM gemini.exports WHERE interval_start = date_trunc('hour', now(), 'UTC') ORDER BY key"
"${PSQL[@]}" <<'SQL'
\echo Stream (gemini.stream_status; trades_written = new trades stored from the websocket):
\x on
SELECT stream_id, symbols, state, protocol, connected_since, messages, trades_written, book_changes,
       backfilled, reconnects, dead_letters, last_error FROM gemini.stream_status;
\x off
SELECT * FROM gemini.top_of_book ORDER BY symbol;
\echo Trades by source (rest = the pull and the REST backfill of the stream, ws = arrived live over the websocket):
SELECT symbol, count(*) FILTER (WHERE source = 'rest') AS rest, count(*) FILTER (WHERE source = 'ws') AS ws,
       count(*) AS total FROM gemini.trades GROUP BY 1 ORDER BY 1;
\echo Newest trades that arrived over the websocket:
SELECT symbol, tid, traded_at, price, amount, side, ingested_at
  FROM gemini.trades WHERE source = 'ws' ORDER BY tid DESC LIMIT 8;
SELECT gemini_stream_stop() AS streams_stopped;
SQL

echo
echo "Connect:   psql -h $DEMO_DIR -p $PORT -U postgres postgres"
echo "Try:       SELECT gemini_pull_since('BTCUSD');  -- continues from the watermark"
echo "           SELECT gemini_schedule('{BTCUSD,ETHUSD}');  -- the pipeline every hour, with pg_cron"
echo "           SELECT * FROM gemini.pipeline_status;"
echo "           SELECT gemini_stream_start('{BTCUSD}'); SELECT * FROM gemini.stream_status;"
echo "Stop all:  ./run_demo.sh stop"
