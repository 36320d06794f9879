# test/lib.sh: shared shell helpers for the test runner, the demo and the
# benchmarks.  Source it; it defines functions only.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# build_install: compile the extension and install it into PostgreSQL 15.
build_install() {
  make -s -C "$REPO_ROOT" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -s -C "$REPO_ROOT" PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# start_replay LOGDIR [server args...]: starts the Gemini replay server on a
# free port, exports REPLAY_URL and REPLAY_PID, and stops it on exit.
start_replay() {
  local logdir=$1; shift
  mkdir -p "$logdir"
  local port_file="$logdir/replay.port"
  rm -f "$port_file"
  /usr/bin/python3 "$REPO_ROOT/test/replay/server.py" --host 127.0.0.1 --port 0 \
    --port-file "$port_file" --log-file "$logdir/replay.log" "$@" >"$logdir/replay.out" 2>&1 &
  REPLAY_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$port_file" ] && break
    if ! kill -0 "$REPLAY_PID" 2>/dev/null; then
      echo "replay server failed to start:" >&2; cat "$logdir/replay.out" >&2; return 1
    fi
    sleep 0.1
  done
  [ -s "$port_file" ] || { echo "replay server did not report its port" >&2; return 1; }
  export REPLAY_URL="http://127.0.0.1:$(cat "$port_file")"
  export REPLAY_PID
  trap 'kill $REPLAY_PID 2>/dev/null || true' EXIT
}

# The throwaway cluster's settings: pg_cron and gemini_etl preloaded.
PG_VENV_OPTS=(
  -o "shared_preload_libraries=pg_cron,gemini_etl"
  -o "cron.database_name=contrib_regression"
  -o "cron.use_background_workers=on"
  -o "max_worker_processes=32"
)
