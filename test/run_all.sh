#!/bin/bash
# The whole test suite: installs what it needs, builds, and runs
#   1. the parser's unit tests in C (and valgrind over them),
#   2. a short fuzz run of the parser,
#   3. the replay server's self-test,
#   4. pg_regress (make installcheck) against a throwaway PostgreSQL 15
#      cluster with pg_cron and gemini_etl preloaded, talking to the replay
#      server;
#   5. the S3 test server's self-test (s3rver behind a SigV4-checking proxy);
#   6. TAP tests (prove test/t): the stream worker (recorded and generated
#      websocket sessions, forced disconnects, malformed frames, kill -9 of
#      the worker and a server restart), dump/restore, hardening, and S3
#      exports read back by the aws CLI and DuckDB.
# Prints one summary line "tests: N passed, M failed" and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

passed=0; failed=0
record() { # record NAME RC
  if [ "$2" -eq 0 ]; then passed=$((passed+1)); echo "== $1: ok"; else failed=$((failed+1)); echo "== $1: FAILED"; fi
}

scripts/install_deps.sh || exit 1
build_install || { echo "build failed"; exit 1; }

make -s -C test/unit check; record "parser unit tests" $?
make -s -C test/unit valgrind >/tmp/gemini_valgrind.log 2>&1; rc=$?; [ $rc -ne 0 ] && tail -30 /tmp/gemini_valgrind.log; record "parser unit tests under valgrind" $rc
FUZZ_SECONDS=${FUZZ_SECONDS:-15} make -s -C test/fuzz run >/tmp/gemini_fuzz.log 2>&1; rc=$?; [ $rc -ne 0 ] && tail -30 /tmp/gemini_fuzz.log; record "parser fuzz run" $rc
/usr/bin/python3 test/replay/selftest.py >/tmp/gemini_selftest.log 2>&1; rc=$?; tail -1 /tmp/gemini_selftest.log; [ $rc -ne 0 ] && tail -30 /tmp/gemini_selftest.log; record "replay server self-test" $rc

workdir=$(mktemp -d /tmp/gemini_etl_test.XXXXXX)
chmod 755 "$workdir"
start_replay "$workdir" || exit 1
echo "replay server at $REPLAY_URL"
pg_virtualenv "${PG_VENV_OPTS[@]}" make -s PG_CONFIG="$PG_CONFIG" installcheck 2>&1 | tee "$workdir/regress.log"; rc=${PIPESTATUS[0]}
[ $rc -ne 0 ] && [ -f regression.diffs ] && head -200 regression.diffs
# one count per pg_regress test file
passed=$((passed + $(grep -cE '^(ok|test) .*\.\.\. ok' "$workdir/regress.log")))
failed=$((failed + $(grep -cE '\.\.\. FAILED' "$workdir/regress.log")))
[ $rc -ne 0 ] && ! grep -q 'FAILED' "$workdir/regress.log" && failed=$((failed+1))

test/s3/selftest.sh >/tmp/gemini_s3_selftest.log 2>&1; rc=$?; tail -1 /tmp/gemini_s3_selftest.log; [ $rc -ne 0 ] && tail -30 /tmp/gemini_s3_selftest.log; record "S3 test server self-test" $rc

# TAP: each test in a cluster of its own (kill -9, restart, faults, S3)
start_s3 "$workdir/s3" || exit 1
echo "S3 test server at $S3_ENDPOINT"
REPO_ROOT=$PWD prove test/t/ 2>&1 | tee "$workdir/prove.log"; rc=${PIPESTATUS[0]}
record "TAP tests (prove)" $rc

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
