#!/usr/bin/perl
# test/t/pipeline.t: the hourly pipeline in a cluster of its own with
# pg_cron and gemini_etl preloaded, the replay server as Gemini and the S3
# test server as the bucket:
#   - a run: every step in gemini.run_steps with its rows, the run's status,
#     the interval's exports and quality results recorded with the run id;
#   - a re-run of the interval changes nothing (rows, quality results
#     replaced not added, the same objects);
#   - a failing step (Gemini answers 500) is retried, then fails the run
#     with its SQLSTATE; after the fault a run succeeds;
#   - a quality rule of severity fail stops the run before export, names
#     the rule, and leaves the interval due;
#   - catch-up: the schedule's tick runs the 3 missed hours, oldest first;
#   - two overlapping runs of an interval: the second waits, nothing doubles;
#   - a run whose worker is terminated is marked failed at the next start;
#   - pg_cron really runs the schedule; unschedule removes its jobs;
#   - retention drops exactly the partitions past their age;
#   - gemini.pipeline_status.
# Needs REPLAY_URL and the S3_* variables (test/run_all.sh starts both).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;
use S3TAP qw(s3_keys);

my $replay = $ENV{REPLAY_URL} or die "REPLAY_URL is not set (test/run_all.sh starts the replay server)";
my $s3 = $ENV{S3_ENDPOINT} or die "S3_ENDPOINT is not set (test/run_all.sh runs start_s3 from test/lib.sh)";
my $token = 'pipeline';
my $work = tempdir('gemini_pipeline_XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TAP});
chmod 0777, $work;
S3TAP::init($work);

my $c = GeminiTAP->new_cluster(tz => 'UTC', extra_conf => <<'CONF');
shared_preload_libraries = 'pg_cron,gemini_etl'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
CONF
sub sql { return $c->psql(shift); }
sub sql_err { my $s = shift; my $r = eval { sql($s); 1 }; return $r ? 'no error' : $@; }
sub admin { my ($m, $p, $b) = @_; return GeminiTAP::admin($m, "/t/$token$p", $b); }
sub set_conf {
  my %kv = @_;
  sql("ALTER SYSTEM SET gemini_etl.$_ = '$kv{$_}'") for sort keys %kv;
  sql('SELECT pg_reload_conf()');
  sleep 0.5;
}
sql('CREATE EXTENSION pg_cron');
sql('CREATE EXTENSION gemini_etl');
set_conf(api_url => "$replay/t/$token", rate_limit_rps => '0', max_retries => '0', s3_endpoint => $s3,
         s3_bucket => $ENV{S3_BUCKET}, s3_access_key_id => $ENV{S3_ACCESS_KEY_ID},
         s3_secret_access_key => $ENV{S3_SECRET_ACCESS_KEY}, pipeline_retry_delay_ms => '200',
         pipeline_max_retries => '1', s3_prefix => 'pipe');

# Trades over the last five whole hours.
my $cur = int(time / 3600) * 3600;
my $h = sub { strftime('%Y-%m-%d %H:00+00', gmtime($cur - 3600 * shift)) };
my $start = strftime('%Y-%m-%dT%H:00:00Z', gmtime($cur - 5 * 3600));
like(admin('POST', '/config', qq({"recorded": false, "datasets": {
  "PIPUSD": {"count": 5000, "seed": 71, "start": "$start", "span_seconds": 17990}}})), qr/"PIPUSD":5000/, 'replay namespace');
my ($h4, $h3, $h2, $h1, $h0) = map { $h->($_) } (4, 3, 2, 1, 0);

# ---------------------------------------------------------------------------
# 1. One run.
# ---------------------------------------------------------------------------
my $run = sql("SELECT gemini_run_pipeline('{pipusd}', '$h4', '$h3')");
like($run, qr/^\d+$/, 'gemini_run_pipeline returns a run id');
is(sql("SELECT status || ' ' || trigger || ' ' || (finished_at > started_at) FROM gemini.runs WHERE run_id = $run"),
   'succeeded manual true', 'the run succeeded');
is(sql("SELECT string_agg(step || coalesce(':' || nullif(symbol, ''), '') || ' ' || attempt || ' ' || (rows IS NOT NULL) || ' ' || coalesce(sqlstate, '-'), ', ' ORDER BY started_at)
        FROM gemini.run_steps WHERE run_id = $run"),
   'pull:PIPUSD 1 true -, quality_raw 1 true -, transform:PIPUSD 1 true -, quality_curated 1 true -, export 1 true -',
   'each step once, in order, with rows');
# A symbol never pulled starts at the interval's start: the truth from there on.
my $h4ms = ($cur - 4 * 3600) * 1000;
my $truth = () = admin('GET', "/truth/PIPUSD?format=csv&from_ms=$h4ms") =~ /^\d+,/mg;
cmp_ok($truth, '>', 3000, "the replay server has $truth trades from the interval on");
is(sql("SELECT count(*) FROM gemini.trades WHERE symbol = 'PIPUSD'"), $truth, 'pull: every trade from the interval on, once');
my $in_h4 = sql("SELECT count(*) FROM gemini.trades WHERE symbol = 'PIPUSD' AND traded_at >= '$h4' AND traded_at < '$h3'");
is(sql("SELECT (rows ->> 'transform:PIPUSD')::int > 0 AND (rows ->> 'export')::int >= $in_h4 FROM gemini.runs WHERE run_id = $run"), 't',
   'rows per step in gemini.runs');
is(sql("SELECT count(*) FILTER (WHERE source = 'gemini.trades' AND format = 'parquet') || ' ' || count(*) FILTER (WHERE source = 'gemini.raw_pages')
        FROM gemini.exports WHERE run_id = $run"), '1 1', 'export: the hour of trades (parquet) and of raw pages, recorded with the run id');
cmp_ok(sql("SELECT count(*) FROM gemini.quality_results WHERE run_id = $run"), '>=', 8, 'quality results of both layers carry the run id');
my $candles = sql("SELECT count(*) FROM gemini.candles WHERE symbol = 'PIPUSD' AND source = 'computed' AND bucket_start >= '$h4' AND bucket_start < '$h3'");
is($candles, sql("SELECT count(DISTINCT date_trunc('minute', traded_at)) FROM gemini.trades WHERE symbol = 'PIPUSD' AND traded_at >= '$h4' AND traded_at < '$h3'"),
   'transform: a computed candle for every minute with trades');

# ---------------------------------------------------------------------------
# 2. A re-run changes nothing.
# ---------------------------------------------------------------------------
my $before = sql("SELECT string_agg(key || sha256, ',' ORDER BY key) FROM gemini.exports WHERE interval_start = '$h4'");
my $qbefore = sql("SELECT count(*) FROM gemini.quality_results WHERE interval_start = '$h4'");
my $run2 = sql("SELECT gemini_run_pipeline('{PIPUSD}', '$h4', '$h3')");
is(sql("SELECT status FROM gemini.runs WHERE run_id = $run2"), 'succeeded', 're-run succeeded');
is(sql("SELECT count(*) FROM gemini.trades WHERE symbol = 'PIPUSD'"), $truth, 're-run: no trade twice');
is(sql("SELECT string_agg(key || sha256, ',' ORDER BY key) FROM gemini.exports WHERE interval_start = '$h4'"), $before,
   're-run: the same objects (keys and checksums)');
is(sql("SELECT count(*) FROM gemini.quality_results WHERE interval_start = '$h4'"), $qbefore, 're-run: quality results replaced, not added');
is(sql("SELECT count(*) FROM gemini.quality_results WHERE interval_start = '$h4' AND run_id = $run"), '0', '(the first run\'s are gone)');

# An operator (NOLOGIN, through SET ROLE) runs the pipeline; its steps run with its rights.
sql("CREATE ROLE pipe_op NOLOGIN IN ROLE gemini_etl_operator");
my $oprun = sql("SET ROLE pipe_op; SELECT gemini_run_pipeline('{PIPUSD}', '$h4', '$h3')");
is(sql("SELECT status || ' ' || run_as FROM gemini.runs WHERE run_id = $oprun"), 'succeeded pipe_op',
   'a NOLOGIN operator runs the pipeline; the run is recorded as its');
like(sql_err("CREATE ROLE pipe_nobody NOLOGIN; SET ROLE pipe_nobody; SELECT gemini_run_pipeline('{PIPUSD}', '$h4', '$h3')"),
     qr/permission denied for function gemini_run_pipeline/, 'a role without the grant cannot');

# ---------------------------------------------------------------------------
# 3. A failing step, retried, fails the run; then a run succeeds.
# ---------------------------------------------------------------------------
admin('POST', '/faults', '{"faults": [{"kind": "500", "nth": 1, "times": 1000, "route": "any"}]}');
my $bad = sql("SELECT gemini_run_pipeline('{PIPUSD}', '$h4', '$h3')");
is(sql("SELECT status || ' ' || failed_step || ' ' || sqlstate FROM gemini.runs WHERE run_id = $bad"), 'failed pull 58000',
   'Gemini answering 500: the run fails at pull, with the SQLSTATE');
like(sql("SELECT message FROM gemini.runs WHERE run_id = $bad"), qr/Gemini answered HTTP 500/, 'and the message');
is(sql("SELECT string_agg(attempt || ' ' || sqlstate, ', ' ORDER BY attempt) FROM gemini.run_steps WHERE run_id = $bad AND step = 'pull'"),
   '1 58000, 2 58000', 'the step was retried once (pipeline_max_retries = 1)');
is(sql("SELECT count(*) FROM gemini.run_steps WHERE run_id = $bad AND step <> 'pull'"), '0', 'no later step ran');
admin('POST', '/faults', '{"faults": []}');
my $good = sql("SELECT gemini_run_pipeline('{PIPUSD}', '$h4', '$h3')");
is(sql("SELECT status FROM gemini.runs WHERE run_id = $good"), 'succeeded', 'once Gemini answers, a run succeeds');

# ---------------------------------------------------------------------------
# 4. A rule of severity fail stops the run before export.
# ---------------------------------------------------------------------------
my $rule = sql(q{SELECT gemini_add_rule('gemini.trades', 'ColumnValues "amount" < 0.000001', 'fail', 'amounts are dust')});
my $failed = sql("SELECT gemini_run_pipeline('{PIPUSD}', '$h3', '$h2')");
is(sql("SELECT status || ' ' || failed_step FROM gemini.runs WHERE run_id = $failed"), 'failed quality_curated',
   'a failing rule of severity fail fails the run at its quality step');
like(sql("SELECT failed_rule FROM gemini.runs WHERE run_id = $failed"), qr/^amounts are dust \(rule $rule on gemini.trades: fail\)/, 'the rule is named');
is(sql("SELECT count(*) FROM gemini.run_steps WHERE run_id = $failed AND step = 'export'"), '0', 'no export step');
is(sql("SELECT count(*) FROM gemini.exports WHERE interval_start = '$h3'"), '0', 'nothing exported for the interval');
is(sql("SELECT gemini.hour_done('{PIPUSD}', '$h3')"), 'f', 'the interval stays due');
sql("SELECT gemini_drop_rule($rule)");

# ---------------------------------------------------------------------------
# 5. Catch-up: the tick runs the 3 missed hours, oldest first.
# ---------------------------------------------------------------------------
is(sql("SELECT gemini.pipeline_tick('{PIPUSD}')"), '3', 'the tick made 3 runs');
is(sql("SELECT string_agg(to_char(interval_start, 'HH24') || ' ' || status || ' ' || trigger, ', ' ORDER BY run_id)
        FROM gemini.runs WHERE trigger = 'schedule'"),
   join(', ', map { strftime('%H', gmtime($cur - 3600 * $_)) . ' succeeded schedule' } (3, 2, 1)),
   'the missed hours, oldest first, all succeeded');
is(sql("SELECT gemini.pipeline_tick('{PIPUSD}')"), '0', 'a second tick finds nothing due');
is(sql("SELECT intervals_due || ' ' || failing_runs || ' ' || (last_success = '$h0') || ' ' || gap_nearing_history_limit FROM gemini.pipeline_status WHERE symbol = 'PIPUSD'"),
   '0 0 true false', 'pipeline_status: nothing due, nothing failing, last success the last hour');

is(sql("SELECT gemini_backfill('{PIPUSD}', '$h4', '$h0')"), '0', 'gemini_backfill: nothing to do in a range already done');
# A symbol whose last success is 6.5 days old: the status view flags it.
sql("INSERT INTO gemini.runs (run_id, interval_start, interval_end, symbols, status, trigger, run_as)
     VALUES (-1, date_trunc('hour', now()) - interval '157 hours', date_trunc('hour', now()) - interval '156 hours',
             '{GAPUSD}', 'succeeded', 'manual', 'postgres')");
is(sql("SELECT gap_nearing_history_limit || ' ' || intervals_due FROM gemini.pipeline_status WHERE symbol = 'GAPUSD'"), 'true 156',
   'pipeline_status: a gap nearing 7 days is flagged, with the hours due');
sql("DELETE FROM gemini.runs WHERE run_id = -1");

# ---------------------------------------------------------------------------
# 6. Two overlapping runs of one interval.
# ---------------------------------------------------------------------------
admin('POST', '/faults', '{"faults": [{"kind": "slow", "nth": 1, "times": 2, "route": "trades", "delay_ms": 1500}]}');
my $psql = "psql -X -A -t -q -h $c->{dir} -p $c->{port} -U postgres -d postgres";
system("$psql -c \"SELECT gemini_run_pipeline('{PIPUSD}', '$h2', '$h1')\" > $work/a.out 2>&1 &");
sleep 0.5;
system("$psql -c \"SELECT gemini_run_pipeline('{PIPUSD}', '$h2', '$h1')\" > $work/b.out 2>&1");
sleep 0.2 while !-s "$work/a.out";
my ($ra) = `cat $work/a.out` =~ /(\d+)/;
my ($rb) = `cat $work/b.out` =~ /(\d+)/;
is(sql("SELECT string_agg(status, ' ' ORDER BY run_id) FROM gemini.runs WHERE run_id IN ($ra, $rb)"), 'succeeded succeeded', 'both overlapping runs succeed');
is(sql("SELECT (SELECT min(started_at) FROM gemini.run_steps WHERE run_id = $rb) >= (SELECT max(finished_at) FROM gemini.run_steps WHERE run_id = $ra)"),
   't', 'the second waited for the first (no step of it ran meanwhile)');
is(sql("SELECT count(*) FROM gemini.trades WHERE symbol = 'PIPUSD'"), $truth, 'nothing doubled');
admin('POST', '/faults', '{"faults": []}');

# ---------------------------------------------------------------------------
# 7. A run whose worker dies is marked failed at the next start.
# ---------------------------------------------------------------------------
admin('POST', '/faults', '{"faults": [{"kind": "slow", "nth": 1, "times": 5, "route": "trades", "delay_ms": 20000}]}');
system("$psql -c \"SELECT gemini_run_pipeline('{PIPUSD}', '$h1', '$h0')\" > $work/c.out 2>&1 &");
$c->wait_for('the run is under way', "SELECT count(*) FROM gemini.runs WHERE status = 'running'", '1', 20);
my $victim = sql("SELECT run_id FROM gemini.runs WHERE status = 'running'");
ok(sql("SELECT pg_terminate_backend(pid) FROM gemini.runs WHERE run_id = $victim") eq 't', 'its worker terminated');
$c->wait_for('the worker is gone', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl pipeline'", '0', 20);
admin('POST', '/faults', '{"faults": []}');
sleep 0.5;
my $next = sql("SELECT gemini_run_pipeline('{PIPUSD}', '$h1', '$h0')");
is(sql("SELECT status || ' ' || sqlstate FROM gemini.runs WHERE run_id = $victim"), 'failed 57P01', 'the interrupted run is marked failed by the next run');
is(sql("SELECT status FROM gemini.runs WHERE run_id = $next"), 'succeeded', 'and the next run succeeds');

# A server restart during a run: the supervisor marks it failed as the server comes back.
admin('POST', '/faults', '{"faults": [{"kind": "slow", "nth": 1, "times": 5, "route": "trades", "delay_ms": 20000}]}');
system("$psql -c \"SELECT gemini_run_pipeline('{PIPUSD}', '$h2', '$h1')\" > $work/d.out 2>&1 &");
$c->wait_for('another run is under way', "SELECT count(*) FROM gemini.runs WHERE status = 'running'", '1', 20);
my $cut = sql("SELECT run_id FROM gemini.runs WHERE status = 'running'");
my ($rrc, $rout) = $c->pg_ctl('restart -m fast');
is($rrc, 0, 'server restarted') or diag($rout);
admin('POST', '/faults', '{"faults": []}');
$c->wait_for('the supervisor marks the cut run failed after the restart', "SELECT status || ' ' || sqlstate FROM gemini.runs WHERE run_id = $cut", 'failed 57P01', 30);

# ---------------------------------------------------------------------------
# 8. pg_cron runs the schedule; unschedule removes its jobs.
# ---------------------------------------------------------------------------
sql("DELETE FROM gemini.runs WHERE interval_start = '$h1'");
my $job = sql("SELECT gemini_schedule('{PIPUSD}', '* * * * *')");
like($job, qr/^\d+$/, 'gemini_schedule returns the cron job id');
is(sql("SELECT string_agg(jobname || ' ' || schedule, ', ' ORDER BY jobname) FROM cron.job"),
   'gemini_etl live export */5 * * * *, gemini_etl pipeline * * * * *', 'the pipeline job and the live export job');
isnt(sql("SELECT next_scheduled FROM gemini.pipeline_status WHERE symbol = 'PIPUSD'"), '', 'pipeline_status shows the next scheduled time');
$c->wait_for('pg_cron ran the pipeline for the missing hour',
             "SELECT count(*) FROM gemini.runs WHERE interval_start = '$h1' AND status = 'succeeded' AND trigger = 'schedule'", '1', 130);
is(sql("SELECT gemini_unschedule()"), '2', 'gemini_unschedule removes both jobs');
is(sql("SELECT count(*) FROM cron.job"), '0', 'no job left');

# ---------------------------------------------------------------------------
# 9. Retention drops exactly the partitions past their age.
# ---------------------------------------------------------------------------
my @days = map { strftime('%Y-%m-%d', gmtime($cur - 86400 * $_)) } (9, 8, 7, 6);
sql("SELECT gemini.ensure_day_partitions('gemini.trades', '$days[0]', '$days[3]')");
set_conf(retention_days => '7');
my $dropped = sql("SELECT string_agg(dropped, ',' ORDER BY dropped) FROM gemini.apply_retention()");
my @want = map { my $d = $_; $d =~ s/-//g; "gemini.trades_p$d" } @days[0, 1];
is($dropped, join(',', @want), 'retention_days = 7 drops the partitions of days 9 and 8 ago, not 7 or 6');
set_conf(retention_days => '0');

# ---------------------------------------------------------------------------
# 10. Near real time: while a stream runs, the open hour goes to S3, and
#     again (the same keys, more rows) the next time.
# ---------------------------------------------------------------------------
is(sql("SELECT gemini.export_live()"), '0', 'no stream: the live export does nothing');
admin('POST', '/ws', '{"mode": "generated", "rate": 200, "count": 3000, "seed": 9}');
$c->point_at($token, 'v2');
my $sid = sql("SELECT gemini_stream_start('{PIPUSD}')");
$c->wait_for('the stream writes live trades', "SELECT trades_written > 0 FROM gemini.stream_status WHERE stream_id = $sid", 't', 60);
my $live1 = sql("SELECT gemini.export_live()");
cmp_ok($live1, '>', 0, "the live export wrote $live1 rows of the open hour");
my $open = "interval_start = date_trunc('hour', now(), 'UTC') AND source IN ('gemini.trades', 'gemini.book_changes')";
is(sql("SELECT string_agg(source || ' ' || format, ', ' ORDER BY source) FROM gemini.exports WHERE $open"),
   'gemini.book_changes parquet, gemini.trades parquet', 'the open hour of trades and book changes');
my $keys1 = sql("SELECT string_agg(key, ',' ORDER BY key) FROM gemini.exports WHERE $open");
$c->wait_for('more trades arrive', "SELECT (SELECT count(*) FROM gemini.trades WHERE traded_at >= date_trunc('hour', now(), 'UTC')) > (SELECT rows FROM gemini.exports WHERE $open AND source = 'gemini.trades')", 't', 60);
my $live2 = sql("SELECT gemini.export_live()");
cmp_ok($live2, '>', $live1, "a later live export rewrites the hour with more rows ($live2)");
is(sql("SELECT string_agg(key, ',' ORDER BY key) FROM gemini.exports WHERE $open"), $keys1, 'the same keys: no small files pile up');
sql("SELECT gemini_stream_stop()");

done_testing();
