#!/usr/bin/env node
// sigv4_proxy.js: an HTTP proxy that checks AWS Signature Version 4 the way
// real S3 does, then forwards the request, path-style, to s3rver.
//
// Why: s3rver (the S3 stand-in the tests use) checks no SigV4 signature at
// all: a wrong secret, a path signed with a raw "=" instead of "%3D", a
// query string signed in the wrong order, a body whose x-amz-content-sha256
// or Content-MD5 is wrong, all get 200 from s3rver and 403/400 from AWS.  A
// signing bug in the extension would pass every test and fail in production.
// This proxy sits in front of s3rver and answers those requests as S3 would.
// Signed by the Authorization header (the payload hash a hex SHA-256,
// UNSIGNED-PAYLOAD, or aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD, whose
// chunk signatures are checked and whose chunks are decoded for s3rver) or
// by a presigned URL.  It also checks what S3 checks and s3rver does not:
// Content-MD5 (BadDigest), a Content-Length on PUT/POST (411
// MissingContentLength for a chunked transfer-encoding), part numbers
// 1..10000, the region (us-east-1) and the clock (15 minutes).
//
// It also makes s3rver's multipart uploads behave like S3's where the
// difference matters to an exporter: parts below 5 MiB (but the last) are
// refused at completion (EntityTooSmall), part ETags and order are checked
// (InvalidPart, InvalidPartOrder), AbortMultipartUpload works (s3rver
// answers 405 to it), and ListMultipartUploads lists the open uploads
// (s3rver answers NotImplemented), and so does ListParts (s3rver: 405).
//
// And it injects faults for the tests (connection reset mid-upload, error
// statuses, the server being down), through an unsigned admin API on the
// same port under /__proxy/ (never forwarded):
//   GET    /__proxy/health          {"ok":true}
//   GET    /__proxy/faults          the rules in force (with times left)
//   POST   /__proxy/faults          {"rules":[RULE...], "append":false}
//                                   replaces the rules (appends if append)
//   DELETE /__proxy/faults          clears the rules and ends a "down" window
//   GET    /__proxy/log[?since=ID]  JSON array of recent requests, oldest first
//   DELETE /__proxy/log             clears it
//   GET    /__proxy/uploads         open multipart uploads, with their parts
// A RULE is {"match": {...}, "action": ..., "times": N}.  match (all given
// fields must hold; no match = every request):
//   method  "PUT" (any case)     path   substring of the path as received
//   path_regex  JS regex on it   host   exact Host header (with port)
//   query   "partNumber=2&uploadId": each named parameter must be present,
//           with that (decoded) value when one is given ("uploads" = present)
// actions:
//   {"action":"status","status":503[,"code":"SlowDown","message":"..."]}
//       answer with that status and an S3 error body, before the body is
//       read (Connection: close).  Default codes: 500 InternalError,
//       503 SlowDown, 400 BadRequest, 403 AccessDenied, 404 NoSuchKey.
//   {"action":"reset_after_bytes","bytes":100000}
//       read that many body bytes (or the whole body if shorter), then reset
//       the connection, like a server that crashed mid-upload.  Nothing is
//       forwarded, so s3rver never sees a partial object.
//   {"action":"drop_response"}
//       forward the request (s3rver stores the object), then reset the
//       connection instead of answering: the client cannot tell it worked.
//   {"action":"delay","ms":2000}   wait, then handle the request normally.
//   {"action":"down","seconds":5[,"mode":"refuse"|"reset"]}
//       the server is down for N seconds.  refuse (default): the listening
//       socket is closed (connection refused) and open connections are
//       reset; the admin API is unreachable too until it comes back.  reset:
//       keep listening but reset every non-admin request.  A down rule
//       without match starts when posted; with a match, when a matching
//       request arrives (that request is the first one refused).
//   times: how many requests the rule fires for (default 1); each firing
//   counts down and a rule at 0 is removed; -1 = forever.  The first
//   matching rule fires; rules fire before the signature is checked.
// A log entry: {id, time, method, host, path, query, status, bytes_in,
// sig, access_key, code, fault, ms}.  path and query are as received (raw);
// sig is "ok", "anonymous", "admin", an S3 error code of the signature
// check (InvalidAccessKeyId, SignatureDoesNotMatch, ...) or null when a
// fault or an earlier check stopped the request; code is the S3 error code
// answered (by the proxy or by s3rver); status is 0 when the connection was
// reset instead of answered.
//
// Usage:
//   node sigv4_proxy.js --upstream http://127.0.0.1:PORT --credentials creds.json
//        [--deny AKID[,AKID...]] [--port 0] [--port-file FILE] [--region us-east-1|any]
//        [--vhost-suffix localhost] [--min-part-size 5242880] [--s3rver-dir DIR]
//        [--spool-dir DIR] [--log-file FILE]
// creds.json is {"AKID": "secret", ...}.  A --deny key must also be in
// creds.json: its signature is checked, then it gets 403 AccessDenied.
// --s3rver-dir lets an abort delete s3rver's stored parts.
//
// Request bodies are spooled (in memory up to 16 MiB, then to a temp file)
// and forwarded only once complete and verified: s3rver writes an object in
// place as it arrives, so forwarding a body that then turns out to be
// truncated or to have the wrong hash would leave a broken object where S3
// would have stored nothing (or kept the old one).
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    upstream: null, credentials: null, deny: [], port: 0, portFile: null,
    region: 'us-east-1', vhostSuffix: 'localhost', minPartSize: 5 * 1024 * 1024,
    s3rverDir: null, spoolDir: os.tmpdir(), logFile: null,
  };
  const names = {
    '--upstream': 'upstream', '--credentials': 'credentials', '--port': 'port',
    '--port-file': 'portFile', '--region': 'region', '--vhost-suffix': 'vhostSuffix',
    '--min-part-size': 'minPartSize', '--s3rver-dir': 's3rverDir',
    '--spool-dir': 'spoolDir', '--log-file': 'logFile',
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--deny') {
      opts.deny.push(...argv[++i].split(',').filter(Boolean));
    } else if (names[a]) {
      opts[names[a]] = argv[++i];
    } else {
      die(`unknown argument ${a}`);
    }
  }
  if (!opts.upstream || !opts.credentials) die('--upstream and --credentials are required');
  opts.port = Number(opts.port);
  opts.minPartSize = Number(opts.minPartSize);
  return opts;
}

function die(msg) {
  process.stderr.write(`sigv4_proxy: ${msg}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv);
const credentials = JSON.parse(fs.readFileSync(opts.credentials, 'utf8'));
const deniedKeys = new Set(opts.deny);
const upstream = new URL(opts.upstream);
// No keep-alive upstream: a request sent on a socket s3rver is just closing
// would fail with a reset the client did not cause (a flaky test).
const upstreamAgent = new http.Agent({ keepAlive: false, maxSockets: 64 });
const logStream = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;

// ------------------------------------------------------- SigV4 canonical form

// S3's URI encoding: every byte outside A-Z a-z 0-9 - _ . ~ is %XX
// (uppercase hex); "/" is kept in the path and encoded in the query.
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
function uriEncode(buf, keepSlash) {
  let out = '';
  for (const b of buf) {
    if (UNRESERVED[b] || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// Percent-decoding to bytes; a "%" not followed by two hex digits stays as it
// is (S3 does not reject it at this stage).  "+" stays "+": clients that
// follow SigV4 send a space as %20.
function percentDecode(s) {
  const bytes = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes);
}
function isHex(b) {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

// S3 canonicalises the path it decoded, not the bytes the client sent: a
// client that signed ".../dt=2026-01-01/..." with a raw "=" signed a
// different string from S3's ".../dt%3D2026-01-01/..." and gets
// SignatureDoesNotMatch.  No normalisation of "//" or "." segments (S3 does
// none: they are part of the key).
function canonicalUri(rawPath) {
  const enc = uriEncode(percentDecode(rawPath), true);
  return enc === '' ? '/' : enc;
}

function parseQuery(rawQuery) {
  // [[decodedKeyBuf, decodedValueBuf, rawSegment], ...]
  if (!rawQuery) return [];
  return rawQuery.split('&').filter(s => s !== '').map(seg => {
    const eq = seg.indexOf('=');
    const k = eq < 0 ? seg : seg.slice(0, eq);
    const v = eq < 0 ? '' : seg.slice(eq + 1);
    return [percentDecode(k), percentDecode(v), seg];
  });
}

function canonicalQuery(params) {
  return params
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

// A header's canonical value: every occurrence (in order) trimmed, runs of
// whitespace collapsed to one space, joined by ",".  Absent header: "".
function canonicalHeaderValue(req, name) {
  const vals = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) {
      vals.push(req.rawHeaders[i + 1].trim().replace(/\s+/g, ' '));
    }
  }
  return vals.join(',');
}

const sha256hex = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const EMPTY_SHA256 = sha256hex('');

function signingKey(secret, date, region, service) {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}

function sameSignature(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// ------------------------------------------------------------------ S3 errors

class S3Error extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const xmlEscape = s => String(s).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));

function errorXml(code, message, extra, requestId) {
  let body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>';
  body += `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>`;
  for (const [k, v] of Object.entries(extra)) body += `<${k}>${xmlEscape(v)}</${k}>`;
  body += `<RequestId>${requestId}</RequestId><HostId>sigv4-proxy</HostId></Error>`;
  return body;
}

// Answers an S3 error.  bodyUnread: the request body (if any) was not read,
// so the connection is closed after the answer (the client may be sending it).
function sendError(ctx, err, bodyUnread) {
  const { req, res, entry } = ctx;
  const closeConnection = bodyUnread && requestHasBody(req);
  entry.code = err.code;
  if (res.headersSent) { destroySocket(req.socket); return; }
  const body = req.method === 'HEAD' ? '' : errorXml(err.code, err.message, err.extra, ctx.requestId);
  const headers = {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amz-request-id': ctx.requestId,
  };
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
  if (closeConnection) req.resume();
}

function requestHasBody(req) {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] || 0) > 0;
}

const STATUS_CODES = {
  400: ['BadRequest', 'Bad Request'],
  403: ['AccessDenied', 'Access Denied'],
  404: ['NoSuchKey', 'The specified key does not exist.'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

function destroySocket(sock) {
  if (!sock || sock.destroyed) return;
  // A reset (RST), as when a crashed server's kernel drops the connection
  // with unread data, rather than an orderly FIN.
  if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
  else sock.destroy();
}

// -------------------------------------------------------------- authentication

// Checks the request's SigV4 signature (Authorization header or presigned
// query).  Returns {accessKey, payloadHash, seed: {key, scope, date,
// signature}} or throws S3Error.
function authenticate(req, rawPath, params) {
  const auth = req.headers.authorization;
  const hasQueryAuth = params.some(([k]) => k.toString() === 'X-Amz-Algorithm');
  if (auth && hasQueryAuth) {
    throw new S3Error(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified', { ArgumentName: 'Authorization' });
  }
  if (!auth && !hasQueryAuth) {
    // An anonymous request to a private bucket.
    throw Object.assign(new S3Error(403, 'AccessDenied', 'Access Denied'), { sig: 'anonymous' });
  }

  let akid, credDate, region, service, terminator, signedHeaders, signature, amzDate, payloadHash;
  let queryForSigning = params;
  if (auth) {
    const m = /^AWS4-HMAC-SHA256 (.*)$/s.exec(auth);
    if (!m) {
      if (/^AWS /.test(auth)) {
        throw new S3Error(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
      }
      throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.`);
    }
    const parts = {};
    for (const comp of m[1].split(',')) {
      const c = comp.trim();
      const eq = c.indexOf('=');
      if (eq < 0) continue;
      parts[c.slice(0, eq)] = c.slice(eq + 1);
    }
    for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
      if (!parts[name]) {
        throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; missing ${name}.`);
      }
    }
    [akid, credDate, region, service, terminator] = splitCredential(parts.Credential);
    signedHeaders = parts.SignedHeaders;
    signature = parts.Signature;
    amzDate = req.headers['x-amz-date'];
    if (!amzDate) {
      throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    payloadHash = req.headers['x-amz-content-sha256'];
    if (payloadHash === undefined) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    if (!/^(UNSIGNED-PAYLOAD|STREAMING-AWS4-HMAC-SHA256-PAYLOAD|STREAMING-UNSIGNED-PAYLOAD-TRAILER|[0-9a-fA-F]{64})$/.test(payloadHash)) {
      throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash });
    }
  } else {
    // Presigned URL: the same algorithm, the auth fields in the query, the
    // signature itself left out of the canonical query.
    const q = name => { const p = params.find(([k]) => k.toString() === name); return p ? p[1].toString() : undefined; };
    if (q('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
      throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    }
    for (const name of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
      if (q(name) === undefined) {
        throw new S3Error(400, 'AuthorizationQueryParametersError', `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.`);
      }
    }
    [akid, credDate, region, service, terminator] = splitCredential(q('X-Amz-Credential'));
    signedHeaders = q('X-Amz-SignedHeaders');
    signature = q('X-Amz-Signature');
    amzDate = q('X-Amz-Date');
    payloadHash = q('X-Amz-Content-Sha256') || 'UNSIGNED-PAYLOAD';
    queryForSigning = params.filter(([k]) => k.toString() !== 'X-Amz-Signature');
    const expires = Number(q('X-Amz-Expires'));
    const t = parseAmzDate(amzDate);
    if (t !== null && Date.now() > t + expires * 1000) {
      throw new S3Error(403, 'AccessDenied', 'Request has expired', { 'X-Amz-Expires': String(expires), Expires: new Date(t + expires * 1000).toISOString() });
    }
  }

  const t = parseAmzDate(amzDate);
  if (t === null) {
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (auth && Math.abs(Date.now() - t) > 15 * 60 * 1000) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: amzDate, ServerTime: new Date().toISOString().replace(/\.\d+/, ''), MaxAllowedSkewMilliseconds: '900000' });
  }
  if (terminator !== 'aws4_request' || !credDate || !region || !service) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  if (credDate !== amzDate.slice(0, 8)) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; Invalid credential date "${credDate}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  if (service !== 's3') {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`);
  }
  if (opts.region !== 'any' && region !== opts.region) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
  }
  if (!Object.prototype.hasOwnProperty.call(credentials, akid)) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: akid });
  }

  // Headers S3 insists on signing: host, and every x-amz-* header sent
  // (header auth only: a presigned URL's client cannot sign later headers).
  const signedList = signedHeaders.split(';');
  const notSigned = [];
  if (!signedList.includes('host')) notSigned.push('host');
  if (auth) {
    for (const h of Object.keys(req.headers)) {
      if (h.startsWith('x-amz-') && !signedList.includes(h)) notSigned.push(h);
    }
  }
  if (notSigned.length) {
    throw new S3Error(403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: notSigned.join(', ') });
  }

  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(queryForSigning),
    signedList.map(h => `${h}:${canonicalHeaderValue(req, h)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${credDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const key = signingKey(credentials[akid], credDate, region, service);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!sameSignature(expected, signature)) {
    // S3 sends back its canonical request and string to sign: they are what
    // one compares with the client's to find the bug.
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: akid, StringToSign: stringToSign, SignatureProvided: signature, CanonicalRequest: canonicalRequest,
    });
  }
  return { accessKey: akid, payloadHash, seed: { key, scope, amzDate, signature } };
}

function splitCredential(cred) {
  const p = cred.split('/');
  if (p.length !== 5) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  return p;
}

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

// --------------------------------------------------------------- body spool

// Holds a request body until it is complete and verified: in memory up to
// 16 MiB, then in a temp file.
const SPOOL_MEM_LIMIT = 16 * 1024 * 1024;
class Spool {
  constructor() { this.chunks = []; this.length = 0; this.fd = null; this.file = null; }
  write(buf) {
    if (this.fd === null && this.length + buf.length > SPOOL_MEM_LIMIT) {
      this.file = path.join(opts.spoolDir, `sigv4proxy-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
      this.fd = fs.openSync(this.file, 'w', 0o600);
      for (const c of this.chunks) fs.writeSync(this.fd, c);
      this.chunks = [];
    }
    if (this.fd !== null) fs.writeSync(this.fd, buf);
    else this.chunks.push(buf);
    this.length += buf.length;
  }
  // Sends the body into a writable (the upstream request) and ends it.
  pipeTo(dest) {
    if (this.fd === null) {
      for (const c of this.chunks) dest.write(c);
      dest.end();
      return;
    }
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.createReadStream(this.file).pipe(dest);
  }
  cleanup() {
    if (this.fd > 0) fs.closeSync(this.fd);
    if (this.file) fs.rm(this.file, { force: true }, () => {});
    this.chunks = [];
  }
}

// Decodes an aws-chunked body ("<hex-size>;chunk-signature=<sig>\r\n<data>\r\n"
// ..., a 0-size chunk, then optional trailers) and checks each chunk's
// signature against the previous one, starting from the seed signature of
// the Authorization header.  signed=false (STREAMING-UNSIGNED-PAYLOAD-TRAILER):
// chunks carry no signature.
class AwsChunkedDecoder {
  constructor(seed, signed, out) {
    Object.assign(this, { seed, signed, out, prev: seed.signature, state: 'head', line: Buffer.alloc(0), left: 0, hash: null, sig: null, done: false, decoded: 0 });
  }
  write(buf) {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        const piece = buf.subarray(i, i + n);
        this.hash.update(piece);
        this.out(piece);
        this.decoded += n;
        this.left -= n;
        i += n;
        if (this.left === 0) { this.finishChunk(); this.state = 'crlf'; this.line = Buffer.alloc(0); }
        continue;
      }
      // head / crlf / trailer: line oriented
      const nl = buf.indexOf(0x0a, i);
      const end = nl < 0 ? buf.length : nl + 1;
      this.line = Buffer.concat([this.line, buf.subarray(i, end)]);
      i = end;
      if (nl < 0) {
        if (this.line.length > 8192) throw new S3Error(400, 'IncompleteBody', 'aws-chunked: chunk header too long');
        continue;
      }
      const text = this.line.toString('latin1').replace(/\r?\n$/, '');
      this.line = Buffer.alloc(0);
      if (this.state === 'crlf') {
        if (text !== '') throw new S3Error(400, 'IncompleteBody', 'aws-chunked: missing CRLF after chunk data');
        this.state = this.done ? 'trailer' : 'head';
      } else if (this.state === 'head') {
        const m = /^([0-9a-fA-F]+)(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
        if (!m || (this.signed && !m[2])) throw new S3Error(400, 'IncompleteBody', `aws-chunked: malformed chunk header ${JSON.stringify(text)}`);
        this.left = parseInt(m[1], 16);
        this.sig = m[2];
        this.hash = crypto.createHash('sha256');
        if (this.left === 0) {
          this.finishChunk();
          this.done = true;
          // the final chunk: "0;chunk-signature=...\r\n" then trailers or "\r\n"
          this.state = 'trailer';
        } else {
          this.state = 'data';
        }
      } else if (this.state === 'trailer') {
        if (text === '') this.state = 'end';
        // Trailers (x-amz-checksum-*, x-amz-trailer-signature) are accepted
        // unchecked.
      } else if (this.state === 'end') {
        if (text !== '') throw new S3Error(400, 'IncompleteBody', 'aws-chunked: data after the final chunk');
      }
    }
  }
  finishChunk() {
    if (!this.signed) return;
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', this.seed.amzDate, this.seed.scope, this.prev, EMPTY_SHA256, this.hash.digest('hex')].join('\n');
    const expected = hmac(this.seed.key, sts).toString('hex');
    if (!sameSignature(expected, this.sig)) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { StringToSign: sts, SignatureProvided: this.sig });
    }
    this.prev = this.sig;
  }
  end() {
    if (!this.done || (this.state !== 'end' && this.state !== 'trailer')) {
      throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
  }
}

// ------------------------------------------------------------------ faults

let rules = [];
let downUntil = 0;       // ms epoch; non-admin requests fail until then
let downMode = 'reset';
let downTimer = null;
let listening = false;

function queryMatches(want, params) {
  for (const [k, v, seg] of parseQuery(want)) {
    const hasValue = seg.includes('=');
    const found = params.some(([pk, pv]) => pk.equals(k) && (!hasValue || pv.equals(v)));
    if (!found) return false;
  }
  return true;
}

function ruleMatches(rule, req, rawPath, params) {
  const m = rule.match || {};
  if (m.method && m.method.toUpperCase() !== req.method) return false;
  if (m.path && !rawPath.includes(m.path)) return false;
  if (m.path_regex && !new RegExp(m.path_regex).test(rawPath)) return false;
  if (m.host && m.host !== req.headers.host) return false;
  if (m.query && !queryMatches(m.query, params)) return false;
  return true;
}

// The first rule that matches fires and counts down.
function takeFault(req, rawPath, params) {
  const rule = rules.find(r => r.action !== 'down' || r.match ? ruleMatches(r, req, rawPath, params) : false);
  if (!rule) return null;
  if (rule.times > 0) rule.times--;
  if (rule.times === 0) rules = rules.filter(r => r !== rule);
  return rule;
}

// keep: a socket to spare (the admin call that posted the rule, so that it
// gets its answer).
function startDown(rule, keep) {
  downUntil = Date.now() + Number(rule.seconds || 0) * 1000;
  downMode = rule.mode === 'reset' ? 'reset' : 'refuse';
  clearTimeout(downTimer);
  downTimer = setTimeout(endDown, Math.max(0, downUntil - Date.now()));
  if (downMode === 'refuse' && listening) {
    // Connection refused for new connections, reset for open ones: what a
    // client sees when the server process is gone.
    listening = false;
    server.close();
    for (const s of sockets) if (s !== keep) destroySocket(s);
  }
}

function endDown() {
  clearTimeout(downTimer);
  downUntil = 0;
  if (!listening) listen(boundPort);
}

// ------------------------------------------------- multipart upload tracking

// uploadId -> {bucket, key, initiated, parts: Map(partNumber -> {size, etag})}
const uploads = new Map();

function uploadsXml(bucket, params) {
  const prefix = (params.find(([k]) => k.toString() === 'prefix') || [null, Buffer.alloc(0)])[1].toString();
  let body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
  body += `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>`;
  const list = [...uploads.entries()].filter(([, u]) => u.bucket === bucket && u.key.startsWith(prefix))
    .sort((a, b) => (a[1].key < b[1].key ? -1 : a[1].key > b[1].key ? 1 : 0));
  for (const [id, u] of list) {
    body += `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${id}</UploadId><Initiated>${u.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`;
  }
  return body + '</ListMultipartUploadsResult>';
}

// CompleteMultipartUpload checks S3 makes and s3rver does not.
function checkComplete(upload, xml) {
  const parts = [];
  for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const num = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]);
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]);
    if (!num || !etag) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    parts.push({ number: Number(num[1]), etag: etag[1].replace(/&quot;|"/g, '').trim() });
  }
  if (!parts.length) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].number <= parts[i - 1].number) {
      throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    }
  }
  parts.forEach((p, i) => {
    const have = upload.parts.get(p.number);
    if (!have || have.etag !== p.etag) {
      throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', { UploadId: upload.id, PartNumber: String(p.number), ETag: p.etag });
    }
    if (i < parts.length - 1 && have.size < opts.minPartSize) {
      throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: String(have.size), MinSizeAllowed: String(opts.minPartSize), PartNumber: String(p.number), ETag: p.etag });
    }
  });
}

// ------------------------------------------------------------- request log

const LOG_MAX = 2000;
let log = [];
let nextId = 1;
function record(entry) {
  log.push(entry);
  if (log.length > LOG_MAX) log = log.slice(log.length - LOG_MAX);
  if (logStream) logStream.write(JSON.stringify(entry) + '\n');
}

// --------------------------------------------------------------- admin API

function admin(ctx, rawPath, params) {
  const { req, res } = ctx;
  const reply = (status, obj, extraHeaders = {}) => {
    const body = JSON.stringify(obj) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extraHeaders });
    res.end(body);
  };
  let body = '';
  req.setEncoding('utf8');
  req.on('data', d => { body += d; });
  req.on('end', () => {
    const what = `${req.method} ${rawPath}`;
    try {
      if (what === 'GET /__proxy/health') return reply(200, { ok: true });
      if (what === 'GET /__proxy/faults') return reply(200, { rules, down_until: downUntil ? new Date(downUntil).toISOString() : null });
      if (what === 'DELETE /__proxy/faults') { rules = []; if (downUntil) endDown(); return reply(200, { ok: true }); }
      if (what === 'POST /__proxy/faults') {
        const spec = JSON.parse(body || '{}');
        const fresh = (spec.rules || []).map(r => {
          if (!['status', 'reset_after_bytes', 'drop_response', 'delay', 'down'].includes(r.action)) {
            throw new Error(`unknown action ${JSON.stringify(r.action)}`);
          }
          if (r.match && r.match.path_regex) new RegExp(r.match.path_regex); // throws if invalid
          return { ...r, times: r.times === undefined ? 1 : Number(r.times) };
        });
        rules = spec.append ? rules.concat(fresh) : fresh;
        // A down rule without match starts now, once this answer is out.
        const now = fresh.filter(r => r.action === 'down' && !r.match);
        rules = rules.filter(r => !now.includes(r));
        reply(200, { ok: true, rules }, now.length ? { Connection: 'close' } : {});
        for (const r of now) startDown(r, req.socket);
        return undefined;
      }
      if (what === 'GET /__proxy/log') {
        const since = Number((params.find(([k]) => k.toString() === 'since') || [0, '0'])[1].toString());
        return reply(200, log.filter(e => e.id > since));
      }
      if (what === 'DELETE /__proxy/log') { log = []; return reply(200, { ok: true }); }
      if (what === 'GET /__proxy/uploads') {
        return reply(200, [...uploads.entries()].map(([id, u]) => ({
          bucket: u.bucket, key: u.key, uploadId: id, initiated: u.initiated,
          parts: [...u.parts.entries()].sort((a, b) => a[0] - b[0]).map(([n, p]) => ({ partNumber: n, size: p.size, etag: p.etag })),
        })));
      }
      return reply(404, { error: `no such admin endpoint: ${what}` });
    } catch (e) {
      return reply(400, { error: e.message });
    }
  });
}

// ----------------------------------------------------------- request handler

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'host', 'authorization', 'content-length']);

async function handle(req, res, expectsContinue) {
  const started = Date.now();
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const params = parseQuery(rawQuery);
  const entry = {
    id: nextId++, time: new Date(started).toISOString(), method: req.method, host: req.headers.host || '',
    path: rawPath, query: rawQuery, status: null, bytes_in: 0, sig: null, access_key: null, code: null, fault: null, ms: null,
  };
  const ctx = { req, res, entry, requestId: crypto.randomBytes(8).toString('hex').toUpperCase() };

  if (rawPath.startsWith('/__proxy/')) {
    entry.sig = 'admin';
    res.on('finish', () => { entry.status = res.statusCode; });
    admin(ctx, rawPath, params);
    return; // admin calls are not logged
  }

  let logged = false;
  const finish = () => {
    if (logged) return;
    logged = true;
    entry.status = res.headersSent && res.writableFinished ? res.statusCode : (entry.status || 0);
    entry.ms = Date.now() - started;
    record(entry);
  };
  res.on('finish', finish);
  res.on('close', finish);

  if (downUntil > Date.now()) {
    entry.fault = 'down';
    destroySocket(req.socket);
    return;
  }

  let fault = takeFault(req, rawPath, params);
  if (fault) entry.fault = fault.action + (fault.action === 'status' ? ` ${fault.status}` : '');
  if (fault && fault.action === 'down') {
    startDown(fault);
    destroySocket(req.socket);
    return;
  }
  if (fault && fault.action === 'delay') {
    await new Promise(r => setTimeout(r, Number(fault.ms || 0)));
    fault = null;
  }
  if (fault && fault.action === 'status') {
    const status = Number(fault.status);
    const [code, message] = STATUS_CODES[status] || ['InternalError', 'Injected fault'];
    sendError(ctx, new S3Error(status, fault.code || code, fault.message || message), true);
    return;
  }

  // Virtual-hosted style: "BUCKET.localhost:PORT" means path "/BUCKET/...".
  // The signature is checked against the request as received.
  const hostname = (req.headers.host || '').replace(/:\d+$/, '').toLowerCase();
  const suffix = '.' + opts.vhostSuffix;
  const vhostBucket = hostname.endsWith(suffix) && hostname.length > suffix.length ? hostname.slice(0, -suffix.length) : null;
  const pathStyle = vhostBucket ? `/${vhostBucket}${rawPath.startsWith('/') ? '' : '/'}${rawPath}` : rawPath;
  // bucket and key as S3 sees them (decoded)
  const decodedPath = percentDecode(pathStyle).toString('utf8');
  const slash = decodedPath.indexOf('/', 1);
  const bucket = slash < 0 ? decodedPath.slice(1) : decodedPath.slice(1, slash);
  const key = slash < 0 ? '' : decodedPath.slice(slash + 1);

  let auth;
  try {
    auth = authenticate(req, rawPath, params);
    entry.sig = 'ok';
    entry.access_key = auth.accessKey;
    if (deniedKeys.has(auth.accessKey)) {
      throw new S3Error(403, 'AccessDenied', 'Access Denied');
    }
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    if (!entry.sig) entry.sig = e.sig || e.code;
    sendError(ctx, e, true);
    return;
  }

  const param = name => { const p = params.find(([k]) => k.toString() === name); return p ? p[1].toString() : undefined; };
  const uploadId = param('uploadId');
  try {
    if ((req.method === 'PUT' || req.method === 'POST') && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) {
      // S3 refuses a chunked transfer-encoding without Content-Length
      // (aws-chunked bodies still carry a Content-Length).
      throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    if (Number(req.headers['content-length'] || 0) > 5 * 1024 ** 3) {
      throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    }
    // Multipart state the proxy keeps because s3rver does not.
    if (uploadId !== undefined && key) {
      const u = uploads.get(uploadId);
      if (!u || u.bucket !== bucket || u.key !== key) {
        throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
      }
      const partNumber = param('partNumber');
      if (req.method === 'PUT' && !(/^\d+$/.test(partNumber || '') && +partNumber >= 1 && +partNumber <= 10000)) {
        throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) });
      }
      if (req.method === 'DELETE') {
        // AbortMultipartUpload: s3rver answers 405, so the proxy does it.
        uploads.delete(uploadId);
        if (opts.s3rverDir) {
          fs.rm(path.join(opts.s3rverDir, bucket, '._S3rver_uploads', uploadId), { recursive: true, force: true }, () => {});
        }
        entry.code = null;
        res.writeHead(204, { 'x-amz-request-id': ctx.requestId });
        res.end();
        req.resume();
        return;
      }
    }
    if (req.method === 'GET' && uploadId !== undefined && key) {
      // ListParts: s3rver answers 405.
      const u = uploads.get(uploadId);
      let body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
      body += `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId><StorageClass>STANDARD</StorageClass><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>`;
      for (const [n, p] of [...u.parts.entries()].sort((a, b) => a[0] - b[0])) {
        body += `<Part><PartNumber>${n}</PartNumber><ETag>"${p.etag}"</ETag><Size>${p.size}</Size></Part>`;
      }
      body += '</ListPartsResult>';
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': ctx.requestId });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && bucket && !key && param('uploads') !== undefined) {
      const body = uploadsXml(bucket, params);
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': ctx.requestId });
      res.end(body);
      return;
    }
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    sendError(ctx, e, true);
    return;
  }

  // Read the body (S3 sends 100 Continue only once the headers passed).
  if (expectsContinue) res.writeContinue();
  const spool = new Spool();
  const md5 = req.headers['content-md5'] !== undefined ? crypto.createHash('md5') : null;
  const sha = /^[0-9a-fA-F]{64}$/.test(auth.payloadHash) ? crypto.createHash('sha256') : null;
  const chunked = auth.payloadHash.startsWith('STREAMING-');
  const sink = buf => { spool.write(buf); if (md5) md5.update(buf); };
  const decoder = chunked ? new AwsChunkedDecoder(auth.seed, auth.payloadHash === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', sink) : null;
  const resetAt = fault && fault.action === 'reset_after_bytes' ? Number(fault.bytes || 0) : null;
  let failed = null;
  let aborted = false;

  const bodyDone = await new Promise(resolve => {
    const crash = () => {
      // The fault: the "server" dies with the body half read.
      aborted = true;
      destroySocket(req.socket);
      resolve(false);
    };
    if (resetAt === 0) { crash(); return; }
    req.on('data', buf => {
      if (aborted) return;
      if (resetAt !== null && entry.bytes_in + buf.length >= resetAt) {
        entry.bytes_in = resetAt;
        crash();
        return;
      }
      entry.bytes_in += buf.length;
      if (failed) return; // keep draining so the error can be answered
      try {
        if (sha) sha.update(buf);
        if (decoder) decoder.write(buf); else sink(buf);
      } catch (e) {
        if (!(e instanceof S3Error)) throw e;
        failed = e;
      }
    });
    req.on('end', () => {
      if (aborted) return;
      if (resetAt !== null) { crash(); return; } // body shorter than "bytes"
      resolve(true);
    });
    req.on('close', () => { if (!req.complete && !aborted) { aborted = true; resolve(false); } });
  });
  if (!bodyDone) { spool.cleanup(); finish(); return; }

  try {
    if (failed) throw failed;
    if (decoder) {
      decoder.end();
      const want = req.headers['x-amz-decoded-content-length'];
      if (want !== undefined && Number(want) !== decoder.decoded) {
        throw new S3Error(400, 'IncompleteBody', 'The decoded length does not match x-amz-decoded-content-length');
      }
    }
    if (sha) {
      const got = sha.digest('hex');
      if (got !== auth.payloadHash.toLowerCase()) {
        throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: auth.payloadHash, S3ComputedContentSHA256: got });
      }
    }
    if (md5) {
      const given = req.headers['content-md5'];
      const buf = Buffer.from(given, 'base64');
      if (buf.length !== 16 || buf.toString('base64') !== given) {
        throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': given });
      }
      if (!buf.equals(md5.digest())) {
        throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', { ExpectedDigest: given });
      }
    }
    if (req.method === 'POST' && uploadId !== undefined) {
      const xml = spool.fd === null ? Buffer.concat(spool.chunks).toString('utf8') : '';
      checkComplete({ ...uploads.get(uploadId), id: uploadId }, xml);
    }
  } catch (e) {
    spool.cleanup();
    if (!(e instanceof S3Error)) throw e;
    sendError(ctx, e, false);
    return;
  }

  forward(ctx, { rawQuery, params, pathStyle, bucket, key, uploadId, spool, fault, chunked });
}

function forward(ctx, { rawQuery, params, pathStyle, bucket, key, uploadId, spool, fault, chunked }) {
  const { req, res, entry } = ctx;
  const headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    headers[name] = headers[name] === undefined ? req.rawHeaders[i + 1] : `${headers[name]}, ${req.rawHeaders[i + 1]}`;
  }
  let upQuery = rawQuery;
  if (!req.headers.authorization) {
    // Presigned: s3rver would look up the key in its own registry; give it
    // the request as if header-signed.
    upQuery = params.filter(([k]) => !/^x-amz-/i.test(k.toString())).map(p => p[2]).join('&');
    headers['x-amz-date'] = (params.find(([k]) => k.toString() === 'X-Amz-Date') || [0, ''])[1].toString();
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  if (chunked) {
    // s3rver does not decode aws-chunked: it gets the decoded body.
    delete headers['x-amz-decoded-content-length'];
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const enc = (headers['content-encoding'] || '').split(',').map(s => s.trim()).filter(s => s && s !== 'aws-chunked');
    if (enc.length) headers['content-encoding'] = enc.join(', '); else delete headers['content-encoding'];
  }
  // s3rver checks no signature but wants a well-formed SigV4 header with a
  // key it knows (its built-in S3RVER) to treat the request as authenticated.
  headers.authorization = `AWS4-HMAC-SHA256 Credential=S3RVER/${(headers['x-amz-date'] || '').slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
  headers.host = upstream.host;
  if (spool.length > 0 || ['PUT', 'POST'].includes(req.method)) headers['content-length'] = String(spool.length);

  const up = http.request({
    host: upstream.hostname, port: upstream.port, method: req.method, agent: upstreamAgent,
    path: pathStyle + (upQuery ? `?${upQuery}` : ''), headers,
  });
  up.on('error', e => {
    spool.cleanup();
    sendError(ctx, new S3Error(503, 'ServiceUnavailable', `upstream s3rver: ${e.message}`), false);
  });
  up.on('response', ur => {
    spool.cleanup();
    const wantBody = (req.method === 'POST' && key) || ur.statusCode >= 300;
    const captured = [];
    let capturedLen = 0;
    ur.on('data', d => { if (wantBody && capturedLen < 65536) { captured.push(d); capturedLen += d.length; } });
    ur.on('end', () => {
      const text = Buffer.concat(captured).toString('utf8');
      if (ur.statusCode >= 300) {
        const m = /<Code>([^<]*)<\/Code>/.exec(text);
        if (m) entry.code = m[1];
      } else if (req.method === 'POST' && params.some(([k]) => k.toString() === 'uploads')) {
        const m = /<UploadId>([^<]+)<\/UploadId>/.exec(text);
        if (m) uploads.set(m[1], { bucket, key, initiated: new Date().toISOString(), parts: new Map() });
      } else if (req.method === 'POST' && uploadId !== undefined) {
        uploads.delete(uploadId);
      } else if (req.method === 'PUT' && uploadId !== undefined && uploads.has(uploadId)) {
        const n = Number((params.find(([k]) => k.toString() === 'partNumber') || [0, '0'])[1].toString());
        uploads.get(uploadId).parts.set(n, { size: Number(headers['content-length']), etag: String(ur.headers.etag || '').replace(/"/g, '') });
      }
    });
    if (fault && fault.action === 'drop_response') {
      // The request took effect; the client never hears of it.
      ur.resume();
      ur.on('end', () => destroySocket(req.socket));
      return;
    }
    const out = {};
    for (const [k, v] of Object.entries(ur.headers)) {
      if (!['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
    }
    res.writeHead(ur.statusCode, out);
    ur.pipe(res);
    res.on('close', () => { if (!res.writableFinished) ur.destroy(); });
  });
  spool.pipeTo(up);
}

// ------------------------------------------------------------------ server

const server = http.createServer({ requestTimeout: 0 });
const sockets = new Set();
server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
const onRequest = expectsContinue => (req, res) => {
  handle(req, res, expectsContinue).catch(e => {
    process.stderr.write(`sigv4_proxy: ${e.stack}\n`);
    try { sendError({ req, res, entry: {}, requestId: 'ERROR' }, new S3Error(500, 'InternalError', e.message), true); } catch (_) { /* gone */ }
  });
};
server.on('request', onRequest(false));
// Answering "Expect: 100-continue" ourselves lets an auth failure or an
// injected status be answered before the client sends the body, as S3 does.
server.on('checkContinue', onRequest(true));
server.on('clientError', (e, sock) => { if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); });

let boundPort = opts.port;
function listen(port) {
  server.listen(port, '127.0.0.1', () => {
    listening = true;
    if (!boundPort) {
      boundPort = server.address().port;
    }
    if (opts.portFile && !fs.existsSync(opts.portFile)) {
      fs.writeFileSync(opts.portFile + '.tmp', `${boundPort}\n`);
      fs.renameSync(opts.portFile + '.tmp', opts.portFile);
    }
  });
}
server.on('error', e => {
  if (e.code === 'EADDRINUSE' && boundPort && !listening) {
    // coming back from "down" and the port is busy for a moment: retry
    setTimeout(() => listen(boundPort), 200);
    return;
  }
  die(e.message);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
listen(opts.port);
