--
-- pull_basic: a multi-page pull matches the server's ground truth row for row.
--
-- 2,345 generated trades from 2026-01-05 23:30 UTC over two hours (so they
-- cross midnight), with irregular tid gaps, bursts of trades sharing one
-- millisecond across page boundaries, 8+ decimal digits, every side and
-- some broken trades.
--
SELECT use_replay('pull_basic', '{"recorded": false, "datasets": {"GENUSD":
    {"count": 2345, "seed": 7, "start": "2026-01-05T23:30:00Z", "span_seconds": 7200}}}');

-- Progress NOTICEs every 2 pages.
SET gemini_etl.progress_pages = 2;
SELECT gemini_pull_since('genusd', '2026-01-05 00:00+00') AS new_trades;
RESET gemini_etl.progress_pages;

CREATE TEMP TABLE truth AS SELECT * FROM replay_truth('pull_basic', 'GENUSD');
SELECT count(*) AS truth_rows, count(*) FILTER (WHERE broken) AS truth_broken,
       count(DISTINCT side) AS sides, max(length(split_part(price, '.', 2))) AS max_price_decimals
  FROM truth;

-- Row for row: tid, exact decimal text, side, ms, broken.  Both directions.
SELECT 'missing' AS problem, * FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM truth
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'GENUSD') m
UNION ALL
SELECT 'extra', * FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'GENUSD'
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM truth) e;

SELECT count(*) AS stored, count(DISTINCT tid) AS distinct_tids,
       bool_and(source = 'rest') AS all_rest, count(DISTINCT run_id) AS runs
  FROM gemini.trades WHERE symbol = 'GENUSD';

-- Paging as Gemini expects it: a timestamp first, then since_tid = the highest
-- tid of the previous page, 500 per request, include_breaks on every request.
SELECT seq, route, status, n_trades, limit_trades, include_breaks,
       "timestamp" IS NOT NULL AS by_timestamp,
       since_tid = lag(first_tid) OVER (ORDER BY seq) AS cursor_is_previous_max
  FROM replay_log('pull_basic') ORDER BY seq;

-- The page boundaries fall inside bursts of trades sharing a millisecond,
-- and none of those trades was skipped (the EXCEPT above is empty).
SELECT count(*) > 0 AS a_boundary_splits_a_millisecond
  FROM replay_log('pull_basic') l
  JOIN truth a ON a.tid = l.first_tid
  JOIN LATERAL (SELECT min(tid) AS next_tid FROM truth t WHERE t.tid > l.first_tid) n ON true
  JOIN truth b ON b.tid = n.next_tid
 WHERE a.timestampms = b.timestampms;

-- Watermark, run record, raw layer.
SELECT w.symbol, w.last_tid = (SELECT max(tid) FROM truth) AS at_max_tid,
       (extract(epoch FROM w.last_traded_at) * 1000)::bigint = (SELECT timestampms FROM truth ORDER BY tid DESC LIMIT 1) AS time_ok
  FROM gemini.watermarks w;
SELECT symbol, start_mode, start_time, pages, requests, trades_seen, trades_new, trades_updated, quarantined,
       last_tid = (SELECT max(tid) FROM truth) AS last_tid_ok
  FROM gemini.pulls ORDER BY run_id;
SELECT page_no, endpoint, symbol, http_status, attempts, jsonb_array_length(body::jsonb) AS trades,
       regexp_replace(url, '^http://127\.0\.0\.1:[0-9]+', 'REPLAY') AS url
  FROM gemini.raw_pages ORDER BY page_no;
-- Bodies are stored exactly as received: parse them again and compare.
SELECT count(*) AS raw_trades,
       count(*) FILTER (WHERE t.tid IS NULL) AS not_stored
  FROM gemini.raw_pages r, jsonb_array_elements(r.body::jsonb) e
  LEFT JOIN stored_trades t ON t.tid = (e ->> 'tid')::bigint AND t.price = e ->> 'price' AND t.amount = e ->> 'amount';

-- Daily partitions were made for both days; the DEFAULT partition stays empty.
SELECT parent, default_rows FROM gemini.check_partitions();
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'gemini.trades'::regclass ORDER BY 1;

-- Exact decimals: numeric, never through double.
SELECT price, amount FROM gemini.trades WHERE symbol = 'GENUSD'
 ORDER BY length(amount::text) DESC, tid LIMIT 3;

-- Ints sent as JSON strings (as ccxt's fixtures show them) work the same.
SELECT use_replay('pull_basic_str', '{"recorded": false, "datasets": {"STRUSD":
    {"count": 700, "seed": 11, "start": "2026-01-07T10:00:00Z", "span_seconds": 600, "ints_as_strings": true}}}');
SELECT gemini_pull_since('STRUSD', '2026-01-07') AS new_trades;
SELECT count(*) AS mismatches FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM replay_truth('pull_basic_str', 'STRUSD')
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'STRUSD') m;

-- Real recorded Gemini trades (2021 websocket sessions, served as REST).
SELECT use_replay('pull_recorded', '{"recorded": true}') ->> 'LTCUSD' AS ltcusd_recorded;
SELECT gemini_pull_since('ltcusd', '2021-01-01') AS new_trades;
SELECT count(*) AS mismatches FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM replay_truth('pull_recorded', 'LTCUSD')
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'LTCUSD') m;
SELECT tid, traded_at AT TIME ZONE 'UTC' AS traded_at_utc, price, amount, side
  FROM gemini.trades WHERE symbol = 'LTCUSD' ORDER BY tid LIMIT 3;
