#!/usr/bin/env node
// hyparquet_read.mjs FILE...: prints every row of the Parquet files as CSV
// (a header, then rows), read by hyparquet, a reader that shares no code
// with DuckDB or with gemini_etl.  Values, chosen so that nothing is
// rounded on the way:
//   DECIMAL     the exact unscaled integer with the point put back (hyparquet
//               itself would give a JS number: its conversion is turned off
//               here by clearing the converted and logical types it keys on)
//   TIMESTAMP   microseconds since 1970 (a BigInt, as stored)
//   DATE        days since 1970
//   integers, floats, booleans: JavaScript's String(); strings as stored
//   NULL        an empty unquoted field; fields quoted as RFC 4180 needs
import { readFileSync } from 'node:fs'
import { parquetMetadata, parquetRead } from 'hyparquet'
// hyparquet reads SNAPPY itself; ZSTD (and the others) come from its companion package
import { compressors } from 'hyparquet-compressors'

function decimalText(raw, scale) {
  let v
  if (raw instanceof Uint8Array) {
    v = 0n
    for (const b of raw) v = (v << 8n) | BigInt(b)
    if (raw.length && (raw[0] & 0x80)) v -= 1n << BigInt(8 * raw.length)
  } else {
    v = BigInt(raw)
  }
  const neg = v < 0n
  let s = (neg ? -v : v).toString()
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale)
  }
  return (neg ? '-' : '') + s
}

function field(v) {
  if (v === null || v === undefined) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) || s === '' ? '"' + s.replace(/"/g, '""') + '"' : s
}

let header = null
for (const path of process.argv.slice(2)) {
  const buf = readFileSync(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const metadata = parquetMetadata(file)
  const cols = metadata.schema.slice(1)
  const scales = {}
  for (const el of cols) {
    if (el.converted_type === 'DECIMAL') {
      scales[el.name] = el.scale || 0
      el.converted_type = undefined
      el.logical_type = undefined
    }
  }
  if (header === null) {
    header = cols.map(c => c.name)
    console.log(header.map(field).join(','))
  }
  await parquetRead({
    file, metadata, compressors, rowFormat: 'object',
    parsers: {
      timestampFromMicroseconds: us => us.toString(),
      timestampFromMilliseconds: ms => (BigInt(ms) * 1000n).toString(),
      dateFromDays: d => String(d),
    },
    onComplete: rows => {
      for (const r of rows) {
        console.log(header.map(n => {
          const v = r[n]
          if (v === null || v === undefined) return ''
          if (n in scales) return field(decimalText(v, scales[n]))
          return field(v)
        }).join(','))
      }
    },
  })
}
