--
-- export: what gemini_export_s3, gemini_athena_ddl and the aws_s3
-- functions check before any request goes out, the S3 settings and who may
-- see or set them, and the Athena DDL for each format.  The uploads
-- themselves, against an S3-compatible server behind a SigV4 check, are in
-- test/t/export.t.
--
CREATE ROLE regress_exp_op IN ROLE gemini_etl_operator;
CREATE TABLE exp_user (
    at      timestamptz NOT NULL,
    qty     integer NOT NULL,
    px      numeric(12,4) NOT NULL,
    wide    numeric(40,2),
    loose   numeric,
    ratio   double precision NOT NULL,
    day     date,
    note    text,
    ok      boolean
);
CREATE TABLE exp_no_time (a int, b text);
CREATE TABLE exp_two_times (a timestamptz, b timestamptz);

-- 1. Arguments.
SELECT test_error($$SELECT count(*) FROM gemini_export_s3(NULL, now(), now())$$) AS null_source;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', now(), NULL)$$) AS null_end;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', now(), now() + interval '1 hour', 'xml')$$) AS unknown_format;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', now(), now() + interval '1 hour', 'parquet')$$) AS parquet_no_bucket;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '2026-01-02', '2026-01-01')$$) AS backwards;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '-infinity', '2026-01-01')$$) AS infinite;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '2020-01-01', '2026-01-01')$$) AS too_long;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('exp_no_time', '2026-01-01', '2026-01-02')$$) AS no_time_column;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('exp_two_times', '2026-01-01', '2026-01-02')$$) AS two_time_columns;
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.stream_status', '2026-01-01', '2026-01-02')$$) AS a_view;
-- no bucket set: nothing is sent
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '2026-01-01', '2026-01-01 01:00')$$) AS no_bucket;
SELECT test_error($$SELECT gemini_athena_ddl('gemini.trades')$$) AS ddl_no_bucket;

-- 2. Settings: where data goes and the keys are the superuser's; the
--    secret is shown to nobody else, and not even listed.
SET gemini_etl.s3_bucket = 'Bad_Bucket';
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '2026-01-01', '2026-01-01 01:00')$$) AS bad_bucket;
SET gemini_etl.s3_bucket = 'regress-bucket';
SET gemini_etl.s3_region = 'us east';
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('gemini.trades', '2026-01-01', '2026-01-01 01:00')$$) AS bad_region;
RESET gemini_etl.s3_region;
SELECT test_error($$SET gemini_etl.s3_endpoint = 'ftp://x'$$) AS bad_endpoint;
SELECT test_error($$SET gemini_etl.s3_endpoint = 'http://x/'$$) AS endpoint_slash;
SELECT test_error($$SET gemini_etl.s3_url_style = 'sideways'$$) AS bad_style;
SELECT test_error($$SET gemini_etl.s3_prefix = '/abs'$$) AS bad_prefix;
SELECT test_error($$SET gemini_etl.s3_part_size = '1MB'$$) AS part_below_s3_minimum;
SELECT test_error($$SET gemini_etl.export_parquet_compression = 'lz4'$$) AS bad_compression;
SELECT test_error($$SET gemini_etl.export_numeric_scale = 39$$) AS scale_over_38;
SET gemini_etl.s3_secret_access_key = 'regress-secret-do-not-show';
SELECT count(*) AS secret_in_show_all FROM pg_settings WHERE name LIKE 'gemini_etl.s3%' AND setting LIKE '%regress-secret%'
   AND name <> 'gemini_etl.s3_secret_access_key';
SET ROLE regress_exp_op;
SELECT test_error($$SELECT current_setting('gemini_etl.s3_secret_access_key')$$) AS operator_reads_secret;
SELECT test_error($$SET gemini_etl.s3_bucket = 'elsewhere'$$) AS operator_sets_bucket;
SELECT test_error($$SET gemini_etl.s3_endpoint = 'http://attacker.example'$$) AS operator_sets_endpoint;
SELECT test_error($$SET gemini_etl.s3_access_key_id = 'AKIDX'$$) AS operator_sets_key;
SELECT count(*) AS secret_rows_for_operator FROM pg_settings WHERE name = 'gemini_etl.s3_secret_access_key';
-- an operator may export only what it may read
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('exp_user', '2026-01-01', '2026-01-01 01:00')$$) AS operator_unreadable;
RESET ROLE;
-- only one half of a key pair
SELECT test_error($$SELECT count(*) FROM gemini_export_s3('exp_user', '2026-01-01', '2026-01-01 01:00')$$) AS half_a_key;
RESET gemini_etl.s3_secret_access_key;

-- 3. The Athena DDL of each format (the projection's first day is the
--    oldest exported hour, else 7 days ago: masked).
\pset format unaligned
\pset tuples_only on
SELECT regexp_replace(gemini_athena_ddl('gemini.trades'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
SELECT regexp_replace(gemini_athena_ddl('gemini.trades', 'jsonl.gz'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
SET gemini_etl.s3_prefix = 'lake/raw';
SELECT regexp_replace(gemini_athena_ddl('exp_user', 'jsonl.gz'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
SELECT regexp_replace(gemini_athena_ddl('exp_user', 'csv.gz'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
SELECT regexp_replace(gemini_athena_ddl('exp_user', 'parquet'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
SET gemini_etl.export_numeric_scale = 8;
SELECT regexp_replace(gemini_athena_ddl('gemini.trades', 'parquet'), '\d{4}-\d\d-\d\d,NOW', 'DAY,NOW');
RESET gemini_etl.export_numeric_scale;
RESET gemini_etl.s3_prefix;
\pset format aligned
\pset tuples_only off
SELECT test_error($$SELECT gemini_athena_ddl('exp_no_time')$$) AS ddl_no_time;
SELECT test_error($$SELECT gemini_athena_ddl('gemini.trades', 'orc')$$) AS ddl_bad_format;

-- 4. The aws_s3 functions RDS users know: same schemas, signatures, types.
CREATE EXTENSION gemini_etl_aws_s3;
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS returns
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('aws_s3', 'aws_commons') ORDER BY 1::text;
SELECT aws_commons.create_s3_uri('my-bucket', 'exports/trades.csv', 'us-east-1');
SELECT (aws_commons.create_s3_uri('my-bucket', 'exports/trades.csv', 'us-east-1')).file_path;
SELECT has_function_privilege('regress_exp_op', 'aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text)', 'EXECUTE') AS operator_may,
       has_function_privilege('public', 'aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text)', 'EXECUTE') AS public_may;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1', aws_commons.create_s3_uri('regress-bucket', 'x.csv', 'us-east-1'), 'format csv, header maybe')$$) AS bad_option_value;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1', aws_commons.create_s3_uri('regress-bucket', 'x.csv', 'us-east-1'), 'format csv); DROP TABLE exp_user; (x')$$) AS options_injection;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1; SELECT 2', aws_commons.create_s3_uri('regress-bucket', 'x.csv', 'us-east-1'))$$) AS two_statements;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3(NULL, aws_commons.create_s3_uri('regress-bucket', 'x.csv', 'us-east-1'))$$) AS null_query;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1', aws_commons.create_s3_uri('regress-bucket', '/x.csv', 'us-east-1'))$$) AS absolute_key;
SELECT test_error($$SELECT rows_uploaded FROM aws_s3.query_export_to_s3('SELECT 1', 'Not A Bucket', 'x.csv')$$) AS bad_bucket_arg;
SELECT to_regclass('exp_user') IS NOT NULL AS exp_user_still_there;
DROP EXTENSION gemini_etl_aws_s3;
DROP TABLE exp_user, exp_no_time, exp_two_times;
DROP ROLE regress_exp_op;
