# test/lib.sh: shared shell helpers for the test runner, the demo and the
# benchmarks.  Source it; it defines functions only.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# build_install: compile the extension and install it into PostgreSQL 15.
build_install() {
  make -s -C "$REPO_ROOT" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -s -C "$REPO_ROOT" PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# on_exit_kill PID...: kills these processes when the shell exits.  One EXIT
# trap for every helper here (start_replay, start_s3): a second `trap ... EXIT`
# would replace the first and leave its server running.
_ON_EXIT_PIDS=()
_on_exit_cleanup() {
  local pid
  for pid in "${_ON_EXIT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
on_exit_kill() {
  _ON_EXIT_PIDS+=("$@")
  trap _on_exit_cleanup EXIT
}

# wait_for_port_file PID FILE NAME OUTPUT: waits (10 s at most) until the
# server PID has written its port to FILE; on failure prints OUTPUT, its log.
wait_for_port_file() {
  local pid=$1 file=$2 name=$3 out=$4
  for _ in $(seq 1 100); do
    [ -s "$file" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name failed to start:" >&2; cat "$out" >&2; return 1
    fi
    sleep 0.1
  done
  echo "$name did not report its port" >&2; return 1
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
  wait_for_port_file "$REPLAY_PID" "$port_file" "replay server" "$logdir/replay.out" || return 1
  export REPLAY_URL="http://127.0.0.1:$(cat "$port_file")"
  export REPLAY_PID
  on_exit_kill "$REPLAY_PID"
}

# The throwaway cluster's settings: pg_cron and gemini_etl preloaded.
PG_VENV_OPTS=(
  -o "shared_preload_libraries=pg_cron,gemini_etl"
  -o "cron.database_name=contrib_regression"
  -o "cron.use_background_workers=on"
  -o "max_worker_processes=32"
)

# start_s3 LOGDIR: starts s3rver (data in LOGDIR/s3rver, bucket gemini-test
# created) behind test/s3/sigv4_proxy.js, which checks SigV4 signatures as
# S3 does (s3rver checks none) and injects faults (POST $S3_ENDPOINT/__proxy/faults).
# Both listen on 127.0.0.1, on free ports.  Exports
#   S3_ENDPOINT           http://127.0.0.1:PORT (the proxy; path-style, or
#                         virtual-hosted as http://BUCKET.localhost:PORT)
#   S3_BUCKET             gemini-test
#   S3_REGION             us-east-1 (the only region the proxy accepts)
#   S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY   a key with every permission
#   S3_DENIED_KEY_ID, S3_DENIED_SECRET       a valid key with none (403 AccessDenied)
#   S3_CREDENTIALS_FILE   LOGDIR/aws_credentials: AWS shared credentials file,
#                         profile default = the good key, mode 0644 (the
#                         postgres user reads it); for AWS_SHARED_CREDENTIALS_FILE
#   S3_AWS_CONFIG_FILE    LOGDIR/aws_config: region us-east-1; for AWS_CONFIG_FILE
#   S3_PROXY_CREDENTIALS  LOGDIR/s3_keys.json, the proxy's {"AKID": "secret"}
#   S3_PROXY_LOG          LOGDIR/s3proxy.log: one JSON line per request
#   S3RVER_ENDPOINT       s3rver itself (no signature checks: debugging only)
#   S3RVER_DIR            s3rver's data directory
#   S3_PROXY_PID, S3RVER_PID
# and stops both when the shell exits (or at stop_s3).  Runs `npm ci` in
# test/s3 first if its node_modules is missing.
start_s3() {
  local logdir=$1
  local s3dir="$REPO_ROOT/test/s3"
  mkdir -p "$logdir"
  logdir=$(cd "$logdir" && pwd)
  if [ ! -d "$s3dir/node_modules/s3rver" ] || [ ! -d "$s3dir/node_modules/@duckdb/node-api" ]; then
    if ! npm ci --prefix "$s3dir" --no-audit --no-fund --loglevel=error >"$logdir/npm_ci.log" 2>&1; then
      echo "start_s3: npm ci in test/s3 failed:" >&2; cat "$logdir/npm_ci.log" >&2; return 1
    fi
  fi

  export S3RVER_DIR="$logdir/s3rver"
  rm -rf "$S3RVER_DIR"; mkdir -p "$S3RVER_DIR"
  # --openssl-legacy-provider: s3rver's continuation tokens use a cipher
  # OpenSSL 3 disables, so a second page of a listing fails without it.
  NODE_OPTIONS=--openssl-legacy-provider node "$s3dir/node_modules/s3rver/bin/s3rver.js" \
    -d "$S3RVER_DIR" -a 127.0.0.1 -p 0 --silent --configure-bucket gemini-test \
    >"$logdir/s3rver.out" 2>&1 &
  S3RVER_PID=$!
  on_exit_kill "$S3RVER_PID"
  local s3rver_port=""
  for _ in $(seq 1 100); do
    s3rver_port=$(sed -n 's/^S3rver listening on .*:\([0-9][0-9]*\)$/\1/p' "$logdir/s3rver.out")
    [ -n "$s3rver_port" ] && break
    if ! kill -0 "$S3RVER_PID" 2>/dev/null; then
      echo "s3rver failed to start:" >&2; cat "$logdir/s3rver.out" >&2; return 1
    fi
    sleep 0.1
  done
  [ -n "$s3rver_port" ] || { echo "s3rver did not report its port" >&2; return 1; }
  export S3RVER_ENDPOINT="http://127.0.0.1:$s3rver_port"

  # Secrets shaped like AWS's (40 characters with "/" and "+").
  export S3_ACCESS_KEY_ID=AKIDGEMINITEST
  export S3_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYGEMINITEST'
  export S3_DENIED_KEY_ID=AKIDGEMINIDENIED
  export S3_DENIED_SECRET='dEnIeDXUtnFEMI/K7MDENG+bPxRfiCYGEMINITES'
  export S3_BUCKET=gemini-test
  export S3_REGION=us-east-1
  export S3_PROXY_CREDENTIALS="$logdir/s3_keys.json"
  printf '{"%s": "%s", "%s": "%s"}\n' "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" \
    "$S3_DENIED_KEY_ID" "$S3_DENIED_SECRET" >"$S3_PROXY_CREDENTIALS"
  export S3_CREDENTIALS_FILE="$logdir/aws_credentials"
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[denied]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" "$S3_DENIED_KEY_ID" "$S3_DENIED_SECRET" >"$S3_CREDENTIALS_FILE"
  export S3_AWS_CONFIG_FILE="$logdir/aws_config"
  printf '[default]\nregion = us-east-1\n\n[profile denied]\nregion = us-east-1\n' >"$S3_AWS_CONFIG_FILE"
  chmod 0644 "$S3_CREDENTIALS_FILE" "$S3_AWS_CONFIG_FILE" "$S3_PROXY_CREDENTIALS"

  local port_file="$logdir/s3proxy.port"
  rm -f "$port_file"
  export S3_PROXY_LOG="$logdir/s3proxy.log"
  node "$s3dir/sigv4_proxy.js" --upstream "$S3RVER_ENDPOINT" --credentials "$S3_PROXY_CREDENTIALS" \
    --deny "$S3_DENIED_KEY_ID" --region "$S3_REGION" --port 0 --port-file "$port_file" \
    --s3rver-dir "$S3RVER_DIR" --log-file "$S3_PROXY_LOG" >"$logdir/s3proxy.out" 2>&1 &
  S3_PROXY_PID=$!
  on_exit_kill "$S3_PROXY_PID"
  wait_for_port_file "$S3_PROXY_PID" "$port_file" "sigv4 proxy" "$logdir/s3proxy.out" || return 1
  export S3_ENDPOINT="http://127.0.0.1:$(cat "$port_file")"
  export S3_PROXY_PID S3RVER_PID
}

# stop_s3: stops what start_s3 started (the exit trap does it otherwise).
stop_s3() {
  local pid
  for pid in ${S3_PROXY_PID:-} ${S3RVER_PID:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  unset S3_PROXY_PID S3RVER_PID
}
