--
-- pull_errors: bad arguments, bad settings, unknown symbols, unreachable
-- servers and missing privileges each give a specific error with a hint.
--
SELECT use_replay('errors', '{"recorded": true}') ->> 'BTCUSD' AS btcusd_recorded;

-- Arguments.
SELECT test_error($$SELECT gemini_pull_since('nosuch', '2026-01-01')$$);
SELECT test_error($$SELECT gemini_pull_since('BTC-USD')$$);
SELECT test_error($$SELECT gemini_pull_since('')$$);
SELECT test_error($$SELECT gemini_pull_since(NULL)$$);
SELECT test_error($$SELECT gemini_pull_since('BTCUSD', now() + interval '1 day')$$);
SELECT test_error($$SELECT gemini_pull_since('BTCUSD', 'infinity')$$);
SELECT test_error($$SELECT gemini_pull_candles('BTCUSD', '2m')$$);
SELECT test_error($$SELECT gemini_pull_candles('nosuch', '1m')$$);
-- Symbols in any case are stored upper-case.
SELECT gemini_pull_since('btcUSD', '2021-01-01') > 0 AS pulled;
SELECT DISTINCT symbol FROM gemini.trades WHERE symbol ILIKE 'btcusd';

-- Settings are checked when set.
SELECT test_error($$SET gemini_etl.api_url = 'ftp://example.com'$$);
SELECT test_error($$SET gemini_etl.api_url = 'http://example.com/'$$);
SELECT test_error($$SET gemini_etl.rate_limit_rps = -1$$);
SELECT test_error($$SET gemini_etl.max_retries = 1000$$);
SELECT test_error($$SET gemini_etl.http_timeout_ms = 10$$);
SELECT test_error($$SET gemini_etl.no_such_setting = 1$$);

-- Nothing listens there: a connection failure after the retries.
SET gemini_etl.max_retries = 1;
SET gemini_etl.api_url = 'http://localhost:9';
SELECT test_error($$SELECT gemini_pull_since('BTCUSD')$$);
RESET gemini_etl.max_retries;

-- Privileges: network functions are not for PUBLIC; gemini_etl_operator has them.
CREATE ROLE regress_gemini_reader;
CREATE ROLE regress_gemini_op IN ROLE gemini_etl_operator;
SELECT p.proname, has_function_privilege('regress_gemini_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('regress_gemini_op', p.oid, 'EXECUTE') AS operator
  FROM pg_proc p WHERE p.proname LIKE 'gemini\_pull%' ORDER BY 1;
SET ROLE regress_gemini_reader;
SELECT test_error($$SELECT gemini_pull_since('BTCUSD')$$);
SELECT test_error($$SET gemini_etl.api_url = 'http://127.0.0.1:1'$$);
RESET ROLE;
-- An operator (not a superuser) can pull, with the URL the superuser set.
SELECT use_replay('errors', '{"recorded": true}') ->> 'ETHUSD' AS ethusd_recorded;
SET ROLE regress_gemini_op;
SELECT gemini_pull_since('ETHUSD', '2021-01-01') > 0 AS operator_pulled;
SELECT test_error($$SET gemini_etl.api_url = 'http://127.0.0.1:1'$$);
RESET ROLE;

DROP ROLE regress_gemini_reader;
DROP ROLE regress_gemini_op;
