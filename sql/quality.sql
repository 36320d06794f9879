--
-- quality: DQDL rules, checked over an interval, with exact counts on
-- planted data; parse errors, unsupported features and unknown columns;
-- a pasted Glue ruleset; the interval and partition pruning; quarantine;
-- dynamic thresholds; privileges.
--
\pset null NULL
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

-- 100 planted rows over two daily partitions (52 on day 1, 48 on day 2).
CREATE TABLE qt (id int NOT NULL, ts timestamptz NOT NULL, price numeric, amount numeric,
                 side text, code text, note text, ref text) PARTITION BY RANGE (ts);
CREATE TABLE qt_d1 PARTITION OF qt FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-02 00:00+00');
CREATE TABLE qt_d2 PARTITION OF qt FOR VALUES FROM ('2024-01-02 00:00+00') TO ('2024-01-03 00:00+00');
ALTER TABLE qt_d1 ADD UNIQUE (id);
ALTER TABLE qt_d2 ADD UNIQUE (id);
INSERT INTO qt
SELECT g, '2024-01-01 00:00+00'::timestamptz + (g - 1) * interval '28 minutes',
       CASE WHEN g % 10 = 0 THEN -1 ELSE g END,                        -- 10 prices below 0
       CASE WHEN g % 25 = 0 THEN NULL ELSE g / 10.0 END,                -- 4 NULL amounts
       CASE WHEN g % 20 = 0 THEN 'bogus' WHEN g % 2 = 1 THEN 'buy' ELSE 'sell' END,  -- 5 bogus
       CASE WHEN g = 7 THEN 'ab7' ELSE 'AB' || g END,                   -- 1 lower case, 1 of length 5
       CASE WHEN g <= 90 THEN (g * 3)::text ELSE 'x' || g END,          -- 10 not integers
       CASE WHEN g % 50 = 0 THEN 'NOPE' WHEN g % 2 = 1 THEN 'BTCUSD' ELSE 'ETHUSD' END  -- 2 unknown
  FROM generate_series(1, 100) g;
CREATE TABLE qref (symbol text PRIMARY KEY);
INSERT INTO qref VALUES ('BTCUSD'), ('ETHUSD');

-- Every rule type, once passing and once failing.
SELECT count(*) AS rules_added FROM (
  SELECT gemini_add_rule('qt', r, 'warn') FROM unnest(ARRAY[
    'RowCount = 100', 'RowCount > 100',
    'ColumnCount = 8', 'ColumnCount < 5',
    'ColumnExists "price"', 'ColumnExists "nope"',
    'IsComplete "price"', 'IsComplete "amount"',
    'Completeness "amount" >= 0.95', 'Completeness "amount" > 0.99',
    'IsUnique "id"', 'IsUnique "side"',
    'Uniqueness "id" "side" > 0.9', 'Uniqueness "side" > 0.5',
    'IsPrimaryKey "id"', 'IsPrimaryKey "amount"',
    'UniqueValueRatio "code" = 1', 'UniqueValueRatio "side" > 0',
    'DistinctValuesCount "side" = 3', 'DistinctValuesCount "side" > 3',
    'ColumnValues "side" in ["buy", "sell"] with threshold > 0.9', 'ColumnValues "side" in ["buy", "sell"]',
    'ColumnValues "side" in ["buy", "sell", "bogus", NULL]', 'ColumnValues "price" between 0 and 1000',
    'ColumnValues "code" matches "[A-Z]+[0-9]+"', 'ColumnValues "amount" != NULL',
    'ColumnValues "ts" > "2023-12-31"', 'ColumnValues "ts" > (now() - 3 days)',
    'ColumnLength "code" between 2 and 6', 'ColumnLength "code" between 2 and 5',
    'ColumnDataType "note" = "Integer" with threshold > 0.8', 'ColumnDataType "note" = "Integer"',
    'ColumnDataType "id" = "Integer"', 'ColumnDataType "id" = "Boolean"',
    'Mean "price" between 44 and 45', 'Mean "price" > 45',
    'Sum "price" = 4490', 'Sum "price" < 0',
    'StandardDeviation "price" < 30', 'StandardDeviation "price" > 30',
    'Entropy "side" > 0.8', 'Entropy "side" > 1',
    'DataFreshness "ts" > 1 days', 'DataFreshness "ts" <= 2 hours',
    'ReferentialIntegrity "ref" "public.qref.{symbol}" >= 0.98', 'ReferentialIntegrity "ref" "public.qref.{symbol}" = 1.0',
    'CustomSql "select id from primary where price > 0" with threshold > 0.85',
    'CustomSql "select count(*) from primary where price <= 0" = 0',
    '(IsComplete "amount") or (RowCount > 0)',
    '(ColumnValues "price" > 0) and (ColumnValues "side" in ["buy", "sell"])',
    'Completeness "amount" > 0.9 where "side = ''buy''"',
    'ColumnValues "price" > 0 where "id <= 50"'
  ]) AS r) s;

SELECT rule_name, outcome, metric, failing_rows, detail FROM gemini_check_quality('qt');

-- The evaluation's score: rules passed / rules run.
SELECT target, interval_start, interval_end, rules_run, rules_passed, rules_failed, rules_errored, score, rows_quarantined
  FROM gemini.quality_evaluations ORDER BY evaluation_id DESC LIMIT 1;
SELECT count(*) AS results, count(DISTINCT evaluation_id) AS evaluations FROM gemini.quality_results;

-- The interval is [start, end) on the partition key: day 1 is 52 rows, and
-- IsUnique "id" is proven by the day's unique index without reading a row.
SELECT rule_name, outcome, metric, failing_rows FROM gemini_check_quality('qt', '2024-01-01 00:00+00', '2024-01-02 00:00+00')
 WHERE rule_name IN ('RowCount = 100', 'IsUnique "id"', 'IsComplete "amount"', 'ColumnValues "price" between 0 and 1000');
SELECT detail FROM gemini.quality_results WHERE rule_name = 'IsUnique "id"' ORDER BY result_id DESC LIMIT 1;
-- An empty interval: counts are 0, ratios vacuously 1.
SELECT rule_name, outcome, metric, failing_rows FROM gemini_check_quality('qt', '2030-01-01 00:00+00', '2030-01-02 00:00+00')
 WHERE rule_name IN ('RowCount = 100', 'IsComplete "amount"', 'Mean "price" > 45', 'ColumnValues "side" in ["buy", "sell"]');
-- One scan of one partition for all per-row rules (partition pruning).
SELECT 'EXPLAIN (COSTS OFF) ' || gemini.quality_scan_sql('qt', '2024-01-02 00:00+00', '2024-01-02 12:00+00') AS explain \gset
:explain;

-- A dynamic threshold from the rule's own history (Glue: no history = 0).
CREATE TABLE qdyn (ts timestamptz NOT NULL, v int);
SELECT gemini_add_rule('qdyn', 'RowCount > avg(last(2)) * 0.8', 'warn', 'rows vs recent') > 0 AS added;
INSERT INTO qdyn SELECT '2024-01-01'::timestamptz + g * interval '1 minute', g FROM generate_series(1, 10) g;
SELECT outcome, metric, detail FROM gemini_check_quality('qdyn');       -- 10 > 0
INSERT INTO qdyn SELECT '2024-01-02'::timestamptz + g * interval '1 minute', g FROM generate_series(1, 10) g;
SELECT outcome, metric, detail FROM gemini_check_quality('qdyn');       -- 20 > 10 * 0.8
SELECT outcome, metric, detail FROM gemini_check_quality('qdyn', '2024-01-01', '2024-01-02');  -- 10 > 15 * 0.8 fails
SELECT outcome, metric, detail FROM gemini_check_quality('qdyn', '2024-01-01', '2024-01-03');  -- 20 > 15 * 0.8

-- A pasted Glue ruleset, comments included: all or nothing.
SELECT count(*) AS added FROM gemini_add_ruleset('qdyn', $$
Rules = [
    # row count and completeness
    RowCount > 0,
    IsComplete "v", Completeness "v" >= 0.99,
    ColumnValues "v" between 0 and 11,   # 1..10
    (IsComplete "ts") and (ColumnValues "v" > 0)
]
$$, 'fail');
SELECT rule_name, severity FROM gemini.quality_rules WHERE target = 'qdyn'::regclass ORDER BY rule_id;
SELECT test_error($$SELECT count(*) FROM gemini_add_ruleset('qdyn', 'Rules = [ RowCount > 1, ColumnValues "nope" > 0 ]')$$);
SELECT count(*) AS still_6 FROM gemini.quality_rules WHERE target = 'qdyn'::regclass;

-- Parse errors with their position; unsupported DQDL; unknown columns; bad arguments.
SELECT test_error($$SELECT gemini_add_rule('qt', 'ColumnValues "side" inn ["a"]')$$);
SELECT test_error($$SELECT count(*) FROM gemini_add_ruleset('qt', E'Rules = [\n  RowCount > 0,\n  IsComplete "price" >\n]')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'DetectAnomalies "RowCount"')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'SchemaMatch "ref" = 1.0')$$);
SELECT test_error($$SELECT count(*) FROM gemini_add_ruleset('qt', 'Rules = [ RowCount > 0 ] Analyzers = [ RowCount ]')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'ColumnValues "pricee" > 0')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'Mean "side" > 0')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'ColumnValues "price" > "abc"')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'RowCount > "many"')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'ReferentialIntegrity "ref" "qref.{symbol}" = 1')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'ColumnValues "price" > 0 where "true) UNION SELECT 1 WHERE (true"')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'CustomSql "delete from qref returning 1" = 0')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'RowCount > 0', 'sometimes')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'RowCount > 0', 'quarantine')$$);
SELECT test_error($$SELECT gemini_add_rule('qt', 'RowCount = 100', 'warn')$$);
SELECT test_error($$SELECT gemini_add_rule('qref', 'RowCount > 0', 'warn')$$);
SELECT test_error($$SELECT count(*) FROM gemini_check_quality('qref', now() - interval '1 hour', now())$$);
SELECT test_error($$SELECT count(*) FROM gemini_check_quality('qt', '2024-01-02', '2024-01-01')$$);
SELECT test_error($$SELECT gemini_drop_rule(-4)$$);
SELECT test_error($$SELECT gemini_drop_rule(999999)$$);
SELECT test_error($$SELECT gemini_add_rule('qt', repeat('#', 2000000) || E'\nRowCount > 0')$$);

-- A rule that cannot run is an outcome, not an exception (a cast that fails
-- on day 2's data; a column dropped after the rule was added).
SELECT gemini_add_rule('qt', 'CustomSql "select max(note::int) from primary" > 0', 'warn', 'notes are numbers') > 0 AS added;
ALTER TABLE qdyn ADD COLUMN extra int;
SELECT gemini_add_rule('qdyn', 'IsComplete "extra"', 'warn', 'extra complete') > 0 AS added;
ALTER TABLE qdyn DROP COLUMN extra;
SELECT rule_name, outcome, detail FROM gemini_check_quality('qt', '2024-01-01', '2024-01-02') WHERE rule_name = 'notes are numbers';
SELECT rule_name, outcome, detail FROM gemini_check_quality('qt', '2024-01-02', '2024-01-03') WHERE rule_name = 'notes are numbers';
SELECT rule_name, outcome, detail FROM gemini_check_quality('qdyn') WHERE outcome <> 'pass';

-- Switching off and dropping rules.
SELECT gemini_enable_rule(rule_id, false) FROM gemini.quality_rules WHERE target = 'qdyn'::regclass AND rule_name = 'extra complete';
SELECT count(*) AS rules_run FROM gemini_check_quality('qdyn');
SELECT gemini_drop_rule(rule_id) FROM gemini.quality_rules WHERE target = 'qdyn'::regclass AND rule_name = 'extra complete';
SELECT gemini_enable_rule(-8, false);
SELECT rule_id, enabled FROM gemini.quality_rules WHERE rule_id = -8;
SELECT gemini_enable_rule(-8, true);

-- Quarantine on gemini.trades with the default rules: exactly the bad rows move,
-- in the same transaction as the results.
SELECT created FROM gemini.ensure_day_partitions('gemini.trades', '2024-03-01', '2024-03-01');
INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, source)
SELECT 'QTEST', g, '2024-03-01 12:00+00'::timestamptz + g * interval '1 second',
       CASE WHEN g IN (3, 7) THEN 0 ELSE 100 + g END, CASE WHEN g = 5 THEN -1 ELSE 0.5 END,
       CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, 'rest'
  FROM generate_series(1, 10) g;
SELECT rule_name, outcome, metric, failing_rows, detail
  FROM gemini_check_quality('gemini.trades', '2024-03-01 00:00+00', '2024-03-02 00:00+00');
SELECT tid FROM gemini.trades WHERE symbol = 'QTEST' ORDER BY tid;
SELECT source, symbol, tid, rule_id, target, reason, (raw::jsonb)->>'price' AS price, (raw::jsonb)->>'amount' AS amount
  FROM gemini.quarantine WHERE symbol = 'QTEST' ORDER BY tid;
SELECT rule_name, rows_quarantined FROM gemini.quality_results
 WHERE evaluation_id = (SELECT max(evaluation_id) FROM gemini.quality_evaluations) AND rows_quarantined > 0 ORDER BY rule_id DESC;
SELECT rows_quarantined, rules_run, rules_passed FROM gemini.quality_evaluations ORDER BY evaluation_id DESC LIMIT 1;
-- checked again: the bad rows are gone
SELECT rule_name, outcome, failing_rows
  FROM gemini_check_quality('gemini.trades', '2024-03-01 00:00+00', '2024-03-02 00:00+00');

-- The raw layer's default rules: status 200, a body of the endpoint's shape, required fields.
SELECT created FROM gemini.ensure_day_partitions('gemini.raw_pages', '2024-03-01', '2024-03-01');
INSERT INTO gemini.raw_pages (run_id, page_no, fetched_at, endpoint, symbol, url, http_status, attempts, body) VALUES
 (9001, 1, '2024-03-01 12:00+00', 'trades', 'BTCUSD', 'u', 200, 1,
  '[{"timestamp":1,"timestampms":1000,"tid":5,"price":"1.5","amount":"2","exchange":"gemini","type":"buy"}]'),
 (9001, 2, '2024-03-01 12:01+00', 'trades', 'BTCUSD', 'u', 200, 1, '[{"timestampms":1000,"price":"1.5","amount":"2","type":"buy"}]'),
 (9001, 3, '2024-03-01 12:02+00', 'trades', 'BTCUSD', 'u', 200, 1, '<html>bad gateway</html>'),
 (9001, 4, '2024-03-01 12:03+00', 'trades', 'BTCUSD', 'u', 429, 2, '{"result":"error","reason":"RateLimited","message":"slow down"}');
SELECT rule_name, outcome, metric, failing_rows
  FROM gemini_check_quality('gemini.raw_pages', '2024-03-01 00:00+00', '2024-03-02 00:00+00');
SELECT page_no, gemini.raw_body_problem(endpoint, body) FROM gemini.raw_pages WHERE run_id = 9001 ORDER BY page_no;

-- Rules belong to the role that added it; it needs SELECT on the target.
CREATE ROLE q_op1 IN ROLE gemini_etl_operator;
CREATE ROLE q_op2 IN ROLE gemini_etl_operator;
GRANT SELECT ON qdyn TO q_op1;
SET ROLE q_op1;
SELECT gemini_add_rule('qdyn', 'ColumnValues "v" > 0 where "v < 5"', 'warn', 'op1 rule') > 0 AS added;
SELECT test_error($$SELECT gemini_add_rule('qdyn', 'RowCount > 0', 'quarantine')$$);
RESET ROLE;
SET ROLE q_op2;
SELECT test_error($$SELECT gemini_add_rule('qdyn', 'RowCount > 0')$$);
SELECT test_error($$SELECT gemini_drop_rule(rule_id) FROM gemini.quality_rules WHERE rule_name = 'op1 rule'$$);
SELECT test_error($$SELECT gemini_enable_rule(-5, false)$$);
RESET ROLE;
SELECT rule_name, owner FROM gemini.quality_rules WHERE rule_name = 'op1 rule';
-- the operator's rule runs as the operator even when a superuser checks
REVOKE SELECT ON qdyn FROM q_op1;
SELECT rule_name, outcome, detail FROM gemini_check_quality('qdyn') WHERE rule_name = 'op1 rule';

-- A failed rule sends NOTIFY gemini_quality (JSON), received by a session
-- listening on another connection (dblink), when the check commits.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('listener', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('listener', 'LISTEN gemini_quality');
SELECT count(*) AS rules_run FROM gemini_check_quality('qt', '2024-01-01 00:00+00', '2024-01-01 06:00+00');
SELECT dblink_exec('listener', 'SET application_name = listener');  -- lets it read what arrived
CREATE TEMP TABLE got AS SELECT n.notify_name, n.extra::jsonb AS p FROM dblink_get_notify('listener') n;
SELECT notify_name, p->>'target' AS target, p->>'rule_name' AS rule_name, p->>'outcome' AS outcome,
       p->>'metric' AS metric, p->>'failing_rows' AS failing_rows, p->>'interval_start' AS interval_start
  FROM got WHERE p->>'rule_name' IN ('RowCount = 100', 'ColumnValues "price" between 0 and 1000', 'IsComplete "amount"')
 ORDER BY 3;
-- one notification per rule that did not pass, none for the others
SELECT (SELECT count(*) FROM got) AS notified,
       (SELECT count(*) FROM gemini.quality_results
         WHERE evaluation_id = (SELECT max(evaluation_id) FROM gemini.quality_evaluations) AND outcome <> 'pass') AS not_passed;
SELECT dblink_disconnect('listener');
