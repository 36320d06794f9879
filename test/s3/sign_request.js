#!/usr/bin/env node
// sign_request.js: sends one SigV4-signed S3 request and prints the status
// code on the first line, then the response body.  For the cases the aws
// CLI and curl cannot produce: a chosen (skewed) x-amz-date, an aws-chunked
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) upload, a tampered chunk, a wrong
// payload hash.  Signs the path canonically (as S3 computes it), sends it as
// written in --url.
//
//   node sign_request.js --url URL --key AKID --secret SECRET [--method GET]
//        [--region us-east-1] [--date 20260101T000000Z] [--data-file FILE]
//        [--payload hex|unsigned|chunked|wrong-hex] [--chunk-size 65536]
//        [--tamper-chunk N] [--header 'name: value']...
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const a = { method: 'GET', region: 'us-east-1', payload: 'hex', chunkSize: 65536, tamperChunk: -1, headers: [] };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i];
  const v = process.argv[++i];
  switch (k) {
    case '--url': a.url = v; break;
    case '--key': a.key = v; break;
    case '--secret': a.secret = v; break;
    case '--method': a.method = v; break;
    case '--region': a.region = v; break;
    case '--date': a.date = v; break;
    case '--data-file': a.dataFile = v; break;
    case '--payload': a.payload = v; break;
    case '--chunk-size': a.chunkSize = Number(v); break;
    case '--tamper-chunk': a.tamperChunk = Number(v); break;
    case '--header': a.headers.push(v); break;
    default: process.stderr.write(`unknown argument ${k}\n`); process.exit(2);
  }
}

const sha256hex = d => crypto.createHash('sha256').update(d).digest('hex');
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
const enc = (buf, keepSlash) => [...buf].map(b => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) || (keepSlash && b === 0x2f)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
const dec = s => Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');

const url = new URL(a.url);
const rawPath = a.url.replace(/^[a-z]+:\/\/[^/]+/, '').split('?')[0] || '/';
const rawQuery = a.url.includes('?') ? a.url.slice(a.url.indexOf('?') + 1) : '';
const body = a.dataFile ? fs.readFileSync(a.dataFile) : Buffer.alloc(0);
const amzDate = a.date || new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
const day = amzDate.slice(0, 8);
const scope = `${day}/${a.region}/s3/aws4_request`;
const signingKey = hmac(hmac(hmac(hmac('AWS4' + a.secret, day), a.region), 's3'), 'aws4_request');

const headers = { host: url.host, 'x-amz-date': amzDate };
for (const h of a.headers) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
}
let payloadHash;
let wire = body;
if (a.payload === 'hex') payloadHash = sha256hex(body);
else if (a.payload === 'wrong-hex') payloadHash = sha256hex('not the body');
else if (a.payload === 'unsigned') payloadHash = 'UNSIGNED-PAYLOAD';
else if (a.payload === 'chunked') {
  payloadHash = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  headers['content-encoding'] = 'aws-chunked';
  headers['x-amz-decoded-content-length'] = String(body.length);
}
headers['x-amz-content-sha256'] = payloadHash;

const names = Object.keys(headers).sort();
const query = rawQuery.split('&').filter(Boolean).map(s => {
  const i = s.indexOf('=');
  return [enc(dec(i < 0 ? s : s.slice(0, i)), false), enc(dec(i < 0 ? '' : s.slice(i + 1)), false)];
}).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)).map(p => p.join('=')).join('&');
const canonical = [a.method, enc(dec(rawPath), true), query, names.map(n => `${n}:${headers[n]}\n`).join(''), names.join(';'), payloadHash].join('\n');
const seed = hmac(signingKey, ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n')).toString('hex');
headers.authorization = `AWS4-HMAC-SHA256 Credential=${a.key}/${scope}, SignedHeaders=${names.join(';')}, Signature=${seed}`;

if (a.payload === 'chunked') {
  // aws-chunked: each chunk signed over the previous chunk's signature.
  const parts = [];
  let prev = seed;
  const pieces = [];
  for (let off = 0; off < body.length; off += a.chunkSize) pieces.push(body.subarray(off, off + a.chunkSize));
  pieces.push(Buffer.alloc(0));
  pieces.forEach((p, n) => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256hex(''), sha256hex(p)].join('\n');
    const sig = hmac(signingKey, sts).toString('hex');
    prev = sig;
    let data = p;
    if (n === a.tamperChunk && p.length) { data = Buffer.from(p); data[0] ^= 1; }
    parts.push(Buffer.from(`${p.length.toString(16)};chunk-signature=${sig}\r\n`), data, Buffer.from('\r\n'));
  });
  wire = Buffer.concat(parts);
}
if (wire.length || ['PUT', 'POST'].includes(a.method)) headers['content-length'] = String(wire.length);

// BUCKET.localhost goes to 127.0.0.1, as curl does (the resolver may not).
const lookup = url.hostname.endsWith('.localhost')
  ? (h, o, cb) => (o && o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))
  : undefined;
const req = http.request({ host: url.hostname, port: url.port, method: a.method, path: a.url.replace(/^[a-z]+:\/\/[^/]+/, ''), headers, lookup }, res => {
  const out = [];
  res.on('data', d => out.push(d));
  res.on('end', () => process.stdout.write(`${res.statusCode}\n${Buffer.concat(out).toString()}\n`));
});
req.on('error', e => { process.stdout.write(`000\n${e.message}\n`); process.exitCode = 1; });
req.end(wire);
