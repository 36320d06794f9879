#!/usr/bin/perl
# test/t/hardening.t: the stream worker and the supervisor under what a DBA
# and a hostile peer do, in a cluster of its own.  Each part checks something
# that was broken before the hardening issue:
#   1. the supervisor makes partitions ahead of need;
#   2. an idle stream sleeps (it spun a core);
#   3. advisory-lock keys any role can take do not block a stream;
#   4. SIGTERM ends a worker waiting on a lock in a flush;
#   5. an owner who loses the right to stream: the stream backs off, across
#      worker restarts, without connecting to Gemini;
#   6. the connect budget holds across worker restarts;
#   7. an endless message is capped, dead-lettered, and the stream reconnects;
#   8. frames with invalid UTF-8 are dead-lettered intact; a close reason is
#      reported with its code;
#   9. a failing, then slow, REST backfill keeps the connection and the live
#      rows, and catches up;
#  10. counters are not over-counted after a rolled-back flush;
#  11. memory stays flat across many reconnects;
#  12. with no background worker slot free, a pull still makes its partitions.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;

$ENV{REPLAY_URL} or plan skip_all => 'REPLAY_URL is not set';
my $c = GeminiTAP->new_cluster(extra_conf => <<'CONF');
gemini_etl.ws_max_connects_per_minute = 120
CONF
$c->psql('CREATE EXTENSION gemini_etl');
my $STREAM_LOCK_CLASS = 0x47535452;
my $LOCK_SPACE = 0x4745;

sub admin { return GeminiTAP::admin(@_); }
sub stream_up {
  my ($label, $id) = @_;
  return $c->wait_for($label, "SELECT state FROM gemini.stream_status WHERE stream_id = $id", 'streaming', 60);
}
sub stop_all {
  $c->psql("SELECT gemini_stream_stop()");
  $c->wait_for('workers gone', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 20);
}
sub rest_dataset {
  my ($token, $sym, $count) = @_;
  admin('POST', "/t/$token/config", qq({"recorded": false, "datasets": {"$sym": {"count": $count, "seed": 7, "start": "2026-11-01T00:00:00Z", "span_seconds": 600}}}));
  $c->psql("DELETE FROM gemini.watermarks WHERE symbol = '$sym'");
  $c->psql("INSERT INTO gemini.watermarks (symbol, last_tid) VALUES ('$sym', 0)");   # backfill from the start
}

# ---------------------------------------------------------------------------
# 1. Partitions ahead: today's, tomorrow's and the next day's, by the supervisor.
# ---------------------------------------------------------------------------
$c->wait_for('the supervisor made 3 days of partitions of 3 tables',
  "SELECT count(*) FROM generate_series(0, 2) d, (VALUES ('trades'), ('raw_pages'), ('book_changes')) t(n)
    WHERE to_regclass('gemini.' || n || '_p' || to_char((now() AT TIME ZONE 'UTC')::date + d, 'YYYYMMDD')) IS NOT NULL",
  '9', 30);

# ---------------------------------------------------------------------------
# 2. An idle stream sleeps: a quiet symbol (heartbeats only) costs < 1 % of a core.
# ---------------------------------------------------------------------------
rest_dataset('idle', 'IDLUSD', 10);
admin('POST', '/t/idle/ws', '{"mode": "generated", "rate": 10, "count": 5, "seed": 3}');
$c->point_at('idle', 'v2');
my $idle = $c->psql("SELECT gemini_stream_start('{IDLUSD}')");
stream_up('idle stream streaming', $idle);
$c->wait_for('idle stream: the REST history is stored', "SELECT count(*) >= 10 FROM gemini.trades WHERE symbol = 'IDLUSD'", 't', 30);
sleep 2;
my $pid = $c->worker_pid($idle);
my $cpu0 = GeminiTAP::cpu_seconds($pid);
my $t0 = time;
sleep 10;
my $cpu = (GeminiTAP::cpu_seconds($pid) - $cpu0) / (time - $t0);
cmp_ok($cpu, '<', 0.01, sprintf('an idle stream uses %.2f %% of a core (< 1 %%)', 100 * $cpu));
is($c->psql("SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'advisory' AND objsubid = $LOCK_SPACE AND classid = $STREAM_LOCK_CLASS"),
   '1', 'the worker holds its stream lock on a key SQL cannot name (objsubid 18245)');
stop_all();

# ---------------------------------------------------------------------------
# 3. Advisory locks any role can take do not keep a stream from running.
# ---------------------------------------------------------------------------
my $next = $c->psql("SELECT last_value + 1 FROM gemini.streams_stream_id_seq");
my $locker = "psql -X -q -h $c->{dir} -p $c->{port} -U postgres -d postgres -c "
  . GeminiTAP::shell_quote("SELECT pg_advisory_lock($STREAM_LOCK_CLASS, i), pg_advisory_lock(i) FROM generate_series($next, $next + 5) i; SELECT pg_sleep(25)");
system("$locker >/dev/null 2>&1 &");
sleep 1;
is($c->psql("SELECT count(*) >= 12 FROM pg_locks WHERE locktype = 'advisory' AND granted"), 't', 'another session holds the advisory keys the stream lock used to be');
my $s3 = $c->psql("SELECT gemini_stream_start('{IDLUSD}')");
is($s3, $next, "stream $s3 is one whose old key is taken");
stream_up('the stream runs anyway', $s3);

# ---------------------------------------------------------------------------
# 4. SIGTERM (pg_terminate_backend) ends a worker that waits on a lock in a flush.
# ---------------------------------------------------------------------------
$pid = $c->worker_pid($s3);
system("psql -X -q -h $c->{dir} -p $c->{port} -U postgres -d postgres -c "
  . GeminiTAP::shell_quote("BEGIN; LOCK TABLE gemini.streams IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(20); COMMIT;") . " >/dev/null 2>&1 &");
my $waiting = '';
for (1 .. 40) {
  $waiting = $c->psql("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid");
  last if $waiting eq 'Lock';
  sleep 0.25;
}
is($waiting, 'Lock', 'the worker waits on the lock in its flush');
kill 'TERM', $pid;
my $gone = 0;
for (1 .. 40) { if (!kill(0, $pid)) { $gone = 1; last; } sleep 0.25; }
ok($gone, 'SIGTERM ended it within 10 s, while the lock was still held');
$c->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()");
stream_up('the supervisor restarts it once the lock is gone', $s3);
stop_all();

# ---------------------------------------------------------------------------
# 5. The owner loses the right to stream: the stream says so and backs off,
#    across worker restarts, and never connects to Gemini meanwhile.
# ---------------------------------------------------------------------------
rest_dataset('own', 'OWNUSD', 10);
admin('POST', '/t/own/ws', '{"mode": "generated", "rate": 20, "count": 100000, "seed": 5}');
$c->point_at('own', 'v2');
$c->psql("CREATE ROLE tap_owner IN ROLE gemini_etl_operator");    # NOLOGIN, as operators are
my $s5 = $c->psql("SET ROLE tap_owner; SELECT gemini_stream_start('{OWNUSD}')");
stream_up('a NOLOGIN operator\'s stream runs', $s5);
is($c->psql("SELECT owner FROM gemini.stream_status WHERE stream_id = $s5"), 'tap_owner', 'the stream is bound to its owner');
$c->psql("REVOKE gemini_etl_operator FROM tap_owner");
my $conns0 = scalar @{ GeminiTAP::ws_log('own') };
my $log0 = length($c->server_log);
$c->psql("SELECT pg_terminate_backend(" . $c->worker_pid($s5) . ")");
$c->wait_for('the stream reports why it cannot run',
  "SELECT state = 'backoff' AND last_error LIKE '%tap_owner may no longer stream%' FROM gemini.stream_status WHERE stream_id = $s5", 't', 30);
sleep 20;
my $launches = () = substr($c->server_log, $log0) =~ /started the worker of stream $s5\b/g;
cmp_ok($launches, '<=', 6, "in 20 s the supervisor started it $launches times (backoff, not every 2 s)");
is(scalar @{ GeminiTAP::ws_log('own') }, $conns0, 'no connection to Gemini while the owner may not stream');
cmp_ok($c->psql("SELECT failures FROM gemini.stream_status WHERE stream_id = $s5"), '>=', 3, 'failures are counted across worker restarts');
$c->psql("GRANT gemini_etl_operator TO tap_owner");
$c->wait_for('with the right back, the stream resumes', "SELECT state FROM gemini.stream_status WHERE stream_id = $s5", 'streaming', 90);
stop_all();

# ---------------------------------------------------------------------------
# 6. The connect budget holds across worker restarts.
# ---------------------------------------------------------------------------
admin('POST', '/t/own/ws', '{"mode": "generated", "rate": 20, "count": 1000, "seed": 6, "faults": [{"kind": "reject_connect", "times": 100000}]}');
$c->psql("ALTER SYSTEM SET gemini_etl.ws_max_connects_per_minute = 3");
$c->psql("SELECT pg_reload_conf()");
sleep 0.5;
my $s6 = $c->psql("SELECT gemini_stream_start('{OWNUSD}')");
my $t6 = time;
while (time - $t6 < 40) {
  $c->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'");
  sleep 2;
}
my $attempts = scalar @{ GeminiTAP::ws_log('own') };
cmp_ok($attempts, '<=', 3, "40 s of worker restarts made $attempts connection attempts (budget 3 a minute)");
stop_all();
$c->psql("ALTER SYSTEM SET gemini_etl.ws_max_connects_per_minute = 120");
$c->psql("SELECT pg_reload_conf()");

# ---------------------------------------------------------------------------
# 7. An endless message: capped, dead-lettered, reconnect; the worker stays small.
# ---------------------------------------------------------------------------
rest_dataset('big', 'BIGUSD', 10);
admin('POST', '/t/big/ws', '{"mode": "generated", "rate": 50, "count": 100000, "seed": 8, "faults": [{"kind": "oversize", "after": 20, "bytes": 1073741824}]}');
$c->point_at('big', 'v2');
$c->psql("ALTER SYSTEM SET gemini_etl.ws_max_message_bytes = '1MB'");
$c->psql("SELECT pg_reload_conf()");
my $s7 = $c->psql("SELECT gemini_stream_start('{BIGUSD}')");
$c->wait_for('the oversize message is dead-lettered',
  "SELECT count(*) > 0 FROM gemini.dead_letters WHERE stream_id = $s7 AND reason LIKE '%ws_max_message_bytes%'", 't', 60);
my $rss = GeminiTAP::rss_anon_kb($c->worker_pid($s7)) // 0;
cmp_ok($rss, '<', 64 * 1024, "the worker's private memory is $rss kB (< 64 MB) after a 1 GB message");
is($c->psql("SELECT length(raw) <= 4096 AND raw LIKE '{\"type\":\"trade\"%' FROM gemini.dead_letters WHERE stream_id = $s7 AND reason LIKE '%ws_max_message_bytes%' LIMIT 1"),
   't', 'the dead letter keeps the start of the message');
$c->wait_for('the stream reconnects and goes on', "SELECT reconnects >= 1 AND state = 'streaming' FROM gemini.stream_status WHERE stream_id = $s7", 't', 60);
my ($sent) = map { $_->{oversize_bytes_sent} } grep { $_->{oversize_bytes_sent} } @{ GeminiTAP::ws_log('big') };
cmp_ok($sent // 0, '<', 1073741824, "the client hung up after " . ($sent // 0) . " of 1 GB");
stop_all();
$c->psql("ALTER SYSTEM RESET gemini_etl.ws_max_message_bytes");
$c->psql("SELECT pg_reload_conf()");

# ---------------------------------------------------------------------------
# 8. Invalid UTF-8 is dead-lettered intact (escaped); a close reason comes with its code.
# ---------------------------------------------------------------------------
rest_dataset('utf', 'UTFUSD', 10);
admin('POST', '/t/utf/ws', '{"mode": "generated", "rate": 50, "count": 100000, "seed": 9, "faults": [{"kind": "binary_invalid_utf8", "at": [5, 6, 7, 8], "opcode": "text"}, {"kind": "close", "after": 40, "code": 4001, "reason": "maintenance window"}]}');
$c->point_at('utf', 'v2');
my $s8 = $c->psql("SELECT gemini_stream_start('{UTFUSD}')");
$c->wait_for('four invalid-UTF-8 frames dead-lettered', "SELECT count(*) FROM gemini.dead_letters WHERE stream_id = $s8 AND raw LIKE '%\\\\x%'", '4', 60);
is($c->psql("SELECT bool_and(raw LIKE '{%') FROM gemini.dead_letters WHERE stream_id = $s8"), 't', 'they are stored whole, as valid text');
$c->wait_for('the close code and reason are reported',
  "SELECT count(*) > 0 FROM gemini.streams WHERE stream_id = $s8 AND last_error LIKE '%code 4001: maintenance window%'", 't', 60);
stop_all();

# ---------------------------------------------------------------------------
# 9. The REST backfill fails, then is slow: the connection and the live rows
#    stay, live trades keep committing, and the backfill catches up.
# ---------------------------------------------------------------------------
rest_dataset('bf', 'BFLUSD', 3000);
my ($bf_max) = sort { $b <=> $a } map { (split /,/)[0] } grep { /^\d/ } split /\n/, admin('GET', '/t/bf/truth/BFLUSD?format=csv');
admin('POST', '/t/bf/faults', '{"faults": [{"kind": "500", "nth": 1, "times": 100000}]}');
admin('POST', '/t/bf/ws', '{"mode": "generated", "rate": 100, "count": 100000, "seed": 10}');
$c->point_at('bf', 'v2');
$c->psql("ALTER SYSTEM SET gemini_etl.max_retries = 1");
$c->psql("SELECT pg_reload_conf()");
my $s9 = $c->psql("SELECT gemini_stream_start('{BFLUSD}')");
$c->wait_for('a failing backfill is reported', "SELECT last_error LIKE '%backfill of BFLUSD failed%' FROM gemini.stream_status WHERE stream_id = $s9", 't', 60);
my $live0 = $c->psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'BFLUSD' AND source = 'ws'");
sleep 3;
cmp_ok($c->psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'BFLUSD' AND source = 'ws'"), '>', $live0, 'live trades keep being stored');
is($c->psql("SELECT reconnects FROM gemini.stream_status WHERE stream_id = $s9"), '0', 'the connection was kept');
# now slow instead of failing: each backfill request takes 4 s
admin('POST', '/t/bf/faults', '{"faults": [{"kind": "slow", "nth": 1, "times": 3, "delay_ms": 4000}]}');
my $before = time;
my ($grew, $n0) = (0, $c->psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'BFLUSD' AND source = 'ws'"));
while (time - $before < 6) {
  sleep 1;
  my $n = $c->psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'BFLUSD' AND source = 'ws'");
  $grew++ if $n > $n0;
  $n0 = $n;
}
cmp_ok($grew, '>=', 4, "while backfill requests took 4 s each, live trades were committed in $grew of 6 seconds");
$c->wait_for('the backfill catches up: every trade of the REST history is stored',
  "SELECT count(*) FROM gemini.trades WHERE symbol = 'BFLUSD' AND tid <= $bf_max", '3000', 120);
is($c->psql("SELECT reconnects FROM gemini.stream_status WHERE stream_id = $s9"), '0', 'still the same connection');
# what was sent so far; the last of it may still be in the worker's buffer
my %sent = map { (split /,/)[2] => 1 } grep { /^\d/ } split /\n/, admin('GET', '/t/bf/ws/sent?format=csv');
my @missing = keys %sent;
for (1 .. 40) {
  my %have = map { $_ => 1 } split /\n/, $c->psql("SELECT tid FROM gemini.trades WHERE symbol = 'BFLUSD'");
  @missing = grep { !$have{$_} } keys %sent;
  last if !@missing;
  sleep 0.25;
}
is(scalar(@missing), 0, 'every live trade sent meanwhile (' . scalar(keys %sent) . ') is stored')
  or diag("missing: @missing[0 .. ($#missing < 4 ? $#missing : 4)]");
$c->wait_for('the minutes of backfilled trades have computed candles',
  "SELECT count(DISTINCT date_trunc('minute', traded_at, 'UTC')) FILTER (WHERE NOT EXISTS (SELECT 1 FROM gemini.candles k
      WHERE k.symbol = 'BFLUSD' AND k.source = 'computed' AND k.bucket_start = date_trunc('minute', t.traded_at, 'UTC')))
     FROM gemini.trades t WHERE symbol = 'BFLUSD' AND NOT broken", '0', 30);
stop_all();
$c->psql("ALTER SYSTEM RESET gemini_etl.max_retries");
$c->psql("SELECT pg_reload_conf()");

# ---------------------------------------------------------------------------
# 10. A flush that rolls back is not counted.
# ---------------------------------------------------------------------------
rest_dataset('cnt', 'CNTUSD', 10);
admin('POST', '/t/cnt/ws', '{"mode": "generated", "rate": 200, "count": 3000, "seed": 11, "faults": [{"kind": "malformed", "at": [300, 1500], "every": true}]}');
$c->point_at('cnt', 'v2');
# (a sequence, since the failing flush rolls back whatever else it writes;
#  schema-qualified, since the worker's search_path is pg_catalog, pg_temp)
$c->psql(q{CREATE SEQUENCE public.tap_fail_seq;
  CREATE FUNCTION public.tap_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF pg_catalog.nextval('public.tap_fail_seq') = 1 THEN
      RAISE EXCEPTION 'tap: this flush fails';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER tap_fail_once BEFORE INSERT ON gemini.dead_letters FOR EACH ROW EXECUTE FUNCTION public.tap_fail_once()});
my $s10 = $c->psql("SELECT gemini_stream_start('{CNTUSD}')");
$c->wait_for('the failed flush is reported', "SELECT count(*) > 0 FROM gemini.streams WHERE stream_id = $s10 AND last_error LIKE '%this flush fails%'", 't', 60);
$c->wait_for('the stream goes on', "SELECT count(*) >= 2 FROM gemini.dead_letters WHERE stream_id = $s10", 't', 60);
is($c->psql("SELECT s.book_changes = (SELECT count(*) FROM gemini.book_changes b WHERE b.stream_id = s.stream_id)
                AND s.dead_letters = (SELECT count(*) FROM gemini.dead_letters d WHERE d.stream_id = s.stream_id)
               FROM gemini.stream_status s WHERE stream_id = $s10"), 't',
   'stream_status counts exactly the rows stored (book changes, dead letters)');
stop_all();
$c->psql("DROP TRIGGER tap_fail_once ON gemini.dead_letters");

# ---------------------------------------------------------------------------
# 11. Memory is flat across many forced reconnects.
# ---------------------------------------------------------------------------
rest_dataset('soak', 'SOKUSD', 10);
admin('POST', '/t/soak/ws', '{"mode": "generated", "rate": 2000, "count": 100000000, "seed": 12, "faults": [{"kind": "drop", "after": 400, "every": true}, {"kind": "malformed", "at": [50, 100], "every": true}]}');
$c->point_at('soak', 'v2');
$c->psql("ALTER SYSTEM SET gemini_etl.ws_max_connects_per_minute = 600");
$c->psql("SELECT pg_reload_conf()");
my $s11 = $c->psql("SELECT gemini_stream_start('{SOKUSD}')");
stream_up('soak stream up', $s11);
sleep 15;
my $wpid = $c->worker_pid($s11);
my $r0 = GeminiTAP::rss_anon_kb($wpid);
my $rc0 = $c->psql("SELECT reconnects FROM gemini.stream_status WHERE stream_id = $s11");
sleep 90;
my $r1 = GeminiTAP::rss_anon_kb($wpid);
my $rc1 = $c->psql("SELECT reconnects FROM gemini.stream_status WHERE stream_id = $s11");
cmp_ok($rc1 - $rc0, '>=', 40, ($rc1 - $rc0) . " reconnects in 90 s");
cmp_ok($r1, '<=', $r0 * 1.10 + 1024, "RssAnon $r0 kB -> $r1 kB over them (flat: < 10 % + 1 MB)");
is($c->worker_pid($s11), $wpid, 'the same worker throughout');
stop_all();

# ---------------------------------------------------------------------------
# 12. No background worker slot free: the pull makes its partitions in its
#     own transaction instead of failing.
# ---------------------------------------------------------------------------
$c->psql("ALTER SYSTEM SET max_worker_processes = 2");   # the supervisor and the logical replication launcher
my ($rc12, $out12) = $c->pg_ctl('-m fast restart');
is($rc12, 0, 'restarted with max_worker_processes = 2') or diag($out12);
admin('POST', '/t/slots/config', '{"recorded": false, "datasets": {"SLTUSD": {"count": 700, "seed": 13, "start": "2026-05-10T12:00:00Z", "span_seconds": 600}}}');
$c->psql("ALTER SYSTEM SET gemini_etl.api_url = '" . GeminiTAP::replay_url() . "/t/slots'");
$c->psql("SELECT pg_reload_conf()");
sleep 0.3;
my $log12 = length($c->server_log);
is($c->psql("SELECT gemini_pull_since('SLTUSD', '2026-05-10 00:00+00')"), '700', 'the pull stores its 700 trades on a day with no partition yet');
like(substr($c->server_log, $log12), qr/no background worker slot free; creating partitions of gemini\.trades(, gemini\.raw_pages)? in this transaction/,
     'it said it made the partition in its own transaction');
is($c->psql("SELECT to_regclass('gemini.trades_p20260510') IS NOT NULL"), 't', 'the day\'s partition exists');

$c->pg_ctl('-m fast stop');
done_testing();
