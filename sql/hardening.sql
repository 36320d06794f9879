--
-- hardening: the privilege model, exactness at the edges, partitions.
-- Each block checks something that was broken before the hardening issue:
-- the comment says what used to happen.
--
SELECT use_replay('hard', '{"recorded": false, "datasets": {"HRDUSD":
    {"count": 1200, "seed": 11, "start": "2026-06-01T10:00:00Z", "span_seconds": 3600}}}') ->> 'HRDUSD' AS hrdusd;
CREATE ROLE regress_hard_a IN ROLE gemini_etl_operator;
CREATE ROLE regress_hard_b IN ROLE gemini_etl_operator;

-- 1. Users read every table and write none (operators could INSERT a stream
--    row with run_as = 'postgres', or point api_url at any host).
SELECT count(*) AS tables, count(*) FILTER (WHERE has_table_privilege('gemini_etl_operator', c.oid, 'SELECT')) AS readable,
       count(*) FILTER (WHERE has_table_privilege('gemini_etl_operator', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable
  FROM pg_class c WHERE c.relnamespace = 'gemini'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition;
SET ROLE regress_hard_a;
SELECT test_error($$INSERT INTO gemini.streams (symbols, channels, ws_url, protocol, api_url, run_as)
                    VALUES ('{BTCUSD}', '{l2}', 'ws://127.0.0.1:1/v2/marketdata', 'v2', 'http://127.0.0.1:1', 'postgres')$$);
SELECT test_error($$UPDATE gemini.streams SET api_url = 'http://169.254.169.254'$$);
SELECT test_error($$INSERT INTO gemini.watermarks (symbol, last_tid) VALUES ('HRDUSD', 1)$$);
SELECT test_error($$DELETE FROM gemini.trades$$);
RESET ROLE;

-- 2. gemini.ensure_day_partitions (SECURITY DEFINER) accepted any table, so
--    an operator could have the superuser partition tables not its own.
CREATE TABLE regress_victim (ts timestamptz) PARTITION BY RANGE (ts);
SET ROLE regress_hard_a;
SELECT test_error($$SELECT * FROM gemini.ensure_day_partitions('regress_victim', '2026-06-01', '2026-06-01')$$);
SELECT test_error($$SELECT * FROM gemini.ensure_day_partitions('gemini.trades', '1999-01-01', '1999-01-01')$$);
RESET ROLE;
SELECT count(*) AS victim_partitions FROM pg_inherits WHERE inhparent = 'regress_victim'::regclass;

-- 3. Settings that hurt every user of the server are a superuser's.
SET ROLE regress_hard_a;
SELECT test_error($$SELECT set_config('gemini_etl.rate_limit_rps', '0', false)$$);
SELECT test_error($$SELECT set_config('gemini_etl.rate_limit_rps', '50', false)$$);
SELECT test_error($$SELECT set_config('gemini_etl.rate_limit_rps', '0.5', false)$$);
SELECT test_error($$SELECT set_config('gemini_etl.max_retries', '50', false)$$);
SELECT test_error($$SELECT set_config('gemini_etl.max_retries', '3', false)$$);
RESET ROLE;
SELECT test_error($$SELECT set_config('gemini_etl.max_response_bytes', '1GB', false)$$);
SELECT test_error($$SELECT set_config('gemini_etl.max_retries', '50', false)$$);
RESET gemini_etl.max_retries;
RESET gemini_etl.rate_limit_rps;
SELECT set_config('gemini_etl.rate_limit_rps', '0', false) AS superuser_sets_no_pacing;

-- 4. Partition bounds are UTC midnights whatever DateStyle, TimeZone and
--    the abbreviations say (bounds went through text in the session's
--    style: IST printed for Jerusalem and read back as India's).
SET datestyle = 'Postgres, DMY';
SET timezone = 'Asia/Jerusalem';
SET timezone_abbreviations = 'India';
SELECT gemini_pull_since('HRDUSD', '2026-06-01 09:00+00') AS pulled;
RESET datestyle;
RESET timezone;
RESET timezone_abbreviations;
SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']+)'\) TO \('([^']+)'\)$$))[1]::timestamptz
         = '2026-06-01 00:00+00' AS lower_bound_utc_midnight,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']+)'\) TO \('([^']+)'\)$$))[2]::timestamptz
         = '2026-06-02 00:00+00' AS upper_bound_utc_midnight
  FROM pg_class c WHERE c.oid = 'gemini.trades_p20260601'::regclass;

-- 5. A hostile search_path runs none of the caller's objects (the C code's
--    SQL called unqualified now() and friends).
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked now()'; END $$;
CREATE FUNCTION regress_evil.current_database() RETURNS name LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked current_database()'; END $$;
CREATE FUNCTION regress_evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked nextval()'; END $$;
SET search_path = regress_evil, pg_catalog, public;
SELECT test_error($$SELECT gemini_pull_since('HRDUSD', '2026-06-01 09:00+00')$$) AS hostile_path_pull;
RESET search_path;

-- 6. The watermark moves only over a contiguous range (a `since` after it
--    moved it across the hole, whose trades were never pulled).
CREATE TEMP TABLE truth (tid bigint, ms bigint);
SELECT last_tid AS wm0 FROM gemini.watermarks WHERE symbol = 'HRDUSD' \gset
SELECT replay_admin('POST', '/t/hard/append', '{"symbol": "HRDUSD", "count": 900, "seed": 12, "span_seconds": 600}')::jsonb ->> 'count' AS appended;
INSERT INTO truth SELECT split_part(l, ',', 1)::bigint, split_part(l, ',', 2)::bigint
  FROM regexp_split_to_table(replay_admin('GET', '/t/hard/truth/HRDUSD?format=csv'), E'\n') l WHERE l ~ '^[0-9]';
SELECT ms AS mid_ms FROM truth WHERE tid > :wm0 ORDER BY tid OFFSET 600 LIMIT 1 \gset
SELECT gemini_pull_since('HRDUSD', 'epoch'::timestamptz + :mid_ms * interval '1 millisecond') > 0 AS pulled_after_the_hole;
SELECT last_tid = :wm0 AS watermark_stayed FROM gemini.watermarks WHERE symbol = 'HRDUSD';
SELECT gemini_pull_since('HRDUSD') > 0 AS pulled_from_the_watermark;
SELECT (SELECT count(*) FROM truth) AS truth_trades,
       (SELECT count(*) FROM gemini.trades WHERE symbol = 'HRDUSD') AS stored,
       (SELECT last_tid FROM gemini.watermarks WHERE symbol = 'HRDUSD') = (SELECT max(tid) FROM truth) AS watermark_at_the_end;

-- 7. A trade is stored once per (symbol, tid) whatever time a source reports
--    (the key held traded_at, so a 1 ms difference stored it twice), and a
--    later break marks the stored row.  Namespace hard2 serves the same
--    trades 1 ms later.
SELECT use_replay('hard2', '{"recorded": false, "datasets": {"HRDUSD":
    {"count": 1200, "seed": 11, "start": 1780308000001, "span_seconds": 3600}}}') ->> 'HRDUSD' AS hrdusd_shifted;
-- (the generator aligns some bursts to whole seconds, so a few keep their time)
CREATE TEMP TABLE truth2 (tid bigint, ms bigint);
INSERT INTO truth2 SELECT split_part(l, ',', 1)::bigint, split_part(l, ',', 2)::bigint
  FROM regexp_split_to_table(replay_admin('GET', '/t/hard2/truth/HRDUSD?format=csv'), E'\n') l WHERE l ~ '^[0-9]';
SELECT count(*) AS same_tids, count(*) FILTER (WHERE t2.ms = t.ms + 1) AS one_ms_later
  FROM truth2 t2 JOIN truth t USING (tid);
SELECT gemini_pull_since('HRDUSD', '2026-06-01 09:00+00') AS stored_again;
SELECT count(*) - count(DISTINCT tid) AS duplicates FROM gemini.trades WHERE symbol = 'HRDUSD';
SELECT min(tid) AS broken_tid FROM truth2 \gset
SELECT replay_admin('POST', '/t/hard2/break', format('{"symbol": "HRDUSD", "tids": [%s]}', :broken_tid))::jsonb -> 'changed' AS changed;
SELECT gemini_pull_since('HRDUSD', '2026-06-01 09:00+00') AS stored_after_break;
SELECT trades_updated FROM gemini.pulls WHERE symbol = 'HRDUSD' ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_of_tid, bool_and(broken) AS broken,
       bool_and(traded_at = 'epoch'::timestamptz + (SELECT ms FROM truth WHERE tid = :broken_tid) * interval '1 millisecond') AS first_time_kept
  FROM gemini.trades WHERE symbol = 'HRDUSD' AND tid = :broken_tid;
-- Deleting trades frees their keys, so they can be pulled again.
DELETE FROM gemini.trades WHERE symbol = 'HRDUSD' AND tid = :broken_tid;
SELECT count(*) AS key_left FROM gemini.trade_keys WHERE symbol = 'HRDUSD' AND tid = :broken_tid;
SELECT gemini_pull_since('HRDUSD', '2026-06-01 09:00+00') AS stored_again_after_delete;

-- 8. A timestampms near 2^63 is quarantined; converting it overflowed
--    before the bounds check.
SELECT use_replay('hard3', '{"recorded": false, "faults": [{"kind": "bad_element", "nth": 1, "index": 0, "mutation": "huge_time"}],
    "datasets": {"HUGUSD": {"count": 20, "seed": 4, "start": "2026-06-01T10:00:00Z", "span_seconds": 60}}}') ->> 'HUGUSD' AS hugusd;
\set VERBOSITY terse
SELECT gemini_pull_since('HUGUSD', '2026-06-01 09:00+00') AS stored;
\set VERBOSITY default
SELECT reason FROM gemini.quarantine WHERE symbol = 'HUGUSD';
SELECT last_tid > 0 AS watermark_set, last_traded_at IS NULL OR last_traded_at < '2027-01-01' AS sane_time
  FROM gemini.watermarks WHERE symbol = 'HUGUSD';

-- 9. User input quoted in an error is cut (a 10,000-character symbol was
--    quoted whole).
SELECT test_error($$SELECT gemini_pull_since(repeat('x', 10000))$$);
SELECT test_error($$SELECT gemini_pull_candles('BTCUSD', repeat('m', 10000))$$);

-- 10. Partitions are made ahead (today's trades also make tomorrow's and the
--     day after's), and an operator, a NOLOGIN role, can have them made (the
--     partition maker logged in as the caller and failed).
SELECT use_replay('hard4', jsonb_build_object('recorded', false, 'datasets', jsonb_build_object('NOWUSD',
    jsonb_build_object('count', 40, 'seed', 3, 'span_seconds', 30,
                       'start', (extract(epoch FROM now() - interval '2 minutes') * 1000)::bigint)))) ->> 'NOWUSD' AS nowusd;
SELECT rolcanlogin AS operator_can_login FROM pg_roles WHERE rolname = 'regress_hard_a';
SET ROLE regress_hard_a;
SELECT gemini_pull_since('NOWUSD', now() - interval '1 hour') AS pulled_today;
RESET ROLE;
SELECT count(*) AS days_ahead FROM generate_series(0, 2) d
 WHERE to_regclass('gemini.trades_p' || to_char((now() AT TIME ZONE 'UTC')::date + d, 'YYYYMMDD')) IS NOT NULL;
SELECT default_rows FROM gemini.check_partitions() WHERE parent = 'gemini.trades'::regclass;

-- 11. Streams belong to their owner: only the owner (or a superuser) stops
--     one, and "all" means all of the caller's.  A symbol gemini.symbols does
--     not list fails at once.  (Nothing listens on port 1: the streams back off.)
SET gemini_etl.ws_url = 'ws://127.0.0.1:1/v2/marketdata';
SET client_min_messages = warning;
SET ROLE regress_hard_a;
SELECT count(*) > 0 AS symbols_known FROM gemini.symbols;
SELECT test_error($$SELECT gemini_stream_start('{HRDUSD}')$$);
SELECT gemini_stream_start('{BTCUSD}') AS sid \gset
SET ROLE regress_hard_b;
SELECT owner, state IN ('connecting', 'backoff', 'streaming') AS known_state FROM gemini.stream_status WHERE stream_id = :sid;
SELECT regexp_replace(test_error(format('SELECT gemini_stream_stop(%s)', :sid)), '[0-9]+', 'N', 'g') AS other_role_stops;
SELECT gemini_stream_stop() AS b_stops_all_of_its_own;
SET ROLE regress_hard_a;
SELECT gemini_stream_stop(:sid) AS owner_stops;
RESET ROLE;
RESET client_min_messages;
SELECT desired FROM gemini.streams WHERE stream_id = :sid;

-- 12. The operator role is cluster-wide: another database's CREATE
--     EXTENSION adopts it only while it is harmless (it adopted any role of
--     that name, even one that can log in).
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE DATABASE regress_hard_db1;
CREATE DATABASE regress_hard_db2;
SELECT format('port=%s host=%s', current_setting('port'),
              split_part(current_setting('unix_socket_directories'), ',', 1)) AS conn \gset
SELECT dblink_exec(:'conn' || ' dbname=regress_hard_db1', 'CREATE EXTENSION gemini_etl') AS adopted_when_safe;
ALTER ROLE gemini_etl_operator LOGIN;
SELECT regexp_replace(test_error(format('SELECT dblink_exec(%L, %L)', :'conn' || ' dbname=regress_hard_db2',
                                        'CREATE EXTENSION gemini_etl')), 'port=[0-9]+ host=[^ ]+', 'CONN', 'g') AS refused_when_login;
ALTER ROLE gemini_etl_operator NOLOGIN;
DROP DATABASE regress_hard_db1;
DROP DATABASE regress_hard_db2;

DROP SCHEMA regress_evil CASCADE;
DROP TABLE regress_victim;
