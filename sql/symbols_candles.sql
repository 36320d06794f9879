--
-- symbols_candles: reference data and Gemini's own candles.
--
SELECT use_replay('ref', '{"recorded": true, "datasets": {"CNDUSD":
    {"count": 3000, "seed": 9, "start": "2026-04-01T00:00:00Z", "span_seconds": 5400}}}') ->> 'CNDUSD' AS cndusd;

-- /v1/symbols, then /v1/symbols/details/:symbol for each (recorded 2021 bodies).
SELECT gemini_pull_symbols() AS symbols;
SELECT count(*) AS symbols, count(*) FILTER (WHERE listed) AS listed,
       count(*) FILTER (WHERE status = 'closed') AS closed FROM gemini.symbols;
-- 1E-8 arrives as a JSON number and is kept exactly.
SELECT symbol, base_currency, quote_currency, tick_size, quote_increment, min_order_size, status
  FROM gemini.symbols WHERE symbol IN ('BTCUSD', 'ETHUSD', 'DOGEUSD', 'CNDUSD') ORDER BY 1;
SELECT details FROM gemini.symbols WHERE symbol = 'BTCUSD';
SELECT endpoint, count(*) FROM gemini.raw_pages WHERE endpoint LIKE 'symbol%' GROUP BY 1 ORDER BY 1;

-- A symbol Gemini no longer lists is kept, marked unlisted.
INSERT INTO gemini.symbols (symbol, status) VALUES ('OLDUSD', 'open');
SELECT gemini_pull_symbols() AS symbols_again;
SELECT symbol, listed FROM gemini.symbols WHERE symbol IN ('OLDUSD', 'BTCUSD') ORDER BY 1;

-- Candles: upserted from /v2/candles; re-running changes nothing.
SELECT gemini_pull_candles('cndusd', '1m') AS candles_1m;
SELECT gemini_pull_candles('CNDUSD', '1m') AS candles_1m_again;
SELECT gemini_pull_candles('CNDUSD', '1hr') AS candles_1hr;
SELECT timeframe, count(*), min(bucket_start), max(bucket_start), bool_and(source = 'rest') AS rest
  FROM gemini.candles WHERE symbol = 'CNDUSD' GROUP BY 1 ORDER BY 1;

-- Independent check: the same candles computed here from the trades.
SELECT gemini_pull_since('CNDUSD', '2026-04-01 00:00+00') AS trades;
WITH t AS (
    SELECT date_trunc('minute', traded_at) AS b, price, amount, tid FROM gemini.trades
     WHERE symbol = 'CNDUSD' AND NOT broken),
mine AS (
    SELECT b, (array_agg(price ORDER BY tid))[1] AS open, max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY tid DESC))[1] AS close, sum(amount) AS volume
      FROM t GROUP BY b)
SELECT count(*) AS candles,
       count(*) FILTER (WHERE (c.open, c.high, c.low, c.close, c.volume) = (m.open, m.high, m.low, m.close, m.volume)) AS equal
  FROM gemini.candles c JOIN mine m ON m.b = c.bucket_start
 WHERE c.symbol = 'CNDUSD' AND c.timeframe = '1m';
