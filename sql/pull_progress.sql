--
-- pull_progress: another session watches a running pull through
-- gemini.pull_progress, then cancels it; the cancelled pull stores nothing.
--
CREATE EXTENSION dblink;
SELECT use_replay('progress', '{"recorded": false, "datasets": {"PRGUSD":
    {"count": 6000, "seed": 2, "start": "2026-05-01T00:00:00Z", "span_seconds": 3600}}}');

SELECT dblink_connect('puller', format('dbname=%s port=%s host=%s', current_database(),
       current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1))) AS connected;
SELECT dblink_exec('puller', format('SET gemini_etl.api_url = %L', current_setting('gemini_etl.api_url')));
-- 4 requests per second: 12 pages take 3 seconds, time enough to watch.
SELECT dblink_exec('puller', 'SET gemini_etl.rate_limit_rps = 4');
SELECT dblink_send_query('puller', $$SELECT gemini_pull_since('PRGUSD', '2026-05-01 00:00+00')$$) AS sent;

-- Wait (at most 30 s) until the pull has done at least 2 pages.
CREATE FUNCTION wait_progress(min_pages int) RETURNS TABLE (symbol text, pages_ok boolean, counters_ok boolean)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        RETURN QUERY SELECT p.symbol, p.pages >= min_pages,
                            p.trades_seen = p.pages * 500 AND p.trades_new = p.trades_seen
                            AND p.current_tid > 0 AND p.current_traded_at >= '2026-05-01 00:00+00'
                       FROM gemini.pull_progress p WHERE p.pages >= min_pages;
        IF FOUND THEN RETURN; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT * FROM wait_progress(2);
-- Nothing is visible in the tables yet: the pull commits as a whole.
SELECT count(*) AS visible_trades FROM gemini.trades WHERE symbol = 'PRGUSD';

-- Cancel it from here, as an operator would.
SELECT pg_cancel_backend(pid) AS cancelled FROM gemini.pull_progress WHERE symbol = 'PRGUSD';
SELECT * FROM dblink_get_result('puller', false) AS r(n bigint);
SELECT dblink_error_message('puller') LIKE '%canceling statement due to user request%' AS cancel_reported;
SELECT * FROM dblink_get_result('puller', false) AS r(n bigint);  -- drains the connection
SELECT count(*) AS running_pulls FROM gemini.pull_progress;
SELECT count(*) AS stored_after_cancel FROM gemini.trades WHERE symbol = 'PRGUSD';
SELECT count(*) AS watermark_after_cancel FROM gemini.watermarks WHERE symbol = 'PRGUSD';

-- A pull ended by FATAL (pg_terminate_backend) leaves no progress row
-- behind: FATAL skips the pull's cleanup, the exit callback does not.
SELECT dblink_connect('doomed', format('dbname=%s port=%s host=%s', current_database(),
       current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1))) AS connected;
SELECT dblink_exec('doomed', format('SET gemini_etl.api_url = %L', current_setting('gemini_etl.api_url')));
SELECT dblink_exec('doomed', 'SET gemini_etl.rate_limit_rps = 4');
SELECT dblink_send_query('doomed', $$SELECT gemini_pull_since('PRGUSD', '2026-05-01 00:00+00')$$) AS sent;
SELECT * FROM wait_progress(2);
SELECT pg_terminate_backend(pid, 10000) AS terminated FROM gemini.pull_progress WHERE symbol = 'PRGUSD';
SELECT dblink_disconnect('doomed');
CREATE FUNCTION wait_no_progress() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 100 LOOP
        IF NOT EXISTS (SELECT 1 FROM gemini.pull_progress) THEN RETURN 0; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN (SELECT count(*) FROM gemini.pull_progress);
END
$$;
SELECT wait_no_progress() AS running_pulls_after_terminate;

-- The next pull does the whole job.
SELECT dblink_exec('puller', 'SET gemini_etl.rate_limit_rps = 0');
SELECT * FROM dblink('puller', $$SELECT gemini_pull_since('PRGUSD', '2026-05-01 00:00+00')$$) AS r(n bigint);
SELECT dblink_disconnect('puller');
