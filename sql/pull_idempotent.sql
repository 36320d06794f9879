--
-- pull_idempotent: re-runs store nothing twice, new trades are picked up
-- from the watermark, a trade that later comes back broken is updated, and
-- impossible trade times are quarantined without making partitions.
--
SELECT use_replay('idem', '{"recorded": false, "datasets": {"IDMUSD":
    {"count": 1200, "seed": 21, "start": "2026-02-01T12:00:00Z", "span_seconds": 3600}}}');
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS first_pull;

-- From the watermark: one request (since_tid = watermark), nothing new.
SELECT gemini_pull_since('IDMUSD') AS second_pull;
-- From an explicit time again: every page again, still nothing new.
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS third_pull;
SELECT count(*) AS stored, count(DISTINCT tid) AS distinct_tids FROM gemini.trades WHERE symbol = 'IDMUSD';
SELECT start_mode, pages, trades_seen, trades_new, trades_updated FROM gemini.pulls
 WHERE symbol = 'IDMUSD' ORDER BY run_id;
SELECT since_tid = (SELECT max(tid) FROM replay_truth('idem', 'IDMUSD')) AS second_pull_asked_from_watermark
  FROM replay_log('idem') WHERE seq = 4;

-- Gemini publishes 30 more trades: the next pull stores exactly those.
SELECT (replay_admin('POST', '/t/idem/append', '{"symbol": "IDMUSD", "count": 30, "seed": 5}')::jsonb) ->> 'count' AS appended;
SELECT gemini_pull_since('idmusd') AS after_append;
SELECT count(*) AS mismatches FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM replay_truth('idem', 'IDMUSD')
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'IDMUSD') m;

-- Gemini busts two stored trades: a pull over them marks them broken.
CREATE TEMP TABLE busted AS
SELECT tid FROM gemini.trades WHERE symbol = 'IDMUSD' AND NOT broken ORDER BY tid OFFSET 100 LIMIT 2;
SELECT replay_admin('POST', '/t/idem/break',
       jsonb_build_object('symbol', 'IDMUSD', 'tids', (SELECT jsonb_agg(tid) FROM busted))::text)::jsonb ->> 'changed' AS busted;
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS after_bust;
SELECT count(*) FILTER (WHERE broken) AS now_broken FROM gemini.trades WHERE tid IN (SELECT tid FROM busted);
SELECT trades_new, trades_updated FROM gemini.pulls WHERE symbol = 'IDMUSD' ORDER BY run_id DESC LIMIT 1;
-- Pulling again changes nothing more.
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS again;
SELECT trades_new, trades_updated FROM gemini.pulls WHERE symbol = 'IDMUSD' ORDER BY run_id DESC LIMIT 1;

-- Impossible times (before 2015, or days ahead) go to gemini.quarantine
-- with the reason, and never make a partition.
SELECT use_replay('quar', '{"recorded": false, "datasets": {"QRNUSD":
    {"count": 900, "seed": 3, "start": "2026-02-03T08:00:00Z", "span_seconds": 600, "bad_times": 4}}}');
CREATE TEMP TABLE parts_before AS SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'gemini.trades'::regclass;
SELECT gemini_pull_since('QRNUSD', '2026-02-01') AS stored;
-- The trades dated 2013 sit before the requested time, so Gemini's timestamp
-- filter left them out.  Restart from tid 0 (Gemini's "earliest available")
-- by resetting the watermark: now they come, and are quarantined too.
UPDATE gemini.watermarks SET last_tid = 0 WHERE symbol = 'QRNUSD';
SELECT gemini_pull_since('QRNUSD') AS from_tid_zero;
SELECT symbol, source, regexp_replace(reason, '-?[0-9]{12,13}', 'MS') AS reason, count(*),
       bool_and(raw::jsonb ? 'tid') AS raw_kept, bool_and(tid IS NOT NULL) AS tid_kept
  FROM gemini.quarantine WHERE symbol = 'QRNUSD' GROUP BY 1, 2, 3 ORDER BY 3;
-- Only the legitimate day got a partition: none for 2013 or the future.
SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'gemini.trades'::regclass) - n AS partitions_made
  FROM parts_before;
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'gemini.trades'::regclass AND (c.relname < 'trades_p2015' OR c.relname > 'trades_p2026115')
 ORDER BY 1;
SELECT start_mode, trades_new, quarantined FROM gemini.pulls WHERE symbol = 'QRNUSD' ORDER BY run_id;
-- Every ground-truth trade is either stored or quarantined, exactly once.
SELECT count(*) FILTER (WHERE s.tid IS NULL AND q.tid IS NULL) AS lost,
       count(*) FILTER (WHERE s.tid IS NOT NULL AND q.tid IS NOT NULL) AS both,
       count(*) AS truth
  FROM replay_truth('quar', 'QRNUSD') t
  LEFT JOIN gemini.trades s ON s.symbol = 'QRNUSD' AND s.tid = t.tid
  LEFT JOIN gemini.quarantine q ON q.symbol = 'QRNUSD' AND q.tid = t.tid;
-- Quarantining is idempotent too: a re-run from the watermark adds nothing.
SELECT gemini_pull_since('QRNUSD') AS rerun;
SELECT count(*) AS quarantined_total FROM gemini.quarantine WHERE symbol = 'QRNUSD';

SELECT set_config('gemini_etl.api_url', (SELECT url FROM test_env) || '/t/idem', false) IS NOT NULL AS back_to_idem;
-- The registry: every stored trade has exactly one key, under the time it is
-- stored under.  The first pull wrote its pages directly, so their keys are
-- spans (a row per page); the 30 appended trades came in a page of their own.
SELECT count(*) AS keys, count(*) FILTER (WHERE kept_in = 'trade_id_spans') AS in_spans,
       count(DISTINCT tid) AS distinct_tids
  FROM gemini.trade_keys WHERE symbol = 'IDMUSD';
SELECT count(*) AS trades_without_key FROM gemini.trades t
 WHERE t.symbol = 'IDMUSD'
   AND NOT EXISTS (SELECT 1 FROM gemini.trade_keys k
                    WHERE k.symbol = t.symbol AND k.tid = t.tid AND k.traded_at = t.traded_at);
SELECT count(*) AS spans, bool_and(tid_lo = tids[1] AND tid_hi = tids[cardinality(tids)]) AS bounds_right
  FROM gemini.trade_id_spans WHERE symbol = 'IDMUSD';
-- Deleting a trade written directly moves the other keys of its span into
-- gemini.trade_ids and drops the span; a pull stores exactly the deleted
-- trades again.
CREATE TEMP TABLE gone AS
SELECT tid FROM gemini.trades WHERE symbol = 'IDMUSD' ORDER BY tid OFFSET 10 LIMIT 3;
DELETE FROM gemini.trades WHERE symbol = 'IDMUSD' AND tid IN (SELECT tid FROM gone);
SELECT count(*) AS keys_left_of_deleted FROM gemini.trade_keys WHERE symbol = 'IDMUSD' AND tid IN (SELECT tid FROM gone);
SELECT kept_in, count(*) AS keys FROM gemini.trade_keys WHERE symbol = 'IDMUSD' GROUP BY 1 ORDER BY 1;
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS stored_after_delete;
SELECT count(*) AS stored, count(DISTINCT tid) AS distinct_tids FROM gemini.trades WHERE symbol = 'IDMUSD';
SELECT kept_in, count(*) FROM gemini.trade_keys WHERE symbol = 'IDMUSD' AND tid IN (SELECT tid FROM gone) GROUP BY 1;
-- Truncating one partition keeps its keys: a pull brings nothing back ...
BEGIN;
TRUNCATE gemini.trades_p20260201;
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS stored_after_partition_truncate;
-- ... until the keys are forgotten: gemini.forget_trade_keys does both tables.
SELECT gemini.forget_trade_keys('IDMUSD', min(tid), max(tid)) AS forgotten
  FROM replay_truth('idem', 'IDMUSD');
SELECT count(*) AS keys_left FROM gemini.trade_keys WHERE symbol = 'IDMUSD';
SELECT gemini_pull_since('IDMUSD', '2026-02-01') AS stored_after_forget;
SELECT count(*) AS mismatches FROM (
    SELECT tid, timestampms, price, amount, side, broken FROM replay_truth('idem', 'IDMUSD')
    EXCEPT
    SELECT tid, timestampms, price, amount, side, broken FROM stored_trades WHERE symbol = 'IDMUSD') m;
ROLLBACK;
-- A part of a span: the keys of 5 trades in the middle of a page.
BEGIN;
SELECT gemini.forget_trade_keys('IDMUSD', min(tid), max(tid)) AS forgotten
  FROM (SELECT tid FROM gemini.trades WHERE symbol = 'IDMUSD' ORDER BY tid OFFSET 600 LIMIT 5) s;
SELECT count(*) AS keys FROM gemini.trade_keys WHERE symbol = 'IDMUSD';
SELECT bool_and(tid_lo = tids[1] AND tid_hi = tids[cardinality(tids)]) AS bounds_still_right
  FROM gemini.trade_id_spans WHERE symbol = 'IDMUSD';
-- the keys of the last 5 trades: the top of a span goes, its bounds shrink
SELECT gemini.forget_trade_keys('IDMUSD', min(tid), max(tid)) AS forgotten
  FROM (SELECT tid FROM gemini.trades WHERE symbol = 'IDMUSD' ORDER BY tid DESC LIMIT 5) s;
SELECT bool_and(tid_lo = tids[1] AND tid_hi = tids[cardinality(tids)]) AS bounds_still_right,
       max(tid_hi) = (SELECT tid FROM gemini.trades WHERE symbol = 'IDMUSD' ORDER BY tid DESC OFFSET 5 LIMIT 1) AS top_bound_shrunk
  FROM gemini.trade_id_spans WHERE symbol = 'IDMUSD';
ROLLBACK;
SELECT gemini.forget_trade_keys('IDMUSD', 10, 5);

-- TRUNCATE of gemini.trades empties the registry too, also when the same
-- statement names a registry table (its trigger must not fail then).
BEGIN;
TRUNCATE gemini.trades;
SELECT count(*) AS ids_after_truncate FROM gemini.trade_keys;
ROLLBACK;
BEGIN;
TRUNCATE gemini.trades, gemini.trade_ids, gemini.watermarks;
SELECT (SELECT count(*) FROM gemini.trades) AS trades, (SELECT count(*) FROM gemini.trade_keys) AS keys;
ROLLBACK;
BEGIN;
TRUNCATE gemini.trades, gemini.trade_id_spans;
SELECT (SELECT count(*) FROM gemini.trades) AS trades, (SELECT count(*) FROM gemini.trade_keys) AS keys;
ROLLBACK;
SELECT count(*) > 0 AS registry_back_after_rollback FROM gemini.trade_keys;
