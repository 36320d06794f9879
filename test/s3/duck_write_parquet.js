#!/usr/bin/env node
// duck_write_parquet.js CSV OUT.parquet RUNS: bench/export's baseline.
// Loads the CSV (untimed) into an in-memory DuckDB table with the types
// gemini_etl's Parquet export gives gemini.trades, then times
// COPY t TO OUT (FORMAT parquet, COMPRESSION zstd) RUNS times and prints
// each run's milliseconds on one line, then the file's size.
'use strict';
const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const [csv, out, runs] = process.argv.slice(2);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv}', header = true, columns = {
    'symbol': 'VARCHAR', 'tid': 'BIGINT', 'traded_at': 'TIMESTAMPTZ', 'price': 'DECIMAL(38,18)',
    'amount': 'DECIMAL(38,18)', 'side': 'VARCHAR', 'broken': 'BOOLEAN', 'source': 'VARCHAR',
    'run_id': 'BIGINT', 'ingested_at': 'TIMESTAMPTZ'})`);
  const times = [];
  for (let i = 0; i < Number(runs || 3); i++) {
    const t0 = process.hrtime.bigint();
    await conn.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
    times.push(Number((process.hrtime.bigint() - t0) / 1000000n));
  }
  console.log(times.join(' '));
  console.log(fs.statSync(out).size);
})().catch(e => { console.error(e.message); process.exit(1); });
