--
-- setup: the extension, and helpers the other regression tests share.
--
-- Tests talk to the project's Gemini replay server (test/replay), whose URL
-- the runner exports as REPLAY_URL.  Each test uses its own namespace on the
-- server (/t/<name>), so faults and data of one test never leak into another.
--
CREATE EXTENSION gemini_etl;

\getenv replay_url REPLAY_URL
CREATE TABLE test_env AS SELECT :'replay_url'::text AS url;

-- Run a statement; return "ok: <first column>", or its error as sqlstate,
-- message, detail and hint, with the replay server's address (a random port)
-- replaced by REPLAY.
CREATE FUNCTION test_error(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hin text; v text;
BEGIN
    EXECUTE sql INTO v;
    RETURN 'ok: ' || coalesce(v, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg
        || E'\ndetail: ' || regexp_replace(regexp_replace(coalesce(det, ''), 'http://127\.0\.0\.1:[0-9]+', 'REPLAY', 'g'),
                          'after [0-9]+ ms', 'after N ms', 'g')
        || E'\nhint: ' || coalesce(hin, '');
END
$$;

-- Call the replay server's admin API; returns the response body.
CREATE FUNCTION replay_admin(method text, path text, body text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cmd text;
    out text;
BEGIN
    cmd := format('curl -sS --fail-with-body -X %s -H %s %s %s',
                  method, quote_literal('Content-Type: application/json'),
                  CASE WHEN body IS NULL THEN '' ELSE '--data-binary ' || quote_literal(body) END,
                  quote_literal((SELECT url FROM test_env) || '/_admin' || path));
    IF to_regclass('pg_temp._admin_out') IS NULL THEN CREATE TEMP TABLE _admin_out (line text); END IF;
    TRUNCATE _admin_out;
    -- CSV with impossible quote/delimiter bytes reads each line verbatim.
    EXECUTE format('COPY _admin_out FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')', cmd);
    SELECT string_agg(line, E'\n') INTO out FROM _admin_out;
    RETURN out;
END
$$;

-- Point this session at namespace `token` of the replay server, after
-- resetting it with `config`; no pacing, so tests run fast.
CREATE FUNCTION use_replay(token text, config jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    res jsonb;
BEGIN
    res := replay_admin('POST', '/t/' || token || '/config', config::text)::jsonb;
    PERFORM set_config('gemini_etl.api_url', (SELECT url FROM test_env) || '/t/' || token, false);
    PERFORM set_config('gemini_etl.rate_limit_rps', '0', false);
    RETURN res -> 'symbols';
END
$$;

CREATE FUNCTION replay_faults(token text, faults jsonb) RETURNS void LANGUAGE sql AS $$
    SELECT replay_admin('POST', '/t/' || token || '/faults', jsonb_build_object('faults', faults)::text);
$$;

-- The server's ground truth for a symbol.
CREATE FUNCTION replay_truth(token text, symbol text)
RETURNS TABLE (tid bigint, timestampms bigint, price text, amount text, side text, broken boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp._truth') IS NULL THEN
        CREATE TEMP TABLE _truth (tid bigint, timestampms bigint, price text, amount text, side text, broken boolean);
    END IF;
    TRUNCATE _truth;
    EXECUTE format('COPY _truth FROM PROGRAM %L WITH (FORMAT csv, HEADER true)',
                   format('curl -sS --fail %L', (SELECT url FROM test_env) || '/_admin/t/' || token || '/truth/' || symbol || '?format=csv'));
    RETURN QUERY SELECT * FROM _truth;
END
$$;

-- The server's request log for a namespace.
CREATE FUNCTION replay_log(token text)
RETURNS TABLE (seq int, t_start float8, t_end float8, route text, path text, query text, status int,
               fault text, n_trades int, first_tid bigint, last_tid bigint, limit_trades int,
               since_tid bigint, "timestamp" bigint, include_breaks text)
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp._log') IS NULL THEN
        CREATE TEMP TABLE _log (seq int, t_start float8, t_end float8, route text, path text, query text,
            status int, fault text, n_trades int, first_tid bigint, last_tid bigint, limit_trades int,
            since_tid bigint, "timestamp" bigint, include_breaks text);
    END IF;
    TRUNCATE _log;
    EXECUTE format('COPY _log FROM PROGRAM %L WITH (FORMAT csv, HEADER true)',
                   format('curl -sS --fail %L', (SELECT url FROM test_env) || '/_admin/t/' || token || '/log?format=csv'));
    RETURN QUERY SELECT * FROM _log ORDER BY 1;
END
$$;

-- Trades as the tests compare them: exact text of the decimals, time in ms.
CREATE VIEW stored_trades AS
SELECT symbol, tid, (extract(epoch FROM traded_at) * 1000)::bigint AS timestampms,
       price::text AS price, amount::text AS amount, side, broken, source, run_id
  FROM gemini.trades;

SELECT extname, extversion FROM pg_extension WHERE extname = 'gemini_etl';
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'gemini_etl.%' ORDER BY name;
SELECT count(*) > 0 AS replay_up FROM (SELECT replay_admin('GET', '/health')) s;
