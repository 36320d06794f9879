#!/usr/bin/perl
# test/t/dump_restore.t: pg_dump keeps the extension's data and state, so a
# restored database goes on pulling from its watermarks (no gap, nothing
# fetched twice).  In a throwaway cluster of its own:
#   - pulls a symbol over two UTC days, symbols, candles, trades with
#     impossible times (quarantine), and a stream, top of book, book change
#     and dead letter written as superuser;
#   - pg_dump -Fc, then restores it (a) as a user would: createdb +
#     pg_restore --single-transaction into the same cluster, (b) with
#     pg_restore --create into a fresh cluster; both --exit-on-error, so any
#     error at all fails the restore;
#   - in each restored database: every table's rows and every sequence equal
#     the source's, the daily partitions are attached with their indexes,
#     the DEFAULT partitions are empty, and an incremental pull starts from
#     the restored watermark and stores exactly the trades appended since.
# Needs REPLAY_URL (test/run_all.sh starts the replay server). Runs as root:
# the clusters run as the postgres user.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;

my $replay = $ENV{REPLAY_URL} or plan skip_all => 'REPLAY_URL is not set';
my $bin = $GeminiTAP::BIN;
my $t0 = time;
my $token = 'dump_restore';
my $json = JSON::PP->new;

sub run { return GeminiTAP::run(@_); }
sub psql_at { my ($c, $db, $sql) = @_; return $c->psql($sql, db => $db); }
# The admin API of this test's namespace of the replay server.
sub admin { my ($method, $path, $body) = @_; return GeminiTAP::admin($method, "/t/$token$path", $body); }
sub replay_log { return $json->decode(admin('GET', '/log?format=json&since_seq=' . (shift // 0))); }
sub last_seq { my $l = replay_log(0); return @$l ? $l->[-1]{seq} : 0; }

# A cluster as the test needs it (GeminiTAP's, each in a directory of its
# own, stopped at exit): gemini_etl preloaded, its supervisor watching
# `postgres` (so the stream row below is data, not a live stream), REST at
# the replay server's namespace, no pacing; psql in UTC, the result only
# (notices and warnings, a pull's quarantine warning, go to stderr).
sub new_cluster {
  my $c = GeminiTAP->new_cluster(name => shift, tz => 'UTC', extra_conf => "max_worker_processes = 16\n");
  psql_at($c, 'postgres', "ALTER SYSTEM SET gemini_etl.api_url = '$replay/t/$token'");
  psql_at($c, 'postgres', "ALTER SYSTEM SET gemini_etl.rate_limit_rps = 0");
  psql_at($c, 'postgres', "SELECT pg_reload_conf()");
  return $c;
}

my $c1 = new_cluster('src_cluster');
psql_at($c1, 'postgres', 'CREATE DATABASE src');
sub src { return psql_at($c1, 'src', shift); }
src('CREATE EXTENSION gemini_etl');

# ---------------------------------------------------------------------------
# 1. Data and state in every table.
# ---------------------------------------------------------------------------
# DMPUSD: 3,000 trades from 23:00 UTC two days ago over three hours, so they
# cross midnight (days relative to today: partitions are made only for days
# Gemini can have trades for).  QDRUSD has trades with impossible times.
my $day0 = strftime('%Y-%m-%d', gmtime(time - 2 * 86400));
my $start = "${day0}T23:00:00Z";
my $cfg = admin('POST', '/config', qq({"recorded": false, "datasets": {
  "DMPUSD": {"count": 3000, "seed": 31, "start": "$start", "span_seconds": 10800},
  "QDRUSD": {"count": 400, "seed": 32, "start": "${day0}T12:00:00Z", "span_seconds": 600, "bad_times": 6}}}));
like($cfg, qr/"DMPUSD":3000/, 'replay namespace configured');

is(src("SELECT gemini_pull_since('DMPUSD', '$day0 22:00+00')"), '3000', 'pull over two days stores 3000 trades');
ok(src("SELECT gemini_pull_since('QDRUSD', '$day0 11:00+00')") > 0, 'pull of QDRUSD');
ok(src("SELECT count(*) FROM gemini.quarantine") > 0, 'impossible times are quarantined');
is(src("SELECT gemini_pull_since('DMPUSD')"), '0', 'a pull from the watermark stores nothing more');
ok(src("SELECT gemini_pull_symbols()") >= 2, 'symbols pulled from the replay server');
ok(src("SELECT gemini_pull_candles('DMPUSD', '1m')") > 0, '1m candles pulled');
ok(src("SELECT gemini_pull_candles('DMPUSD', '1hr')") > 0, '1hr candles pulled');
# No natural way without a websocket session: written as superuser.
src("INSERT INTO gemini.streams (symbols, channels, ws_url, protocol, api_url, run_as, desired)
     VALUES ('{DMPUSD}', '{l2,trades}', 'ws://127.0.0.1:1/v2/marketdata', 'v2', '$replay/t/$token', 'postgres', 'running')");
src("INSERT INTO gemini.top_of_book (symbol, bid, bid_size, ask, ask_size, updated_at) VALUES ('DMPUSD', 43000.12345678, 0.5, 43001.5, 1.25, '$day0 23:59:59.123456+00')");
src("INSERT INTO gemini.dead_letters (stream_id, reason, raw) VALUES (1, 'not JSON', '{\"type\": trunc')");
src("SELECT gemini.ensure_day_partitions('gemini.book_changes', '$day0', '$day0')");
src("INSERT INTO gemini.book_changes (symbol, received_at, side, price, size, snapshot, update_id, stream_id)
     VALUES ('DMPUSD', '$day0 23:59:59.5+00', 'bid', 43000.12345678, 0.5, true, NULL, 1)");

my $trades_days = src("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'gemini.trades'::regclass AND c.relname ~ '^trades_p[0-9]{8}\$'");
is($trades_days, '2', 'source: two daily partitions of gemini.trades');

# Every table of the extension (partitioned ones through their parent), as
# count and md5 of its rows in order; every sequence's position; the
# partitions; every index and constraint of schema gemini.
my $tables = [split /\n/, src("SELECT c.oid::regclass FROM pg_class c
   WHERE c.relnamespace = 'gemini'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")];
my %relkind = map { split /\|/ } split /\n/, src("SELECT c.oid::regclass, c.relkind FROM pg_class c WHERE c.relnamespace = 'gemini'::regnamespace");
my $marked = { map { $_ => 1 } split /\n/, src("SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'gemini_etl'") };
for my $t (qw(watermarks pulls quarantine symbols candles streams top_of_book dead_letters
              trades_default raw_pages_default book_changes_default run_id_seq
              quarantine_quarantine_id_seq streams_stream_id_seq dead_letters_dead_letter_id_seq)) {
  ok($marked->{"gemini.$t"}, "gemini.$t is marked for pg_dump");
}
sub snapshot {
  my ($c, $db) = @_;
  my %s;
  for my $t (@$tables) {
    # the default quality rules are made again by CREATE EXTENSION: compare them without created_at and owner
    my $rows = $t eq 'gemini.quality_rule_defs'
        ? "(SELECT rule_id, target, rule_name, rule, severity, enabled, builtin FROM $t) r" : "$t r";
    $s{$t} = psql_at($c, $db, "SELECT count(*) || ' ' || md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM $rows");
  }
  $s{sequences} = psql_at($c, $db, "SELECT string_agg(format('%s %s', sequencename, last_value), ', ' ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'gemini'");
  $s{partitions} = psql_at($c, $db, "SELECT string_agg(format('%s %s %s %s', parent, partitions, default_partition, default_rows), ', ' ORDER BY parent::text) FROM gemini.check_partitions()");
  $s{attached} = psql_at($c, $db, "SELECT string_agg(format('%s <- %s %s', i.inhparent::regclass, i.inhrelid::regclass, pg_get_expr(c.relpartbound, c.oid)), E'\\n' ORDER BY i.inhrelid::regclass::text)
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relnamespace = 'gemini'::regnamespace AND c.relkind IN ('r', 'p')");
  $s{indexes} = psql_at($c, $db, "SELECT string_agg(format('%s valid=%s parent=%s', pg_get_indexdef(x.indexrelid), x.indisvalid,
         coalesce((SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = x.indexrelid), '-')), E'\\n' ORDER BY c.relname)
      FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relnamespace = 'gemini'::regnamespace");
  $s{constraints} = psql_at($c, $db, "SELECT string_agg(format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\\n' ORDER BY conrelid::regclass::text, conname)
      FROM pg_constraint WHERE connamespace = 'gemini'::regnamespace");
  $s{extension} = psql_at($c, $db, "SELECT extversion || ' ' || extconfig::regclass[]::text || ' ' || coalesce(extcondition::text, '') FROM pg_extension WHERE extname = 'gemini_etl'");
  return \%s;
}
my $source = snapshot($c1, 'src');
is(src("SELECT string_agg(format('%s %s', parent, default_rows), ', ' ORDER BY parent::text) FROM gemini.check_partitions()"),
   'gemini.book_changes 0, gemini.raw_pages 0, gemini.trades 0', 'source: the DEFAULT partitions are empty');
my ($wm) = src("SELECT last_tid FROM gemini.watermarks WHERE symbol = 'DMPUSD'");
my $max_run = src("SELECT max(run_id) FROM gemini.pulls");
note(sprintf('source ready after %.1f s; watermark %s', time - $t0, $wm));

# ---------------------------------------------------------------------------
# 2. The dump.
# ---------------------------------------------------------------------------
my $dump = "$c1->{dir}/src.dump";
my ($rc, $out) = run("$bin/pg_dump " . $c1->conn_args . " -Fc -f $dump src");
is($rc, 0, 'pg_dump -Fc') or diag($out);
my @toc = split /\n/, `$bin/pg_restore -l $dump`;
ok((grep { /^\d+; \d+ \d+ TABLE DATA gemini watermarks / } @toc), 'the dump holds the watermarks');
ok((grep { /^\d+; \d+ \d+ SEQUENCE SET gemini run_id_seq / } @toc), 'the dump sets gemini.run_id_seq');
ok((grep { /^\d+; \d+ \d+ TABLE gemini trades_p\d{8} / } @toc) == 2, 'the dump makes the two daily partitions of gemini.trades');
ok(!(grep { /^\d+; \d+ \d+ TABLE DATA gemini (trades|raw_pages|book_changes) / } @toc),
   'no data entry for a partitioned parent (the rows are in the partitions\')');
# The parents have no indexes (each partition has its own), so a restore
# never makes a partition's index twice.
is(scalar(grep { /^\d+; \d+ \d+ INDEX ATTACH gemini / } @toc), 0, 'no partition index hangs off a parent index');
ok((grep { /^\d+; \d+ \d+ CONSTRAINT gemini trades_p\d{8} trades_p\d{8}_symbol_tid_key / } @toc) == 2,
   'each daily partition of gemini.trades brings its own unique key');

# Checks on a restored database; then it pulls what was appended meanwhile.
sub check_restored {
  my ($label, $c, $db, $appended) = @_;
  my $got = snapshot($c, $db);
  for my $k (sort keys %$source) {
    is($got->{$k}, $source->{$k}, "$label: $k as in the source");
  }
  is(psql_at($c, $db, "SELECT format('%s %s %s', symbols, desired, run_as) FROM gemini.streams"), '{DMPUSD} running postgres',
     "$label: the running stream is restored as a row");
  my $before = last_seq();
  is(psql_at($c, $db, "SELECT gemini_pull_since('DMPUSD')"), $appended,
     "$label: an incremental pull stores exactly the $appended trades appended since the dump");
  my @req = grep { $_->{route} eq 'trades' } @{ replay_log($before) };
  ok(@req >= 1, "$label: the pull made " . scalar(@req) . ' request(s)');
  is($req[0]{since_tid}, $wm, "$label: its first request asks since_tid = the restored watermark");
  ok(!defined $req[0]{timestamp} || $req[0]{timestamp} eq '', "$label: ... and no timestamp");
  my $sent = 0; $sent += $_->{n_trades} // 0 for @req;
  is($sent, $appended, "$label: the server sent only the new trades (no restored trade fetched again)");
  is(scalar(grep { ($_->{since_tid} // -1) < $wm } @req), 0, "$label: no request before the watermark");
  my %truth = map { (split /,/)[0] => 1 } grep { /^\d/ } split /\n/, admin('GET', '/truth/DMPUSD?format=csv');
  my %have = map { $_ => 1 } split /\n/, psql_at($c, $db, "SELECT tid FROM gemini.trades WHERE symbol = 'DMPUSD'");
  is(scalar(grep { !$have{$_} } keys %truth), 0, "$label: every trade the server has is stored");
  is(scalar(grep { !$truth{$_} } keys %have), 0, "$label: nothing else is stored");
  is(psql_at($c, $db, "SELECT count(*) - count(DISTINCT tid) FROM gemini.trades WHERE symbol = 'DMPUSD'"), '0',
     "$label: no trade stored twice");
  is(psql_at($c, $db, "SELECT format('%s %s %s', start_mode, start_tid, trades_new) FROM gemini.pulls ORDER BY run_id DESC LIMIT 1"),
     "since_tid $wm $appended", "$label: the new pull record");
  ok(psql_at($c, $db, "SELECT max(run_id) FROM gemini.pulls") > $max_run, "$label: the new run_id follows the restored ones");
  is(psql_at($c, $db, "SELECT string_agg(default_rows::text, ',') FROM gemini.check_partitions()"), '0,0,0',
     "$label: DEFAULT partitions still empty");
  is(psql_at($c, $db, "SELECT (SELECT count(*) FROM gemini.trade_keys WHERE symbol = 'DMPUSD')
                             = (SELECT count(*) FROM gemini.trades WHERE symbol = 'DMPUSD')
                          AND (SELECT count(*) FROM gemini.trade_id_spans WHERE symbol = 'DMPUSD') > 0"), 't',
     "$label: the registry (spans of the direct writes included) holds one key per trade");
  # Re-pulling the restored trades from a time stores none of them again:
  # the registry of stored trades (gemini.trade_ids, gemini.trade_id_spans)
  # is restored too.
  my $again = eval { psql_at($c, $db, "SELECT gemini_pull_since('DMPUSD', '$day0 22:00+00')") } // (split /\n/, $@)[0];
  is($again, '0', "$label: a pull from a time before the restored trades stores nothing twice");
}

# ---------------------------------------------------------------------------
# 3a. As a user would: createdb, pg_restore into it (same cluster).
# ---------------------------------------------------------------------------
my $appended = $json->decode(admin('POST', '/append', '{"symbol": "DMPUSD", "count": 40, "seed": 7}'))->{count};
is($appended, 40, 'Gemini publishes 40 more trades');
($rc, $out) = run("$bin/createdb " . $c1->conn_args . " copy");
is($rc, 0, 'createdb copy') or diag($out);
my $t1 = time;
($rc, $out) = run("$bin/pg_restore " . $c1->conn_args . " --single-transaction --exit-on-error -d copy $dump");
note(sprintf('pg_restore into copy: %.1f s', time - $t1));
is($rc, 0, 'pg_restore --single-transaction --exit-on-error: no error at all') or diag($out);
check_restored('same cluster', $c1, 'copy', $appended);

# ---------------------------------------------------------------------------
# 3b. A fresh cluster with the same settings: pg_restore --create.
# ---------------------------------------------------------------------------
my $more = $json->decode(admin('POST', '/append', '{"symbol": "DMPUSD", "count": 25, "seed": 8}'))->{count};
is($more, 25, 'and 25 more');
my $c2 = new_cluster('fresh_cluster');
$t1 = time;
($rc, $out) = run("$bin/pg_restore " . $c2->conn_args . " --create --exit-on-error -d postgres $dump");
note(sprintf('pg_restore --create into the fresh cluster: %.1f s', time - $t1));
is($rc, 0, 'pg_restore --create --exit-on-error into a fresh cluster: no error') or diag($out);
check_restored('fresh cluster', $c2, 'src', $appended + $more);

note(sprintf('total %.1f s', time - $t0));
done_testing();
