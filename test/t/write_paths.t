#!/usr/bin/perl
# test/t/write_paths.t: the two ways trades are written, and the choice
# between them (store/trades_sink.c, store/bulk_insert.c):
#   - trades above every stored tid of the symbol are written the way COPY
#     writes (the direct path), others through INSERT ... ON CONFLICT; the
#     result is the same: every trade of the server once, exact;
#   - a trigger of the user's on gemini.trades, or on one partition only,
#     fires for every trade (the direct path would skip it, so it is not
#     taken);
#   - a trade deleted in the middle comes back exactly once on a re-pull
#     (keys at or below the highest stored tid: the ON CONFLICT path);
#   - a pull holding trades it wrote directly (not committed yet) and a
#     stream whose backfill claims the same trades at the same time: the
#     claim waits for the pull (whose keys are a span, not yet committed)
#     and stores nothing twice;
#   - book changes are written directly, and through INSERT when the table
#     has a trigger;
#   - a trigger made on today's partition while a stream writes there fires
#     for every trade the stream stores afterwards;
#   - two transactions deleting trades of the same span at once leave no
#     key behind (the second waits for the first's move of the span);
#   - a REPEATABLE READ pull meeting a span committed after its snapshot
#     fails with a serialization failure.
# Needs REPLAY_URL. Runs as root: the cluster runs as the postgres user.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;

$ENV{REPLAY_URL} or plan skip_all => 'REPLAY_URL is not set';
my $c = GeminiTAP->new_cluster(extra_conf => "gemini_etl.rate_limit_rps = 0\n");
sub psql { return $c->psql(@_); }
sub wait_for { return $c->wait_for(@_); }
sub admin { return GeminiTAP::admin(@_); }

# psql with its messages (stderr) too, for the DEBUG1 lines of the sink
sub psql_msgs {
  my $sql = shift;
  my ($r, $o) = GeminiTAP::run("psql -X -A -t -q " . $c->conn_args . " -d postgres -v ON_ERROR_STOP=1 -c "
                               . GeminiTAP::shell_quote($sql));
  die "psql failed ($sql): $o" if $r;
  return $o;
}

psql('CREATE EXTENSION gemini_etl');
admin('POST', '/t/wp/config', '{"recorded": false, "datasets": {
  "WPAUSD": {"count": 3000, "seed": 21, "start": "2026-03-01T22:00:00Z", "span_seconds": 14400},
  "WPBUSD": {"count": 2000, "seed": 22, "start": "2026-03-02T10:00:00Z", "span_seconds": 3600}}}');
psql("ALTER SYSTEM SET gemini_etl.api_url = '" . GeminiTAP::replay_url() . "/t/wp'");
psql("SELECT pg_reload_conf()");
sleep 0.3;

# every trade of the server once, with its exact price and amount
sub check_truth {
  my ($sym, $label) = @_;
  my @truth = grep { /^\d/ } split /\n/, admin('GET', "/t/wp/truth/$sym?format=csv");
  my %want = map { my @f = split /,/; ($f[0] => 1) } @truth;
  my %have = map { ($_ => 1) } split /\n/, psql("SELECT tid FROM gemini.trades WHERE symbol = '$sym'");
  is(scalar(grep { !$have{$_} } keys %want), 0, "$label: every trade of the server is stored");
  is(scalar(grep { !$want{$_} } keys %have), 0, "$label: nothing else is stored");
  is(psql("SELECT count(*) - count(DISTINCT tid) FROM gemini.trades WHERE symbol = '$sym'"), '0', "$label: each once");
  is(psql("SELECT count(*) FROM gemini.trades t WHERE symbol = '$sym'
             AND NOT EXISTS (SELECT 1 FROM gemini.trade_keys k WHERE k.symbol = t.symbol AND k.tid = t.tid AND k.traded_at = t.traded_at)"),
     '0', "$label: each in the registry under its time");
  is(psql("SELECT (SELECT count(*) FROM gemini.trade_keys WHERE symbol = '$sym') - (SELECT count(*) FROM gemini.trades WHERE symbol = '$sym')"),
     '0', "$label: one key per trade, in one of the two registry tables");
}

# ---------------------------------------------------------------------------
# 1. A first pull: the direct path, across a day boundary.
# ---------------------------------------------------------------------------
my $msgs = psql_msgs("SET client_min_messages = debug1; SELECT gemini_pull_since('WPAUSD', '2026-03-01 00:00+00')");
like($msgs, qr/^3000$/m, 'the first pull stores 3000 trades');
like($msgs, qr/trades of WPAUSD written directly/, 'it wrote them directly');
unlike($msgs, qr/WPAUSD written through INSERT/, 'and never needed ON CONFLICT');
check_truth('WPAUSD', 'direct path');
is(psql("SELECT count(DISTINCT traded_at::date) FROM gemini.trades WHERE symbol = 'WPAUSD'"), '2', 'the trades span two UTC days');
is(psql("SELECT count(*) FROM gemini.trades_default"), '0', 'none in DEFAULT');
# exact decimals: the stored text is the server's
my %srv = map { my @f = split /,/; ($f[0] => "$f[2]/$f[3]") } grep { /^\d/ } split /\n/, admin('GET', '/t/wp/truth/WPAUSD?format=csv');
my %db = map { my @f = split /\|/; ($f[0] => "$f[1]/$f[2]") } split /\n/, psql("SELECT tid, price, amount FROM gemini.trades WHERE symbol = 'WPAUSD'");
is(scalar(grep { ($db{$_} // '') ne $srv{$_} } keys %srv), 0, 'every price and amount is the server\'s text exactly');

# a second pull from the watermark: nothing new, nothing doubled
is(psql("SELECT gemini_pull_since('WPAUSD')"), '0', 'a second pull stores nothing');
check_truth('WPAUSD', 'after a second pull');

# ---------------------------------------------------------------------------
# 2. A trade deleted in the middle comes back once (ON CONFLICT path).
# ---------------------------------------------------------------------------
my ($mid) = psql("SELECT tid FROM gemini.trades WHERE symbol = 'WPAUSD' ORDER BY tid OFFSET 1500 LIMIT 1");
psql("DELETE FROM gemini.trades WHERE symbol = 'WPAUSD' AND tid BETWEEN $mid AND $mid + 0");
is(psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'WPAUSD'"), '2999', 'one trade deleted');
$msgs = psql_msgs("SET client_min_messages = debug1; SELECT gemini_pull_since('WPAUSD', '2026-03-01 00:00+00')");
like($msgs, qr/^1$/m, 're-pull from the start stores exactly the deleted trade');
like($msgs, qr/WPAUSD written through INSERT/, 'through ON CONFLICT (its keys are below the highest stored)');
check_truth('WPAUSD', 'after the re-pull');

# ---------------------------------------------------------------------------
# 3. Triggers of the user's: on gemini.trades, then on one partition only,
#    then a disabled one on a partition.
# ---------------------------------------------------------------------------
psql("CREATE TABLE public.seen (tid bigint)");
psql("CREATE FUNCTION public.note_trade() RETURNS trigger LANGUAGE plpgsql AS
      \$\$BEGIN INSERT INTO public.seen VALUES (NEW.tid); RETURN NEW; END\$\$");
psql("CREATE TRIGGER note AFTER INSERT ON gemini.trades FOR EACH ROW EXECUTE FUNCTION public.note_trade()");
$msgs = psql_msgs("SET client_min_messages = debug1; SELECT gemini_pull_since('WPBUSD', '2026-03-02 00:00+00')");
like($msgs, qr/^2000$/m, 'with a trigger on gemini.trades, the pull stores 2000 trades');
unlike($msgs, qr/WPBUSD written directly/, 'not directly');
is(psql("SELECT count(DISTINCT tid) FROM public.seen"), '2000', 'the trigger fired for every trade');
check_truth('WPBUSD', 'with a trigger');
psql("DROP TRIGGER note ON gemini.trades");

# on one partition only
psql("DELETE FROM gemini.trades WHERE symbol = 'WPBUSD'; TRUNCATE public.seen; DELETE FROM gemini.watermarks WHERE symbol = 'WPBUSD'");
psql("CREATE TRIGGER note_part AFTER INSERT ON gemini.trades_p20260302 FOR EACH ROW EXECUTE FUNCTION public.note_trade()");
$msgs = psql_msgs("SET client_min_messages = debug1; SELECT gemini_pull_since('WPBUSD', '2026-03-02 00:00+00')");
like($msgs, qr/^2000$/m, 'with a trigger on one partition, the pull stores 2000 trades');
unlike($msgs, qr/WPBUSD written directly/, 'not directly');
is(psql("SELECT count(DISTINCT tid) FROM public.seen"), '2000', 'the partition\'s trigger fired for every trade');
check_truth('WPBUSD', 'with a trigger on a partition');
psql("DROP TRIGGER note_part ON gemini.trades_p20260302");

# a disabled trigger on one partition: counted as the executor's trigger
# flags count it, so the pull takes INSERT and does not fail
psql("DELETE FROM gemini.trades WHERE symbol = 'WPBUSD'; TRUNCATE public.seen; DELETE FROM gemini.watermarks WHERE symbol = 'WPBUSD'");
psql("CREATE TRIGGER note_off AFTER INSERT ON gemini.trades_p20260302 FOR EACH ROW EXECUTE FUNCTION public.note_trade()");
psql("ALTER TABLE gemini.trades_p20260302 DISABLE TRIGGER note_off");
$msgs = psql_msgs("SET client_min_messages = debug1; SELECT gemini_pull_since('WPBUSD', '2026-03-02 00:00+00')");
like($msgs, qr/^2000$/m, 'with a disabled trigger on one partition, the pull stores 2000 trades');
is(psql("SELECT count(*) FROM public.seen"), '0', 'the disabled trigger did not fire');
check_truth('WPBUSD', 'with a disabled trigger on a partition');
psql("DROP TRIGGER note_off ON gemini.trades_p20260302");

# ---------------------------------------------------------------------------
# 4. A pull holding directly written trades, and a stream's backfill
#    claiming the same ones meanwhile.
# ---------------------------------------------------------------------------
admin('POST', '/t/wp/ws', '{"mode": "generated", "rate": 50, "count": 200, "seed": 23, "trade_ratio": 0.5}');
psql("DELETE FROM gemini.trades WHERE symbol = 'WPAUSD'; DELETE FROM gemini.watermarks WHERE symbol = 'WPAUSD'");
# a watermark before the data, so the stream's backfill asks for the same trades
psql("INSERT INTO gemini.watermarks (symbol, last_tid) VALUES ('WPAUSD', 0)");
# the pull commits 8 s after it has written everything
my $held = "$c->{dir}/held.out";
system("psql -X -A -t -q " . $c->conn_args . " -d postgres -c "
       . GeminiTAP::shell_quote("BEGIN; SET client_min_messages = debug1; SELECT gemini_pull_since('WPAUSD', '2026-03-01 00:00+00'); SELECT pg_sleep(8); COMMIT;")
       . " >$held 2>&1 &");
wait_for('the pull has written its trades and waits', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; SET client_min%' AND wait_event = 'PgSleep'", '1', 20);
psql("ALTER SYSTEM SET gemini_etl.ws_url = 'ws://127.0.0.1:" . GeminiTAP::replay_port() . "/t/wp/v2/marketdata'");
psql("SELECT pg_reload_conf()");
sleep 0.3;
my $sid = psql("SELECT gemini_stream_start('{WPAUSD}')");
wait_for('the stream\'s backfill waits for the held pull (its claim met the pull\'s keys)',
         "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream' AND wait_event_type = 'Lock'", '1', 10);
wait_for('the held pull committed', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; SET client_min%'", '0', 30);
{
  open(my $fh, '<', $held); local $/; my $o = <$fh> // '';
  like($o, qr/trades of WPAUSD written directly/, 'the held pull wrote directly');
}
wait_for('the stream has caught up with the backfill', "SELECT backfilled >= 0 AND state = 'streaming' FROM gemini.stream_status WHERE stream_id = $sid", 't', 30);
sleep 2;
psql("SELECT gemini_stream_stop($sid)");
wait_for('the stream stopped', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 20);
is(psql("SELECT count(*) - count(DISTINCT tid) FROM gemini.trades WHERE symbol = 'WPAUSD'"), '0', 'no trade stored twice');
is(psql("SELECT count(*) FROM gemini.trades WHERE symbol = 'WPAUSD' AND source = 'rest'"), '3000', 'the 3000 REST trades once each');
is(psql("SELECT count(*) FROM gemini.trades t WHERE symbol = 'WPAUSD'
           AND NOT EXISTS (SELECT 1 FROM gemini.trade_keys k WHERE k.symbol = t.symbol AND k.tid = t.tid AND k.traded_at = t.traded_at)"),
   '0', 'each in the registry under its time');
is(psql("SELECT (SELECT count(*) FROM gemini.trade_keys WHERE symbol = 'WPAUSD') - (SELECT count(*) FROM gemini.trades WHERE symbol = 'WPAUSD')"),
   '0', 'one key per trade');
is(psql("SELECT count(*) > 0 FROM gemini.trade_id_spans WHERE symbol = 'WPAUSD'"), 't', 'the held pull\'s keys are spans');

# ---------------------------------------------------------------------------
# 5. Book changes with a trigger on gemini.book_changes: through INSERT.
# ---------------------------------------------------------------------------
psql("CREATE TABLE public.seen_changes (n int)");
psql("CREATE FUNCTION public.note_change() RETURNS trigger LANGUAGE plpgsql AS
      \$\$BEGIN INSERT INTO public.seen_changes VALUES (1); RETURN NEW; END\$\$");
psql("CREATE TRIGGER note AFTER INSERT ON gemini.book_changes FOR EACH ROW EXECUTE FUNCTION public.note_change()");
psql("TRUNCATE gemini.book_changes");
admin('POST', '/t/wp/ws', '{"mode": "generated", "rate": 200, "count": 400, "seed": 24, "trade_ratio": 0.5}');
my $sid2 = psql("SELECT gemini_stream_start('{WPBUSD}')");
wait_for('book changes stored', "SELECT count(*) > 200 FROM gemini.book_changes WHERE symbol = 'WPBUSD'", 't', 30);
psql("SELECT gemini_stream_stop($sid2)");
wait_for('the stream stopped', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 20);
is(psql("SELECT (SELECT count(*) FROM public.seen_changes) = (SELECT count(*) FROM gemini.book_changes)"), 't',
   'the trigger fired for every book change');
psql("DROP TRIGGER note ON gemini.book_changes");

# ---------------------------------------------------------------------------
# 6. A trigger made on today's partition while a stream writes there: the
#    worker sees it at its next flush (its cached answer is dropped by the
#    relcache invalidation) and every later trade fires it.
# ---------------------------------------------------------------------------
psql("CREATE TABLE public.seen_live (tid bigint)");
psql("CREATE FUNCTION public.note_live() RETURNS trigger LANGUAGE plpgsql AS
      \$\$BEGIN INSERT INTO public.seen_live VALUES (NEW.tid); RETURN NEW; END\$\$");
admin('POST', '/t/wp/ws', '{"mode": "generated", "rate": 200, "count": 3000, "seed": 25, "trade_ratio": 0.5}');
psql("DELETE FROM gemini.watermarks WHERE symbol = 'WPBUSD'");
my $sid3 = psql("SELECT gemini_stream_start('{WPBUSD}')");
wait_for('the stream stores live trades', "SELECT count(*) > 50 FROM gemini.trades WHERE symbol = 'WPBUSD' AND source = 'ws'", 't', 30);
my $today = psql("SELECT 'gemini.trades_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')");
psql("CREATE TRIGGER note_live AFTER INSERT ON $today FOR EACH ROW EXECUTE FUNCTION public.note_live()");
my $made = psql("SELECT clock_timestamp()");
wait_for('the stream stores trades after the trigger', "SELECT count(*) > 100 FROM gemini.trades WHERE symbol = 'WPBUSD' AND source = 'ws' AND ingested_at > '$made'", 't', 30);
psql("SELECT gemini_stream_stop($sid3)");
wait_for('the stream stopped', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 20);
is(psql("SELECT count(*) FROM gemini.trades t WHERE symbol = 'WPBUSD' AND source = 'ws' AND ingested_at > '$made'
           AND NOT EXISTS (SELECT 1 FROM public.seen_live s WHERE s.tid = t.tid)"),
   '0', 'every trade the stream stored after the trigger was made fired it');
is(psql("SELECT count(*) - count(DISTINCT tid) FROM gemini.trades WHERE symbol = 'WPBUSD'"), '0', 'no trade stored twice');
psql("DROP TRIGGER note_live ON $today");

# ---------------------------------------------------------------------------
# 7. Two transactions delete trades whose keys are in the same span: the
#    first moves the span's other keys into gemini.trade_ids (uncommitted),
#    the second waits for it and then finds its key there.  Neither key may
#    stay behind, and a pull then stores both trades again, once each.
# ---------------------------------------------------------------------------
psql("DELETE FROM gemini.trades WHERE symbol = 'WPAUSD'; DELETE FROM gemini.watermarks WHERE symbol = 'WPAUSD'");
my $wpa_total = scalar(grep { /^\d/ } split /\n/, admin('GET', '/t/wp/truth/WPAUSD?format=csv'));
is(psql("SELECT gemini_pull_since('WPAUSD', '2026-03-01 00:00+00')"), $wpa_total, "a new pull of WPAUSD stores all $wpa_total trades of the server");
my ($t1, $t2) = split /\n/, psql("SELECT k.tid FROM gemini.trade_id_spans s, unnest(s.tids) AS k(tid)
                                    WHERE s.symbol = 'WPAUSD' AND s.tid_hi = (SELECT min(tid_hi) FROM gemini.trade_id_spans WHERE symbol = 'WPAUSD')
                                    ORDER BY k.tid OFFSET 20 LIMIT 2");
ok($t1 && $t2, "two trades of one span: $t1 and $t2");
my $first = "$c->{dir}/del1.out";
system("psql -X -A -t -q " . $c->conn_args . " -d postgres -c "
       . GeminiTAP::shell_quote("BEGIN; DELETE FROM gemini.trades WHERE symbol = 'WPAUSD' AND tid = $t1; SELECT pg_sleep(4); COMMIT;")
       . " >$first 2>&1 &");
wait_for('the first DELETE holds the moved span', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; DELETE FROM gemini.trades%' AND wait_event = 'PgSleep'", '1', 20);
# blocks until the first commits (it meets the span the first deleted)
psql("DELETE FROM gemini.trades WHERE symbol = 'WPAUSD' AND tid = $t2");
wait_for('the first DELETE committed', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; DELETE FROM gemini.trades%'", '0', 30);
is(psql("SELECT count(*) FROM gemini.trade_keys WHERE symbol = 'WPAUSD' AND tid IN ($t1, $t2)"), '0', 'neither deleted trade kept its key');
is(psql("SELECT (SELECT count(*) FROM gemini.trade_keys WHERE symbol = 'WPAUSD') - (SELECT count(*) FROM gemini.trades WHERE symbol = 'WPAUSD')"),
   '0', 'one key per remaining trade');
is(psql("SELECT gemini_pull_since('WPAUSD', '2026-03-01 00:00+00')"), '2', 'a re-pull stores exactly the two deleted trades');
check_truth('WPAUSD', 'after two concurrent deletes in one span');

# ---------------------------------------------------------------------------
# 8. A REPEATABLE READ transaction pulls trades another transaction stored
#    (directly, so their keys are a span) after its snapshot: a
#    serialization failure, as ON CONFLICT raises for a key it cannot see,
#    not a silent skip.
# ---------------------------------------------------------------------------
psql("DELETE FROM gemini.trades WHERE symbol = 'WPBUSD'; DELETE FROM gemini.watermarks WHERE symbol = 'WPBUSD'");
my $wpb_total = scalar(grep { /^\d/ } split /\n/, admin('GET', '/t/wp/truth/WPBUSD?format=csv'));
my $rr = "$c->{dir}/rr.out";
system("psql -X -A -t -q " . $c->conn_args . " -d postgres -c "
       . GeminiTAP::shell_quote("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM gemini.trades; SELECT pg_sleep(3); SELECT gemini_pull_since('WPBUSD', '2026-03-02 00:00+00'); COMMIT;")
       . " >$rr 2>&1 &");
wait_for('the REPEATABLE READ transaction has its snapshot', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%' AND wait_event = 'PgSleep'", '1', 20);
is(psql("SELECT gemini_pull_since('WPBUSD', '2026-03-02 00:00+00')"), $wpb_total, "another session pulls all $wpb_total trades of WPBUSD meanwhile");
wait_for('the REPEATABLE READ transaction ended', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%'", '0', 30);
{
  open(my $fh, '<', $rr); local $/; my $o = <$fh> // '';
  like($o, qr/could not serialize access due to concurrent update/, 'its pull fails with a serialization failure') or diag($o);
}
is(psql("SELECT count(*) || ' ' || count(DISTINCT tid) FROM gemini.trades WHERE symbol = 'WPBUSD'"), "$wpb_total $wpb_total", 'each trade stored once');

$c->pg_ctl('-m fast stop');
done_testing();
