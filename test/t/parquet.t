#!/usr/bin/perl
# test/t/parquet.t: Parquet exports, read back by two independent readers,
# DuckDB and hyparquet, which share no code with each other or with us.
# In a throwaway cluster of its own, against the S3 test server:
#   - trades (pulled from the replay server plus edge rows) and a table of
#     every supported type with values at their edges (decimals at the edge
#     of their precision, negative, NULL in every nullable column, times at
#     day boundaries) as Parquet with ZSTD, SNAPPY and no compression: both
#     readers give the table's rows, row for row, digit for digit;
#   - DuckDB's parquet_metadata(): the compression, the encodings
#     (RLE_DICTIONARY for symbol, side, source), statistics equal to the
#     data's min, max and null count; several row groups with a small
#     row-group size; an empty hour has no object, an empty result (aws_s3)
#     a valid file of no rows;
#   - a value that does not fit its DECIMAL fails clearly (never rounded);
#   - round-trip fuzz: random rows of every type, several seeds, through
#     our writer and DuckDB, compared;
#   - the Athena DDL (STORED AS PARQUET) and aws_s3's 'format parquet'.
# Needs REPLAY_URL and the S3_* variables (test/run_all.sh starts both).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;
use S3TAP qw(aws download s3_keys duck hyparquet proxy same_text);

my $replay = $ENV{REPLAY_URL} or die "REPLAY_URL is not set (test/run_all.sh starts the replay server)";
my $s3 = $ENV{S3_ENDPOINT} or die "S3_ENDPOINT is not set (test/run_all.sh runs start_s3 from test/lib.sh)";
my $bucket = $ENV{S3_BUCKET};
my $token = 'parquet';
my $work = tempdir('gemini_parquet_XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TAP});
chmod 0777, $work;
S3TAP::init($work);

my $c = GeminiTAP->new_cluster(tz => 'UTC');
sub sql { return $c->psql(shift); }
sub sql_err { my $s = shift; my $r = eval { sql($s); 1 }; return $r ? 'no error' : $@; }
sql('CREATE EXTENSION gemini_etl');
sql("ALTER SYSTEM SET gemini_etl.$_->[0] = '$_->[1]'") for
  ['api_url', "$replay/t/$token"], ['rate_limit_rps', '0'], ['s3_endpoint', $s3], ['s3_bucket', $bucket],
  ['s3_access_key_id', $ENV{S3_ACCESS_KEY_ID}], ['s3_secret_access_key', $ENV{S3_SECRET_ACCESS_KEY}];
sql('SELECT pg_reload_conf()');
sleep 0.3;

my $day0 = `date -u -d '2 days ago' +%F`; chomp $day0;
my $day1 = `date -u -d '1 day ago' +%F`; chomp $day1;
GeminiTAP::admin('POST', "/t/$token/config", qq({"recorded": false, "datasets": {
  "PQTUSD": {"count": 20000, "seed": 91, "start": "${day0}T22:00:00Z", "span_seconds": 10800}}}));
is(sql("SELECT gemini_pull_since('PQTUSD', '$day0 21:00+00')"), '20000', 'pulled 20,000 trades over three hours');
sql("INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, broken, source, run_id) VALUES
  ('EDGEUSD', 1, '$day0 23:59:59.999+00', 0.000000000000000001, 99999999999999999999.999999999999999999, 'buy', false, 'rest', 7),
  ('EDGEUSD', 2, '$day1 00:00:00+00', -99999999999999999999.999999999999999999, -0.000000000000000001, 'block', true, 'ws', NULL)");
my $trange = "'$day0 22:00+00', '$day1 01:00+00'";
my $twhere = "traded_at >= '$day0 22:00+00' AND traded_at < '$day1 01:00+00'";

# What PostgreSQL says the rows are, in each reader's words.
# DuckDB: decimals with their scale, timestamps in UTC with +00, doubles shortest.
sub pg_duck_text {
  my ($table, $where, $order, @cols) = @_;
  my $out = sql("SET DateStyle = ISO; COPY (SELECT " . join(', ', map { $_->[1] } @cols)
                . " FROM $table WHERE $where ORDER BY $order) TO STDOUT WITH (FORMAT csv, HEADER true)");
  return "$out\n";
}
sub duck_text {
  my ($files, $order, @cols) = @_;
  return duck("SELECT " . join(', ', map { $_->[2] // "\"$_->[0]\"" } @cols)
              . " FROM read_parquet('$files') ORDER BY $order");
}

# ---------------------------------------------------------------------------
# 1. Trades, with each compression.
# ---------------------------------------------------------------------------
my @tcols = (
  ['symbol', 'symbol'], ['tid', 'tid'],
  ['traded_at', "traded_at::text AS traded_at"],
  ['price', "price::numeric(38,18)::text AS price"], ['amount', "amount::numeric(38,18)::text AS amount"],
  ['side', 'side'], ['broken', 'broken::text AS broken'], ['source', 'source'], ['run_id', 'run_id'],
  ['ingested_at', "ingested_at::text AS ingested_at"]);
# hyparquet: exact decimals, microseconds since 1970
my $hq_sel = "symbol, tid, (extract(epoch FROM traded_at) * 1000000)::bigint AS traded_at,
  price::numeric(38,18)::text AS price, amount::numeric(38,18)::text AS amount, side, broken::text AS broken,
  source, run_id, (extract(epoch FROM ingested_at) * 1000000)::bigint AS ingested_at";
my $pg_trades = pg_duck_text('gemini.trades', $twhere, 'symbol, tid', @tcols);
my $pg_trades_hq = sql("COPY (SELECT $hq_sel FROM gemini.trades WHERE $twhere ORDER BY traded_at, symbol, tid) TO STDOUT WITH (FORMAT csv, HEADER true)") . "\n";
my $i = 0;
for my $codec ('zstd', 'snappy', 'none') {
  my $prefix = "pq$i";
  $i++;
  my $out = sql("SET gemini_etl.s3_prefix = '$prefix'; SET gemini_etl.export_parquet_compression = '$codec';
                 SELECT count(*) || ' ' || sum(rows) FROM gemini_export_s3('gemini.trades', $trange, 'parquet')");
  my $total = sql("SELECT count(*) FROM gemini.trades WHERE $twhere");
  is($out, "3 $total", "$codec: one object per hour, every row");
  my $dir = download("$prefix/trades/");
  my @files = sort glob("$dir/*/*/*.parquet");
  is(scalar(@files), 3, "$codec: three .parquet objects downloaded");
  same_text(duck_text("$dir/**/*.parquet", 'symbol, tid', @tcols), $pg_trades, "$codec: DuckDB reads the table's rows");
  same_text(hyparquet(@files), $pg_trades_hq, "$codec: hyparquet reads the table's rows");
  my $md = duck("SELECT DISTINCT compression FROM parquet_metadata('$dir/**/*.parquet')");
  is($md, "compression\n" . ($codec eq 'none' ? 'UNCOMPRESSED' : uc $codec) . "\n", "$codec: parquet_metadata shows the compression");
}
sql("ALTER SYSTEM SET gemini_etl.s3_prefix = 'pq0'"); sql('SELECT pg_reload_conf()'); sleep 0.3;

# Gemini's decimals as DECIMAL(18,s) (INT64, DELTA_BINARY_PACKED or a dictionary).
{
  my $h22 = "traded_at >= '$day0 22:00+00' AND traded_at < '$day0 23:00+00'";
  my $sc = sql("SELECT max(greatest(scale(price), scale(amount))) FROM gemini.trades WHERE $h22");
  sql("SET gemini_etl.s3_prefix = 'pq18'; SET gemini_etl.export_numeric_precision = 18; SET gemini_etl.export_numeric_scale = $sc;
       SELECT count(*) FROM gemini_export_s3('gemini.trades', '$day0 22:00+00', '$day0 23:00+00', 'parquet')");
  my $d18 = download('pq18/trades/');
  my @c18 = (['symbol', 'symbol'], ['tid', 'tid'], ['price', "price::numeric(18,$sc)::text AS price"],
             ['amount', "amount::numeric(18,$sc)::text AS amount"]);
  same_text(duck_text("$d18/**/*.parquet", 'symbol, tid', @c18), pg_duck_text('gemini.trades', $h22, 'symbol, tid', @c18),
            "DECIMAL(18,$sc) as INT64: DuckDB reads every price and amount");
  like(duck("SELECT DISTINCT path_in_schema, type FROM parquet_metadata('$d18/**/*.parquet') WHERE path_in_schema IN ('price', 'amount') ORDER BY 1"),
       qr/amount,INT64\nprice,INT64/, 'stored as INT64');
  my @hq18 = split /\n/, hyparquet(glob("$d18/*/*/*.parquet"));
  shift @hq18;    # the header
  my $pq18 = sql("COPY (SELECT price::numeric(18,$sc)::text AS price, amount::numeric(18,$sc)::text AS amount FROM gemini.trades WHERE $h22 ORDER BY traded_at, symbol, tid) TO STDOUT WITH (FORMAT csv)");
  is(join("\n", map { join(',', (split /,/)[3, 4]) } @hq18), $pq18, 'and hyparquet too');
}

# Encodings and statistics of one hour's file, against the data.
my $dir = download('pq0/trades/');
my $f = "$dir/dt=$day0/hour=23/part-00000.parquet";
my $meta = duck("SELECT path_in_schema AS col, encodings, stats_min_value AS min, stats_max_value AS max, stats_null_count AS nulls
                 FROM parquet_metadata('$f') ORDER BY column_id");
like($meta, qr/^symbol,"PLAIN, RLE_DICTIONARY, RLE",/m, 'symbol is dictionary-encoded');
like($meta, qr/^side,"PLAIN, RLE_DICTIONARY, RLE",/m, 'side is dictionary-encoded');
like($meta, qr/^source,"PLAIN, RLE_DICTIONARY, RLE",/m, 'source is dictionary-encoded');
my $h = "traded_at >= '$day0 23:00+00' AND traded_at < '$day1 00:00+00'";
my $stats = duck("SELECT path_in_schema AS col, stats_min_value AS min, stats_max_value AS max, stats_null_count AS nulls
                  FROM parquet_metadata('$f') WHERE path_in_schema IN ('symbol', 'tid', 'price', 'run_id', 'traded_at') ORDER BY column_id");
my $want_stats = sql("SELECT string_agg(l, E'\\n') FROM (VALUES
   (1, (SELECT 'symbol,' || min(symbol) || ',' || max(symbol) || ',0' FROM gemini.trades WHERE $h)),
   (2, (SELECT 'tid,' || min(tid) || ',' || max(tid) || ',0' FROM gemini.trades WHERE $h)),
   (3, (SELECT 'traded_at,' || min(traded_at) || ',' || max(traded_at) || ',0' FROM gemini.trades WHERE $h)),
   (4, (SELECT 'price,' || min(price)::numeric(38,18) || ',' || max(price)::numeric(38,18) || ',0' FROM gemini.trades WHERE $h)),
   (5, (SELECT 'run_id,' || min(run_id) || ',' || max(run_id) || ',' || count(*) FILTER (WHERE run_id IS NULL) FROM gemini.trades WHERE $h))) v(n, l)");
is($stats, "col,min,max,nulls\n$want_stats\n", 'column statistics (min, max, null count) match the data');
like(duck("SELECT DISTINCT encodings FROM parquet_metadata('$f') WHERE path_in_schema = 'ingested_at'"),
     qr/RLE_DICTIONARY|DELTA_BINARY_PACKED/, 'timestamps: dictionary or DELTA_BINARY_PACKED');

# ---------------------------------------------------------------------------
# 2. Every type at its edges, NULL in every nullable column.
# ---------------------------------------------------------------------------
sql(q{CREATE TABLE public.pq_edge (
  at timestamptz NOT NULL, i2 smallint, i4 integer, i8 bigint NOT NULL, b boolean, f4 real, f8 double precision,
  d6 numeric(18,6), d38 numeric(38,10), d0 numeric(5,0), n numeric, ts timestamp, d date, t text, tn text NOT NULL)});
sql(qq{INSERT INTO public.pq_edge VALUES
  ('$day0 23:59:59.999999+00', 32767, 2147483647, 9223372036854775807, true, 1.5, 0.1,
   999999999999.999999, 9999999999999999999999999999.9999999999, 99999, 99999999999999999999.999999999999999999,
   '2026-01-01 00:00:00', '2026-12-31', 'plain', 'é€ 😀'),
  ('$day0 23:00:00+00', -32768, -2147483648, -9223372036854775808, false, -2.25, -2.5e-10,
   -999999999999.999999, -9999999999999999999999999999.9999999999, -99999, -99999999999999999999.999999999999999999,
   '1970-01-01 00:00:00.000001', '1970-01-01', 'comma, "quote", back\\slash', ''),
  ('$day0 23:30:00+00', NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'all NULL'),
  ('$day0 23:30:00.5+00', 0, 0, 1, true, 0, 0, 0, 0, 0, 0, '1999-12-31 23:59:59.999999', '2000-02-29', '', 'zeros')});
my @ecols = map { [$_, "${_}::text AS $_"] } qw(at i2 i4 i8 b f4 f8 d6 d38 d0);
push @ecols, ['n', 'n::numeric(38,18)::text AS n'], ['ts', "(ts::text || '+00') AS ts"], ['d', 'd::text AS d'],
             ['t', 't'], ['tn', 'tn'];
$ecols[$_->[0]][2] = $_->[1] for ([5, q{regexp_replace(f4::VARCHAR, '\.0$', '') AS f4}], [6, q{regexp_replace(f8::VARCHAR, '\.0$', '') AS f8}]);
sql("SELECT count(*) FROM gemini_export_s3('public.pq_edge', '$day0 23:00+00', '$day1 00:00+00', 'parquet')");
my $edir = download('pq0/pq_edge/');
same_text(duck_text("$edir/**/*.parquet", '"at"', @ecols), pg_duck_text('public.pq_edge', 'true', '"at"', @ecols),
          'every type at its edges, read by DuckDB');
my $eq = sql(q{COPY (SELECT (extract(epoch FROM at) * 1000000)::bigint AS at, i2, i4, i8, b::text AS b,
  (f4::float8)::text AS f4, f8::text AS f8, d6::text AS d6, d38::text AS d38, d0::text AS d0, n::numeric(38,18)::text AS n,
  (extract(epoch FROM ts) * 1000000)::bigint AS ts, (d - date '1970-01-01') AS d, t, tn
  FROM public.pq_edge ORDER BY at) TO STDOUT WITH (FORMAT csv, HEADER true)}) . "\n";
same_text(hyparquet(glob("$edir/*/*/*.parquet")), $eq, 'every type at its edges, read by hyparquet');
is(duck("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('$edir/**/*.parquet')) WHERE column_name IN ('d6','d38','n','at','ts','d','i2','f4')"),
   "column_name,column_type\nat,TIMESTAMP WITH TIME ZONE\ni2,INTEGER\nf4,FLOAT\nd6,\"DECIMAL(18,6)\"\nd38,\"DECIMAL(38,10)\"\nn,\"DECIMAL(38,18)\"\nts,TIMESTAMP WITH TIME ZONE\nd,DATE\n",
   'types: DECIMAL from the typmod, DECIMAL(38,18) for numeric, TIMESTAMP adjusted to UTC, DATE');

# A value that does not fit is an error, never rounded.
sql("INSERT INTO public.pq_edge (at, i8, n, tn) VALUES ('$day0 23:45+00', 5, 0.0000000000000000001, 'too fine')");
like(sql_err("SELECT count(*) FROM gemini_export_s3('public.pq_edge', '$day0 23:00+00', '$day1 00:00+00', 'parquet')"),
     qr/value 0.0000000000000000001 of column "n" does not fit its Parquet type DECIMAL\(38,18\).*DETAIL:  It has more decimal places than the scale; an export never rounds/s,
     'a value with more decimal places than the scale fails clearly');
like(sql_err("SET gemini_etl.export_numeric_scale = 19; SELECT sum(rows) FROM gemini_export_s3('public.pq_edge', '$day0 23:00+00', '$day1 00:00+00', 'parquet')"),
     qr/value -99999999999999999999.999999999999999999 of column "n" does not fit its Parquet type DECIMAL\(38,19\).*DETAIL:  It has more digits than the precision/s,
     'with export_numeric_scale = 19 that value fits, and a 20-digit integer part no longer does');
sql("DELETE FROM public.pq_edge WHERE tn = 'too fine'");
sql("UPDATE public.pq_edge SET n = 'NaN' WHERE tn = 'zeros'");
like(sql_err("SELECT count(*) FROM gemini_export_s3('public.pq_edge', '$day0 23:00+00', '$day1 00:00+00', 'parquet')"),
     qr/Parquet decimals have no NaN or infinity/, 'NaN fails clearly');
sql("UPDATE public.pq_edge SET n = 0 WHERE tn = 'zeros'");

# ---------------------------------------------------------------------------
# 3. Row groups, an empty hour, an empty file.
# ---------------------------------------------------------------------------
is(sql("SET gemini_etl.s3_prefix = 'pqrg'; SET gemini_etl.export_parquet_row_group_bytes = '64kB';
        SELECT count(*) FROM gemini_export_s3('gemini.trades', '$day0 23:00+00', '$day1 00:00+00', 'parquet')"), '1',
   'a small row-group size: still one object');
my $rdir = download('pqrg/trades/');
cmp_ok(duck("SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('$rdir/**/*.parquet')") =~ /(\d+)\s*$/ ? $1 : 0,
       '>', 3, 'several row groups in it');
same_text(duck_text("$rdir/**/*.parquet", 'symbol, tid', @tcols),
          pg_duck_text('gemini.trades', "traded_at >= '$day0 23:00+00' AND traded_at < '$day1 00:00+00'", 'symbol, tid', @tcols),
          'and every row reads back');
is(sql("SELECT count(*) FROM gemini_export_s3('gemini.trades', '$day0 10:00+00', '$day0 12:00+00', 'parquet')"), '0',
   'an hour with no rows writes no object');
sql('CREATE EXTENSION gemini_etl_aws_s3');
is(sql("SELECT rows_uploaded || ' ' || files_uploaded FROM aws_s3.query_export_to_s3('SELECT * FROM gemini.trades WHERE false',
        aws_commons.create_s3_uri('$bucket', 'rds/empty.parquet', 'us-east-1'), 'format parquet')"), '0 1',
   'aws_s3: an empty result is one file');
aws("s3 cp --only-show-errors s3://$bucket/rds/empty.parquet $work/empty.parquet");
is(duck("SELECT count(*) AS n FROM read_parquet('$work/empty.parquet')"), "n\n0\n", 'a Parquet file of no rows that DuckDB reads');
is(hyparquet("$work/empty.parquet"), "symbol,tid,traded_at,price,amount,side,broken,source,run_id,ingested_at\n",
   'and hyparquet reads (the columns, no rows)');
is(sql("SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT symbol, tid, price FROM gemini.trades WHERE symbol = ''EDGEUSD''',
        aws_commons.create_s3_uri('$bucket', 'rds/edge.parquet', 'us-east-1'), 'format parquet')"), '2', 'aws_s3: format parquet');
aws("s3 cp --only-show-errors s3://$bucket/rds/edge.parquet $work/edge.parquet");
is(duck("SELECT symbol, tid, price FROM read_parquet('$work/edge.parquet') ORDER BY tid"),
   "symbol,tid,price\nEDGEUSD,1,0.000000000000000001\nEDGEUSD,2,-99999999999999999999.999999999999999999\n",
   'aws_s3 parquet reads back exactly');
like(sql_err("SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1', aws_commons.create_s3_uri('$bucket', 'x.parquet', 'us-east-1'), 'format parquet, header true')"),
     qr/with format parquet, no other option applies/, 'aws_s3: parquet takes no COPY option');

# ---------------------------------------------------------------------------
# 4. Round-trip fuzz: random rows of every type, several seeds.  (Doubles
#    stay within 15 significant digits: DuckDB prints a double with 15,
#    PostgreSQL with as many as it takes; doubles needing 17 are checked
#    first, by hyparquet, whose JavaScript prints them in full.)
# ---------------------------------------------------------------------------
sql(qq{CREATE TABLE public.pq_f8 AS SELECT '$day0 19:00+00'::timestamptz + i * interval '1 s' AS at, v::float8 AS f8
  FROM (VALUES (1, 0.1::float8 + 0.2::float8), (2, 1.0454354333083599e18), (3, -1.1396423060373101e17), (4, 5e-324), (5, 1.7976931348623157e308)) x(i, v)});
sql("SELECT count(*) FROM gemini_export_s3('public.pq_f8', '$day0 19:00+00', '$day0 20:00+00', 'parquet')");
my $f8dir = download('pq0/pq_f8/');
is(hyparquet(glob("$f8dir/*/*/*.parquet")) =~ s/^[^\n]*\n//r =~ s/^\d+,//mgr,
   "0.30000000000000004\n1045435433308360000\n-113964230603731000\n5e-324\n1.7976931348623157e+308\n",
   'doubles to their last bit (hyparquet)');

sql(q{CREATE TABLE public.pq_fuzz (at timestamptz NOT NULL, i2 smallint, i4 integer, i8 bigint, b boolean,
  f8 double precision, d6 numeric(18,6), d38 numeric(38,10), n numeric, ts timestamp, d date, t text)});
for my $seed (1 .. 5) {
  sql("TRUNCATE public.pq_fuzz");
  sql("SELECT setseed(0.$seed)");
  sql(qq{INSERT INTO public.pq_fuzz
    SELECT '$day0 20:00+00'::timestamptz + (random() * 3600 * 1000000)::bigint * interval '1 microsecond',
      CASE WHEN random() < 0.1 THEN NULL ELSE (random() * 65535 - 32768)::int END,
      CASE WHEN random() < 0.1 THEN NULL ELSE (random() * 4294967295 - 2147483648)::bigint END,
      CASE WHEN random() < 0.1 THEN NULL ELSE ((random() - 0.5) * 9.2e18)::bigint END,
      CASE WHEN random() < 0.1 THEN NULL ELSE random() < 0.5 END,
      CASE WHEN random() < 0.1 THEN NULL ELSE round(((random() - 0.5) * 10 ^ (random() * 8))::numeric, 6)::float8 END,
      CASE WHEN random() < 0.1 THEN NULL ELSE round(((random() - 0.5) * 10 ^ (random() * 12))::numeric, (random() * 6)::int) END,
      CASE WHEN random() < 0.1 THEN NULL ELSE round(((random() - 0.5) * 10 ^ (random() * 28))::numeric, (random() * 10)::int) END,
      CASE WHEN random() < 0.1 THEN NULL ELSE round(((random() - 0.5) * 10 ^ (random() * 20))::numeric, (random() * 18)::int) END,
      CASE WHEN random() < 0.1 THEN NULL ELSE '1990-01-01'::timestamp + (random() * 1e15)::bigint * interval '1 microsecond' END,
      CASE WHEN random() < 0.1 THEN NULL ELSE '1970-01-01'::date + (random() * 40000)::int END,
      CASE WHEN random() < 0.1 THEN NULL ELSE repeat(chr(65 + (random() * 25)::int), (random() * 5)::int) || md5(random()::text) END
    FROM generate_series(1, 3000)});
  sql("SET gemini_etl.s3_prefix = 'fuzz$seed'; SELECT count(*) FROM gemini_export_s3('public.pq_fuzz', '$day0 20:00+00', '$day0 21:00+00', 'parquet')");
  my $fdir = download("fuzz$seed/pq_fuzz/");
  my @fc = map { [$_, "${_}::text AS $_"] } qw(i2 i4 i8 b d6 d38 t);
  unshift @fc, ['at', 'at::text AS at'];
  push @fc, ['n', 'n::numeric(38,18)::text AS n'], ['ts', "(ts::text || '+00') AS ts"], ['d', 'd::text AS d'],
            ['f8', 'f8::text AS f8', q{regexp_replace(f8::VARCHAR, '\.0$', '') AS f8}];
  same_text(duck_text("$fdir/**/*.parquet", '"at", i8', @fc), pg_duck_text('public.pq_fuzz', 'true', '"at", i8', @fc),
            "fuzz seed $seed: 3,000 random rows through our writer and DuckDB");
}

# ---------------------------------------------------------------------------
# 5. Athena.
# ---------------------------------------------------------------------------
# A column named like a partition key would be shadowed by it (DuckDB did
# exactly that here): the DDL refuses it.
sql("CREATE TABLE public.pq_dt (at timestamptz, dt date)");
like(sql_err("SELECT gemini_athena_ddl('public.pq_dt', 'parquet')"), qr/column "dt" of public.pq_dt has the name of a partition key/,
     'DDL: a column named dt is refused, with the reason');
my $ddl = sql("SELECT gemini_athena_ddl('gemini.trades', 'parquet')");
like($ddl, qr/`price` decimal\(38,18\),\n  `amount` decimal\(38,18\),/, 'DDL: numeric as decimal(38,18)');
like($ddl, qr/`traded_at` timestamp,/, 'DDL: timestamp');
like($ddl, qr/\nSTORED AS PARQUET\nLOCATION 's3:\/\/$bucket\/pq0\/trades\/'\n/, 'DDL: STORED AS PARQUET at the export location');
unlike($ddl, qr/SERDE/, 'DDL: no SerDe to set for Parquet');

done_testing();
