#!/usr/bin/env node
// duck_query.js: runs SQL in DuckDB (in memory) and prints the last
// statement's result as CSV on stdout.  The tests use DuckDB as an
// independent reader of what an export wrote (a stand-in for Athena):
//
//   node test/s3/duck_query.js "SELECT * FROM read_csv('dir/**/*.csv.gz',
//        hive_partitioning=true, header=true, columns={'tid':'BIGINT', ...})"
//   node test/s3/duck_query.js "SELECT * FROM read_json('dir/**/*.jsonl.gz',
//        format='newline_delimited', columns={...})"
//   echo "SQL" | node test/s3/duck_query.js -
//
// Several statements may be given (separated by ";"); only the last one's
// result is printed.  The session's TimeZone is UTC.
//
// Output, exactly:
//   - a header row of the column names (duplicates get DuckDB's "_1"
//     suffixes), then one row per result row, lines ended by "\n";
//   - every value is DuckDB's own cast to VARCHAR of it, so:
//       DECIMAL(p,s)  exactly, with s digits after the point: 1.500, -0.000100000000000000
//       TIMESTAMPTZ   in UTC: 2026-01-01 08:00:00+00, 2026-01-01 08:00:00.123+00,
//                     2026-01-01 08:00:00.123456+00 (the fraction without
//                     trailing zeros; none when it is zero)
//       TIMESTAMP     2026-01-01 10:00:00 / 2026-01-01 10:00:00.5 (same rule)
//       DATE          2026-01-01        BOOLEAN  true / false
//       DOUBLE        shortest form that reads back: 0.1, 1e+300, inf, nan
//       BIGINT/INT    plain digits      LIST/STRUCT  [1, 2] / {'a': 1}
//       BLOB          \xAA escapes      VARCHAR  as is
//   - NULL is an empty, unquoted field; an empty string is "";
//   - a field is quoted ("...", inner quotes doubled) when it contains a
//     comma, a double quote, CR or LF, or is empty.
// A statement that cannot be wrapped in SELECT (INSERT ... RETURNING,
// PRAGMA, ...) is run as is and its values are printed by
// @duckdb/node-api's conversion instead (the same for all common types,
// process TZ forced to UTC).
//
// Errors go to stderr, exit status 1.
'use strict';

process.env.TZ = 'UTC'; // before the library reads the process's offset

const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');

// Splits SQL text on ";" outside quotes and comments.
function splitStatements(sql) {
  const out = [];
  let cur = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = findClose(sql, i, c);
      cur += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl < 0 ? sql.length - 1 : nl;
      cur += sql.slice(i, end + 1);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const end = close < 0 ? sql.length - 1 : close + 1;
      cur += sql.slice(i, end + 1);
      i = end;
    } else if (c === ';') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out.filter(s => s.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() !== '');
}

function findClose(sql, start, q) {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) { i++; continue; } // doubled quote
      return i;
    }
  }
  return sql.length - 1;
}

function csvField(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  if (s === '' || /[",\r\n]/.test(s)) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1) {
    process.stderr.write('usage: duck_query.js SQL   (or - to read the SQL from stdin)\n');
    process.exit(2);
  }
  const sql = args[0] === '-' ? fs.readFileSync(0, 'utf8') : args[0];
  const statements = splitStatements(sql);
  if (!statements.length) throw new Error('no SQL statement given');

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  // (The TimeZone option of DuckDBInstance.create fails: it is applied
  // before the built-in ICU extension is loaded.)
  await conn.run("SET TimeZone = 'UTC'");
  for (const st of statements.slice(0, -1)) await conn.run(st);

  const last = statements[statements.length - 1].trim();
  let reader;
  try {
    // DuckDB's own VARCHAR cast of every column: exact decimals, UTC
    // timestamps, the same text DuckDB's CLI shows.
    reader = await conn.runAndReadAll(`SELECT COLUMNS(*)::VARCHAR FROM (${last}\n)`);
  } catch (e) {
    if (!/Parser Error/.test(e.message)) throw e;
    reader = await conn.runAndReadAll(last);
  }
  const lines = [reader.columnNames().map(csvField).join(',')];
  for (const row of reader.getRows()) lines.push(row.map(csvField).join(','));
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch(e => {
  process.stderr.write(`duck_query: ${e.message}\n`);
  process.exit(1);
});
