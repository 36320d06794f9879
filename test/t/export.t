#!/usr/bin/perl
# test/t/export.t: exports to a real S3-compatible server (s3rver) behind a
# proxy that checks SigV4 signatures as S3 does (test/s3/sigv4_proxy.js),
# read back by independent tools: the aws CLI downloads the objects and
# DuckDB (a stand-in for Athena) reads them with the column types of
# gemini_athena_ddl.  In a throwaway cluster of its own:
#   - trades (pulled from the replay server, plus edge rows) and a user
#     table of edge values, exported as csv.gz and jsonl.gz, equal the
#     tables row for row (exact decimals, millisecond and microsecond times,
#     NULLs, quotes, commas, newlines, backslashes, non-ASCII text);
#   - a re-export changes nothing (same keys, ETags, checksums); after rows
#     changed it replaces the hour; with fewer parts it removes the extra;
#     another format replaces the hour's objects;
#   - multipart uploads with a 5 MB part size; the endpoint failing in the
#     middle of one gives an error and an aborted upload (no open uploads
#     left), and a re-run succeeds; 503s are retried;
#   - a wrong secret, an unknown key, a key without permission: clear
#     errors, nothing recorded, the secret in no message and no log line;
#   - credentials from the settings, the server's environment, its AWS
#     credentials file, and none at all; virtual-hosted URLs;
#   - aws_s3.query_export_to_s3 round trip (and a multipart one), and the
#     README's COPY ... TO PROGRAM recipe with the aws CLI.
# Needs REPLAY_URL and the S3_* variables of test/lib.sh's start_s3 (both
# started by test/run_all.sh).  Runs as root: the cluster runs as postgres.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;
use S3TAP qw(aws download s3_keys duck proxy same_text);

my $replay = $ENV{REPLAY_URL} or die "REPLAY_URL is not set (test/run_all.sh starts the replay server)";
my $s3 = $ENV{S3_ENDPOINT} or die "S3_ENDPOINT is not set (test/run_all.sh runs start_s3 from test/lib.sh)";
my $bucket = $ENV{S3_BUCKET};
my $key_id = $ENV{S3_ACCESS_KEY_ID};
my $secret = $ENV{S3_SECRET_ACCESS_KEY};
my $root = $ENV{REPO_ROOT} // "$FindBin::Bin/../..";
my $token = 'export';
my $work = tempdir('gemini_export_XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TAP});
chmod 0777, $work;

sub run { return GeminiTAP::run(@_); }
sub sq { return GeminiTAP::shell_quote(shift); }
sub admin { my ($m, $p, $b) = @_; return GeminiTAP::admin($m, "/t/$token$p", $b); }

# aws, download, s3_keys, duck, proxy, same_text: test/t/S3TAP.pm
S3TAP::init($work);

# ---------------------------------------------------------------------------
# The cluster: the server's environment names the credentials file (used
# once the settings are cleared, below).
# ---------------------------------------------------------------------------
$ENV{AWS_SHARED_CREDENTIALS_FILE} = $ENV{S3_CREDENTIALS_FILE};
# log_statement = all: the ALTER SYSTEM SET of the secret must not reach the log either
my $c = GeminiTAP->new_cluster(tz => 'UTC', extra_conf => "log_statement = 'all'\n");
delete $ENV{AWS_SHARED_CREDENTIALS_FILE};
sub sql { return $c->psql(shift); }
# Run SQL expected to fail; returns the error text.
sub sql_err {
  my $s = shift;
  my $r = eval { sql($s); 1 };
  return $r ? 'no error' : $@;
}
sub set_conf {
  my %kv = @_;
  sql("ALTER SYSTEM SET gemini_etl.$_ = " . ($kv{$_} eq 'DEFAULT' ? 'DEFAULT' : "'$kv{$_}'")) for sort keys %kv;
  sql("SELECT pg_reload_conf()");
  sleep 0.3;
}
sql('CREATE EXTENSION gemini_etl');
set_conf(api_url => "$replay/t/$token", rate_limit_rps => '0', s3_endpoint => $s3, s3_bucket => $bucket,
         s3_access_key_id => $key_id, s3_secret_access_key => $secret);

# Trades: 20,000 generated over three hours across midnight, and edge rows:
# decimals at the edges, negative, trailing zeros, times at hour edges.
my $day0 = `date -u -d '2 days ago' +%F`; chomp $day0;
my $day1 = `date -u -d '1 day ago' +%F`; chomp $day1;
admin('POST', '/config', qq({"recorded": false, "datasets": {
  "EXPUSD": {"count": 20000, "seed": 81, "start": "${day0}T22:00:00Z", "span_seconds": 10800}}}));
is(sql("SELECT gemini_pull_since('EXPUSD', '$day0 21:00+00')"), '20000', 'pulled 20,000 trades over three hours');
sql("INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, broken, source, run_id) VALUES
  ('EDGEUSD', 1, '$day0 23:00:00.000+00', 0.000000000000000001, 123456789012345678901234567890.123456789012345678, 'buy', false, 'rest', 7),
  ('EDGEUSD', 2, '$day0 23:59:59.999+00', 1.50000, -0.5, 'sell', true, 'ws', NULL),
  ('EDGEUSD', 3, '$day0 23:30:00.001+00', 99999999999999999999.99999999999999999999, 0.1, 'auction', false, 'rest', 9223372036854775807)");
my $range = "'$day0 22:00+00', '$day1 01:00+00'";
my $total = sql("SELECT count(*) FROM gemini.trades WHERE traded_at >= '$day0 22:00+00' AND traded_at < '$day1 01:00+00'");

# DuckDB column types from the Athena DDL (the types Athena would use).
sub ddl_types {
  my ($table, $format) = @_;
  my $ddl = sql("SELECT gemini_athena_ddl('$table', '$format')");
  my @cols;
  for my $line (split /\n/, $ddl) {
    last if $line =~ /^\)/;
    next unless $line =~ /^\s+`([^`]+)` (\S+?),?$/;
    push @cols, [$1, $2];
  }
  return @cols;
}
# DuckDB reading an export back with the DDL's types, against the table in
# PostgreSQL, as CSV text ordered by $order.
sub compare_export {
  my ($name, $table, $format, $prefix, $where, $order) = @_;
  my @cols = ddl_types($table, $format);
  my $csv = $format eq 'csv.gz';
  my (@dtypes, @dsel, @psel);
  for my $col (@cols) {
    my ($n, $t) = @$col;
    my $dt = $t eq 'string' ? 'VARCHAR' : $t eq 'bigint' ? 'BIGINT' : $t eq 'int' ? 'INTEGER'
           : $t eq 'boolean' ? 'BOOLEAN' : $t eq 'double' ? 'DOUBLE' : $t eq 'date' ? 'DATE'
           : $t =~ /^decimal/ ? uc($t) : $t eq 'timestamp' ? ($csv ? 'BIGINT' : 'TIMESTAMP') : die "type $t";
    push @dtypes, "'$n': '$dt'";
    my $qn = "\"$n\"";
    if ($t eq 'timestamp') {
      # OpenCSVSerde: epoch milliseconds; JSON: text, microseconds kept
      push @dsel, $csv ? "make_timestamp($qn * 1000)::VARCHAR AS $qn" : "${qn}::VARCHAR AS $qn";
      push @psel, $csv ? "(date_trunc('milliseconds', $qn) AT TIME ZONE 'UTC')::text AS $qn"
                       : "($qn AT TIME ZONE 'UTC')::text AS $qn";
    } elsif ($t eq 'double') {
      # DuckDB prints an integral double as 2.0, PostgreSQL as 2
      push @dsel, "regexp_replace(${qn}::VARCHAR, '\\.0\$', '') AS $qn";
      push @psel, "${qn}::text AS $qn";
    } else {
      push @dsel, $qn;
      push @psel, "${qn}::text AS $qn";
    }
  }
  my $dir = download("$prefix/");
  my $files = "$dir/**/*.$format";
  my $reader = $csv
    ? "read_csv('$files', hive_partitioning=true, header=true, quote='\"', escape='\"', allow_quoted_nulls=false, columns={" . join(', ', @dtypes) . "})"
    : "read_json('$files', format='newline_delimited', hive_partitioning=true, columns={" . join(', ', @dtypes) . "})";
  my $got = duck("SELECT " . join(', ', @dsel) . " FROM $reader ORDER BY $order");
  my $want = sql("SET DateStyle = ISO; COPY (SELECT " . join(', ', @psel) . " FROM $table WHERE $where ORDER BY $order) TO STDOUT WITH (FORMAT csv, HEADER true)");
  $want =~ s/^SET\n//;
  same_text($got, "$want\n", $name);
  return $dir;
}

# ---------------------------------------------------------------------------
# 1. csv.gz of trades: keys, records, manifests, and the rows as DuckDB reads them.
# ---------------------------------------------------------------------------
my $out = sql("SELECT key || ' ' || rows FROM gemini_export_s3('gemini.trades', $range) ORDER BY key");
my @objs = split /\n/, $out;
is(scalar(@objs), 3, 'one object per hour with rows (3 hours)');
like($objs[0], qr{^gemini/trades/dt=$day0/hour=22/part-00000\.csv\.gz \d+$}, 'keys are {prefix}/{table}/dt=/hour=/part-NNNNN.{ext}');
my $sum = 0; $sum += (split / /, $_)[1] for @objs;
is($sum, $total, "the objects hold every row of the interval ($total)");
is(sql("SELECT count(*) || ' ' || sum(rows) FROM gemini.exports WHERE source = 'gemini.trades'"), "3 $total",
   'gemini.exports records each object');
is(sql("SELECT count(*) FROM gemini.exports WHERE etag !~ '^\"[0-9a-f]{32}\"\$' OR sha256 !~ '^[0-9a-f]{64}\$' OR bytes <= 0"), '0',
   'each record has an ETag, a SHA-256 and a size');
my $keys = s3_keys('gemini/trades/');
is(scalar(grep { m{/_manifest\.json$} } @$keys), 3, 'a manifest per hour (named _..., which Athena skips)');
my $dir = compare_export('csv.gz read by DuckDB with the DDL types equals the table', 'gemini.trades', 'csv.gz',
                         'gemini/trades', "traded_at >= '$day0 22:00+00' AND traded_at < '$day1 01:00+00'", 'symbol, tid');
{
  my $sha = `sha256sum $dir/dt=$day0/hour=23/part-00000.csv.gz`; ($sha) = split / /, $sha;
  is(sql("SELECT sha256 FROM gemini.exports WHERE key LIKE '%dt=$day0/hour=23/part-00000.csv.gz'"), $sha,
     'the recorded SHA-256 is that of the downloaded object');
  my $m = `cat $dir/dt=$day0/hour=23/_manifest.json`;
  like($m, qr{"parts":\[\{"key":"gemini/trades/dt=$day0/hour=23/part-00000.csv.gz","rows":\d+}, 'the manifest lists the hour\'s parts');
  my $head = `zcat $dir/dt=$day0/hour=23/part-00000.csv.gz | head -2`;
  like($head, qr/^symbol,tid,traded_at,price,amount,side,broken,source,run_id,ingested_at\r\n/, 'RFC 4180: a header row, CRLF line ends');
}

# ---------------------------------------------------------------------------
# 2. A re-export changes nothing.
# ---------------------------------------------------------------------------
my $before = sql("SELECT string_agg(key || etag || sha256, ',' ORDER BY key) FROM gemini.exports");
proxy('DELETE', 'log');
sql("SELECT count(*) FROM gemini_export_s3('gemini.trades', $range)");
is(sql("SELECT string_agg(key || etag || sha256, ',' ORDER BY key) FROM gemini.exports"), $before,
   're-export: the same keys, ETags and checksums');
is_deeply(s3_keys('gemini/trades/'), $keys, 're-export: the same objects in the bucket');
my $log = proxy('GET', 'log');
unlike($log, qr/"method":"DELETE"/, 're-export deleted nothing');

# ---------------------------------------------------------------------------
# 3. jsonl.gz replaces the hour's objects; microseconds and NULLs kept.
# ---------------------------------------------------------------------------
sql("SELECT count(*) FROM gemini_export_s3('gemini.trades', $range, 'jsonl.gz')");
my $jkeys = s3_keys('gemini/trades/');
is(scalar(grep { /\.csv\.gz$/ } @$jkeys), 0, 'another format replaces the hour (no csv.gz left)');
is(scalar(grep { /\.jsonl\.gz$/ } @$jkeys), 3, 'three jsonl.gz objects');
my $jdir = compare_export('jsonl.gz read by DuckDB with the DDL types equals the table', 'gemini.trades', 'jsonl.gz',
               'gemini/trades', "traded_at >= '$day0 22:00+00' AND traded_at < '$day1 01:00+00'", 'symbol, tid');
like(`zcat $jdir/dt=$day0/hour=23/part-00000.jsonl.gz | grep '"EDGEUSD","tid":1,'`,
     qr/"price":"0.000000000000000001","amount":"123456789012345678901234567890.123456789012345678"/,
     'unconstrained numeric goes out as a JSON string, digit for digit');

# ---------------------------------------------------------------------------
# 4. Rows changed: the hour is replaced; fewer parts: the extra ones go.
# ---------------------------------------------------------------------------
sql("SET gemini_etl.s3_prefix = 'parts'");
sql("ALTER SYSTEM SET gemini_etl.s3_prefix = 'parts'"); sql("SELECT pg_reload_conf()"); sleep 0.3;
$out = sql("SET gemini_etl.s3_object_max_bytes = '64kB'; SELECT count(*) FROM gemini_export_s3('gemini.trades', '$day0 23:00+00', '$day1 00:00+00')");
my $many = scalar(grep { m{/part-} } @{s3_keys('parts/trades/')});
cmp_ok($many, '>=', 2, "a 64kB object limit splits the hour into $many parts");
sql("DELETE FROM gemini.trades WHERE symbol = 'EXPUSD' AND traded_at >= '$day0 23:30+00' AND traded_at < '$day1 00:00+00'");
sql("UPDATE gemini.trades SET price = 42.4242 WHERE symbol = 'EDGEUSD' AND tid = 2");
sql("SELECT count(*) FROM gemini_export_s3('gemini.trades', '$day0 23:00+00', '$day1 00:00+00')");
my $after = s3_keys('parts/trades/');
is(scalar(grep { m{/part-} } @$after), 1, 'the re-export with one part removed the extra parts');
is(sql("SELECT count(*) FROM gemini.exports WHERE key LIKE 'parts/trades/%'"), '1', 'and their records');
compare_export('after rows changed, the re-exported hour equals the table', 'gemini.trades', 'csv.gz',
               'parts/trades', "traded_at >= '$day0 23:00+00' AND traded_at < '$day1 00:00+00'", 'symbol, tid');
sql("ALTER SYSTEM RESET gemini_etl.s3_prefix"); sql("SELECT pg_reload_conf()"); sleep 0.3;

# ---------------------------------------------------------------------------
# 5. A user table of edge values, both formats.
# ---------------------------------------------------------------------------
sql(q{CREATE TABLE public.exp_edge (at timestamptz NOT NULL, qty integer NOT NULL, px numeric(12,4) NOT NULL,
  wide numeric(40,2), loose numeric, ratio double precision NOT NULL, day date, note text, ok boolean)});
sql(qq{INSERT INTO public.exp_edge VALUES
  ('$day0 10:00:00+00', 1, 99999999.9999, 12345678901234567890123456789012345678.99, 0.000000000000000000000000000001, 0.1, '2026-01-01', 'plain', true),
  ('$day0 10:00:00.000001+00', -2147483648, -99999999.9999, NULL, NULL, -2.5e-10, NULL, NULL, NULL),
  ('$day0 10:59:59.999999+00', 2147483647, 0.0001, -0.01, -123.456, 12345.678, '1999-12-31', 'comma, "quotes", back\\slash \\n', false),
  ('$day0 10:30:00+00', 0, 0, 0, 0, 0, '2026-02-28', '', true),
  ('$day0 10:31:00+00', 5, 1.5, 1.5, 1.5, 1.5, '2026-03-01', E'line one\\nline two', false),
  ('$day0 10:32:00+00', 6, 2, 2, 2, 2, '2026-03-02', 'é€ 😀 unicode', NULL)});
for my $fmt ('jsonl.gz', 'csv.gz') {
  sql("SELECT count(*) FROM gemini_export_s3('public.exp_edge', '$day0 10:00+00', '$day0 11:00+00', '$fmt')");
  compare_export("user table of edge values as $fmt equals the table", 'public.exp_edge', $fmt, 'gemini/exp_edge',
                 'true', '"at"');
}

# gemini.candles has two timestamptz columns: it goes by bucket_start, its
# primary key's, not updated_at.
sql("INSERT INTO gemini.candles (symbol, timeframe, bucket_start, open, high, low, close, volume, source, updated_at)
     SELECT 'EXPUSD', '1m', '$day0 12:00+00'::timestamptz + i * interval '1 minute', 1, 2, 0.5, 1.5, 10, 'computed', now()
       FROM generate_series(0, 89) i");
is(sql("SELECT string_agg(key || ' ' || rows, ',' ORDER BY key) FROM gemini_export_s3('gemini.candles', '$day0 12:00+00', '$day0 14:00+00')"),
   "gemini/candles/dt=$day0/hour=12/part-00000.csv.gz 60,gemini/candles/dt=$day0/hour=13/part-00000.csv.gz 30",
   'gemini.candles exports by bucket_start');

# ---------------------------------------------------------------------------
# 6. Multipart with a 5 MB part size; a failure mid-upload aborts it.
# ---------------------------------------------------------------------------
sql(qq{CREATE TABLE public.exp_big AS SELECT '$day0 05:00+00'::timestamptz + i * interval '10 ms' AS at,
  i, md5(i::text) AS a, md5((i * 7)::text) AS b FROM generate_series(1, 200000) i});
# A small hour before it: its PUT is still travelling when the big hour's
# multipart upload starts (http.c completes it first and keeps its answer).
sql(qq{INSERT INTO public.exp_big SELECT '$day0 04:30+00'::timestamptz + i * interval '1 s', -i, md5(i::text), 'small'
  FROM generate_series(1, 1000) i});
proxy('DELETE', 'log');
$out = sql("SET gemini_etl.s3_part_size = '5MB'; SELECT string_agg(rows || ':' || bytes, ' ' ORDER BY key) FROM gemini_export_s3('public.exp_big', '$day0 04:00+00', '$day0 06:00+00', 'jsonl.gz')");
my ($small, $big) = split / /, $out;
like($small, qr/^1000:\d+$/, 'the small hour: one object of 1000 rows');
$big =~ s/^\d+://;
cmp_ok($big, '>', 5 * 1024 * 1024, "the big hour's object ($big bytes) is larger than a part");
$log = proxy('GET', 'log');
my @parts = $log =~ /"method":"PUT"[^}]*"query":"partNumber=(\d+)&uploadId=[^"]*","status":200/g;
cmp_ok(scalar(@parts), '>=', 2, 'it went up as a multipart upload of ' . scalar(@parts) . ' parts');
like($log, qr/"method":"POST"[^}]*"query":"uploadId=[^"]*","status":200/, 'completed with CompleteMultipartUpload');
my $bdir = download('gemini/exp_big/');
is(duck("SELECT count(*) AS n, sum(i) AS s, min(a) AS a FROM read_json('$bdir/**/*.jsonl.gz', format='newline_delimited')"),
   "n,s,a\n" . sql("SELECT count(*) || ',' || sum(i) || ',' || min(a) FROM public.exp_big") . "\n",
   'both hours read back whole (the multipart object and the one overtaken by it)');
is(sql("SELECT string_agg(e.rows::text, ' ' ORDER BY e.key) FROM gemini.exports e WHERE e.key LIKE 'gemini/exp_big/%'"), '1000 200000',
   'and both are recorded');
my $etag_big = sql("SELECT etag FROM gemini.exports WHERE key LIKE 'gemini/exp_big/dt=$day0/hour=05/%'");

# The endpoint resets the connection in the middle of part 2, every time.
sql("DELETE FROM public.exp_big WHERE i % 1000 = 0");
proxy('DELETE', 'log');
proxy('POST', 'faults', '{"rules":[{"match":{"method":"PUT","query":"partNumber=2"},"action":"reset_after_bytes","bytes":100000,"times":-1}]}');
my $err = sql_err("SET gemini_etl.s3_part_size = '5MB'; SET gemini_etl.max_retries = 2; SELECT count(*) FROM gemini_export_s3('public.exp_big', '$day0 05:00+00', '$day0 06:00+00', 'jsonl.gz')");
like($err, qr/could not reach S3 for UploadPart 2 of s3:\/\/$bucket\/gemini\/exp_big\/.*after 3 attempts/, 'a connection reset mid-upload fails the export after its retries');
$log = proxy('GET', 'log');
like($log, qr/"method":"DELETE"[^}]*"query":"uploadId=[^"]*","status":204/, 'the multipart upload was aborted');
like(proxy('GET', 'uploads'), qr/^\[\]\s*$/, 'no multipart upload is left open');
is(sql("SELECT etag FROM gemini.exports WHERE key LIKE 'gemini/exp_big/dt=$day0/hour=05/%'"), $etag_big, 'the failed export recorded nothing');
proxy('DELETE', 'faults');
# 503 twice, then the retry succeeds.
proxy('POST', 'faults', '{"rules":[{"match":{"method":"PUT","query":"partNumber=1"},"action":"status","status":503,"times":2}]}');
proxy('DELETE', 'log');
$out = sql("SET gemini_etl.s3_part_size = '5MB'; SELECT rows FROM gemini_export_s3('public.exp_big', '$day0 05:00+00', '$day0 06:00+00', 'jsonl.gz')");
is($out, '199800', 'after two 503s the retried export succeeds');
is(scalar(() = proxy('GET', 'log') =~ /"status":503/g), 2, 'the two 503s were answered and retried');
isnt(sql("SELECT etag FROM gemini.exports WHERE key LIKE 'gemini/exp_big/dt=$day0/hour=05/%'"), $etag_big, 'the new object is recorded');
proxy('DELETE', 'faults');

# ---------------------------------------------------------------------------
# 7. Credentials: wrong, unknown, without permission; from the environment,
#    the credentials file, and none.  The secret is never shown.
# ---------------------------------------------------------------------------
my $count0 = sql("SELECT count(*) || ' ' || max(exported_at) FROM gemini.exports");
my $wrong = 'WRONGsecretWRONGsecretWRONGsecret/+abcd';
set_conf(s3_secret_access_key => $wrong);
$err = sql_err("SELECT count(*) FROM gemini_export_s3('gemini.trades', $range)");
like($err, qr/ERROR:  S3 rejected the request signature: the secret access key does not match access key id \.\.\.TEST/,
     'a wrong secret: the signature is rejected, and said so');
unlike($err, qr/\Q$wrong\E|\Q$secret\E/, 'the error shows neither secret');
set_conf(s3_access_key_id => 'AKIDNOSUCHKEY', s3_secret_access_key => $secret);
like(sql_err("SELECT count(*) FROM gemini_export_s3('gemini.trades', $range)"), qr/S3 does not know the access key id \.\.\.HKEY/,
     'an unknown key id is named as such');
set_conf(s3_access_key_id => $ENV{S3_DENIED_KEY_ID}, s3_secret_access_key => $ENV{S3_DENIED_SECRET});
like(sql_err("SELECT count(*) FROM gemini_export_s3('gemini.trades', $range)"), qr/S3 denied PUT s3:\/\/$bucket\/.* to access key id/,
     'a key without permission: access denied, with the permissions needed');
is(sql("SELECT count(*) || ' ' || max(exported_at) FROM gemini.exports"), $count0, 'failed exports recorded nothing');
unlike($c->server_log, qr/\Q$wrong\E|\Q$secret\E|\Q$ENV{S3_DENIED_SECRET}\E/, 'no secret in the server log');

# No settings: the credentials file named by the server's environment.
set_conf(s3_access_key_id => 'DEFAULT', s3_secret_access_key => 'DEFAULT');
is(sql("SELECT count(*) FROM gemini_export_s3('public.exp_edge', '$day0 10:00+00', '$day0 11:00+00')"), '1',
   'credentials from the AWS credentials file of the server');
# The server's environment instead; then nothing at all.
my ($rc, $o) = GeminiTAP::as_pg("env AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=" . sq($secret) . " AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
                                . "$GeminiTAP::BIN/pg_ctl -D $c->{data} -l $c->{dir}/server.log -w restart");
is($rc, 0, 'restart with credentials in the environment') or diag($o);
is(sql("SELECT count(*) FROM gemini_export_s3('public.exp_edge', '$day0 10:00+00', '$day0 11:00+00')"), '1',
   'credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
($rc, $o) = GeminiTAP::as_pg("env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
                             . "$GeminiTAP::BIN/pg_ctl -D $c->{data} -l $c->{dir}/server.log -w restart");
is($rc, 0, 'restart with no credentials anywhere') or diag($o);
proxy('DELETE', 'log');
like(sql_err("SELECT count(*) FROM gemini_export_s3('public.exp_edge', '$day0 10:00+00', '$day0 11:00+00')"),
     qr/no S3 credentials found.*DETAIL:.*\/nonexistent: No such file/s, 'no credentials: a clear error at once');
like(proxy('GET', 'log'), qr/^\[\]\s*$/, 'and nothing was sent');
set_conf(s3_access_key_id => $key_id, s3_secret_access_key => $secret);

# ---------------------------------------------------------------------------
# 8. Virtual-hosted URLs (bucket.localhost).
# ---------------------------------------------------------------------------
(my $vhost = $s3) =~ s/127\.0\.0\.1/localhost/;
set_conf(s3_endpoint => $vhost, s3_url_style => 'virtual');
proxy('DELETE', 'log');
is(sql("SELECT count(*) FROM gemini_export_s3('public.exp_edge', '$day0 10:00+00', '$day0 11:00+00', 'jsonl.gz')"), '1',
   'export with virtual-hosted URLs');
like(proxy('GET', 'log'), qr/"method":"PUT","host":"$bucket\.localhost:\d+","path":"\/gemini\/exp_edge\/dt%3D$day0\/hour%3D10\/part-00000.jsonl.gz"/,
     'the bucket in the host name, the key percent-encoded in the signed path');
set_conf(s3_endpoint => $s3, s3_url_style => 'DEFAULT');

# ---------------------------------------------------------------------------
# 9. aws_s3.query_export_to_s3, as on RDS; and COPY ... TO PROGRAM.
# ---------------------------------------------------------------------------
sql('CREATE EXTENSION gemini_etl_aws_s3');
my $q = "SELECT symbol, tid, price, amount, traded_at FROM gemini.trades WHERE symbol = ''EDGEUSD'' OR tid % 97 = 0 ORDER BY symbol, tid";
$out = sql("SELECT rows_uploaded || ' ' || files_uploaded || ' ' || bytes_uploaded FROM aws_s3.query_export_to_s3('$q',
  aws_commons.create_s3_uri('$bucket', 'rds/trades.csv', 'us-east-1'), options := 'format csv, header true')");
(my $plain_q = $q) =~ s/''/'/g;
my $want = sql("COPY ($plain_q) TO STDOUT WITH (FORMAT csv, HEADER true)") . "\n";
my ($nrows, $nfiles, $nbytes) = split / /, $out;
is($nrows, sql("SELECT count(*) FROM ($plain_q) s"), 'query_export_to_s3: rows_uploaded');
is("$nfiles $nbytes", "1 " . length($want), 'files_uploaded and bytes_uploaded');
($rc, $o) = aws("s3 cp --only-show-errors s3://$bucket/rds/trades.csv $work/rds.csv");
is(`cat $work/rds.csv`, $want, 'the object is exactly what COPY writes');
$out = sql("SET gemini_etl.s3_part_size = '5MB'; SELECT rows_uploaded || ' ' || bytes_uploaded FROM aws_s3.query_export_to_s3(
  'SELECT i, a, b FROM public.exp_big ORDER BY i', '$bucket', 'rds/big.txt', 'us-east-1')");
($nrows, $nbytes) = split / /, $out;
cmp_ok($nbytes, '>', 5 * 1024 * 1024, "a larger result ($nbytes bytes, text format) goes up in parts");
aws("s3 cp --only-show-errors s3://$bucket/rds/big.txt $work/big.txt");
is(`sha256sum < $work/big.txt`, `psql -X -h $c->{dir} -p $c->{port} -U postgres -d postgres -c 'COPY (SELECT i, a, b FROM public.exp_big ORDER BY i) TO STDOUT' | sha256sum`,
   'and reads back byte for byte');
is(sql("SELECT rows || ' ' || (interval_start IS NULL) FROM gemini.exports WHERE key = 'rds/big.txt'"), "$nrows true",
   'query exports are recorded too (with no interval)');

# The README's recipe: credentials from a file only the server reads, never on the command line.
($rc, $o) = run("cp $ENV{S3_CREDENTIALS_FILE} $work/pg_aws_credentials && chown postgres $work/pg_aws_credentials && chmod 600 $work/pg_aws_credentials");
sql("COPY (SELECT symbol, tid, price FROM gemini.trades WHERE symbol = 'EDGEUSD' ORDER BY tid) TO PROGRAM "
    . "'gzip | AWS_SHARED_CREDENTIALS_FILE=$work/pg_aws_credentials AWS_CONFIG_FILE=$ENV{S3_AWS_CONFIG_FILE} /usr/bin/aws --endpoint-url $s3 s3 cp - s3://$bucket/cli/edge.csv.gz' WITH (FORMAT csv)");
aws("s3 cp --only-show-errors s3://$bucket/cli/edge.csv.gz $work/edge.csv.gz");
is(`zcat $work/edge.csv.gz`, sql("COPY (SELECT symbol, tid, price FROM gemini.trades WHERE symbol = 'EDGEUSD' ORDER BY tid) TO STDOUT WITH (FORMAT csv)") . "\n",
   'COPY ... TO PROGRAM with the aws CLI, through the same signature check');

done_testing();
