--
-- pull_faults: every fault the replay server can inject, one at a time.
-- Retryable faults (429, 5xx, transport) are retried and the pull succeeds;
-- the others fail at once with a specific SQLSTATE, the URL and HTTP status
-- in the detail, and a hint -- and leave nothing half-written.
--
SELECT use_replay('faults', '{"recorded": false, "datasets": {"FLTUSD":
    {"count": 1200, "seed": 5, "start": "2026-03-01T10:00:00Z", "span_seconds": 3600}}}');

-- Reset the namespace (data, request log) with these faults; forget FLTUSD.
CREATE FUNCTION fault_setup(faults jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM use_replay('faults', jsonb_build_object('recorded', false, 'faults', faults,
        'datasets', '{"FLTUSD": {"count": 1200, "seed": 5, "start": "2026-03-01T10:00:00Z", "span_seconds": 3600}}'::jsonb));
    DELETE FROM gemini.trades WHERE symbol = 'FLTUSD';
    DELETE FROM gemini.watermarks WHERE symbol = 'FLTUSD';
    DELETE FROM gemini.raw_pages WHERE symbol = 'FLTUSD';
    DELETE FROM gemini.pulls WHERE symbol = 'FLTUSD';
END
$$;

-- One case: set up, pull FLTUSD, and report what happened.
CREATE FUNCTION fault_case(faults jsonb)
RETURNS TABLE (outcome text, requests bigint, statuses text, applied text, pull_requests int, stored bigint,
               raw_pages bigint, watermark bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fault_setup(faults);
    outcome := test_error($q$SELECT gemini_pull_since('FLTUSD', '2026-03-01')$q$);
    SELECT count(*), string_agg(l.status::text, ' ' ORDER BY seq),
           coalesce(string_agg(DISTINCT l.fault, ' '), '')
      INTO requests, statuses, applied FROM replay_log('faults') l;
    -- requests as the pull counted them (a timed-out request never reaches the server's log)
    pull_requests := (SELECT p.requests FROM gemini.pulls p WHERE p.symbol = 'FLTUSD');
    stored := (SELECT count(*) FROM gemini.trades WHERE symbol = 'FLTUSD');
    raw_pages := (SELECT count(*) FROM gemini.raw_pages WHERE symbol = 'FLTUSD');
    watermark := (SELECT count(*) FROM gemini.watermarks WHERE symbol = 'FLTUSD');
    RETURN NEXT;
END
$$;
\x on

-- Baseline: no fault.
SELECT * FROM fault_case('[]');
-- 429 with Retry-After: 1 on the 2nd request: waits, retries, succeeds.
SELECT * FROM fault_case('[{"kind": "429", "nth": 2, "retry_after": 1}]');
SELECT l3.t_start - l2.t_end >= 0.95 AS honoured_retry_after
  FROM replay_log('faults') l2, replay_log('faults') l3 WHERE l2.seq = 2 AND l3.seq = 3;
-- 500 text/plain twice, 502, 503 maintenance: retried.
SELECT * FROM fault_case('[{"kind": "500", "nth": 1, "times": 2}]');
SELECT * FROM fault_case('[{"kind": "502", "nth": 3}, {"kind": "503", "nth": 4}]');
-- The connection drops mid-body (curl: partial file): retried.
SELECT * FROM fault_case('[{"kind": "disconnect", "nth": 2}]');
-- A response slower than gemini_etl.http_timeout_ms: timed out, retried.
SET gemini_etl.http_timeout_ms = 300;
SELECT * FROM fault_case('[{"kind": "slow", "nth": 1, "delay_ms": 2000}]');
RESET gemini_etl.http_timeout_ms;

-- Retries run out: a clear error after max_retries + 1 requests.
SET gemini_etl.max_retries = 2;
SELECT * FROM fault_case('[{"kind": "500", "nth": 2, "times": 10}]');
SELECT * FROM fault_case('[{"kind": "429", "nth": 1, "times": 10, "retry_after": 0}]');
RESET gemini_etl.max_retries;

-- Not retried: the body is complete but not JSON, or an error on 200, or an
-- unexpected 4xx.  Nothing of the pull survives (stored 0, raw_pages 0).
SELECT * FROM fault_case('[{"kind": "truncated", "nth": 2}]');
SELECT * FROM fault_case('[{"kind": "garbage", "nth": 1}]');
SELECT * FROM fault_case('[{"kind": "result_error", "nth": 3}]');
SELECT * FROM fault_case('[{"kind": "404_empty", "nth": 1}]');
SELECT * FROM fault_case('[{"kind": "400", "nth": 1, "message": "bad request"}]');
-- A body over gemini_etl.max_response_bytes.
SET gemini_etl.max_response_bytes = '1MB';
SELECT * FROM fault_case('[{"kind": "huge", "nth": 2, "size": 3000000}]');
RESET gemini_etl.max_response_bytes;

-- One unusable trade in a page: quarantined, the rest stored.
SELECT * FROM fault_case('[{"kind": "bad_element", "nth": 2, "index": 3, "mutation": "missing_tid"}]');
SELECT * FROM fault_case('[{"kind": "bad_element", "nth": 1, "index": 0, "mutation": "bad_type", "type_value": "swap"}]');
\x off
SELECT reason, raw::jsonb - 'price' - 'amount' - 'timestamp' - 'timestampms' - 'tid' AS raw_rest
  FROM gemini.quarantine WHERE symbol = 'FLTUSD' ORDER BY quarantine_id;

-- Pacing: gemini_etl.rate_limit_rps = 4 spaces request starts >= 250 ms apart.
SELECT fault_setup('[]');
SET gemini_etl.rate_limit_rps = 4;
SELECT gemini_pull_since('FLTUSD', '2026-03-01') AS paced_pull;
SELECT count(*) AS requests, min(t_start - prev) >= 0.245 AS paced
  FROM (SELECT t_start, lag(t_start) OVER (ORDER BY seq) AS prev FROM replay_log('faults')) s;
SET gemini_etl.rate_limit_rps = 0;

-- statement_timeout stops a pull stuck on a slow response promptly (the
-- response would take 30 s).
SELECT fault_setup('[{"kind": "slow", "nth": 1, "delay_ms": 30000, "times": 5}]');
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
SET statement_timeout = '1s';
SELECT gemini_pull_since('FLTUSD', '2026-03-01');
RESET statement_timeout;
SELECT clock_timestamp() - t < interval '10 seconds' AS stopped_promptly FROM t0;
SELECT count(*) AS stored_after_cancel FROM gemini.trades WHERE symbol = 'FLTUSD';
