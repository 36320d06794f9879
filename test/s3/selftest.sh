#!/bin/bash
# test/s3/selftest.sh: checks the S3 test stack (s3rver behind
# sigv4_proxy.js, started by start_s3 in test/lib.sh) with Debian's aws CLI
# (/usr/bin/aws) and curl's --aws-sigv4, and DuckDB reading back what was
# uploaded (duck_query.js).  The proxy must refuse what AWS refuses (wrong
# secret, a path signed with a raw "=", a wrong payload hash, ...) and accept
# what AWS accepts, and its faults must behave as documented.
# One line per check; the last line is "selftest: N passed, M failed";
# exits non-zero on any failure.  Keeps its work directory on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

work=$(mktemp -d /tmp/gemini_s3_selftest.XXXXXX)
chmod 755 "$work"
start_s3 "$work/s3" || exit 1

# The aws CLI reads only the files start_s3 wrote.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION AWS_DEFAULT_REGION
export AWS_SHARED_CREDENTIALS_FILE=$S3_CREDENTIALS_FILE AWS_CONFIG_FILE=$S3_AWS_CONFIG_FILE
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
# awsc ARGS: the aws CLI against the proxy, stderr into stdout, no progress
# lines from transfers.
awsc() {
  local a extra=()
  for a in "$@"; do case $a in cp|mv|sync) extra=(--no-progress) ;; esac; done
  /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@" "${extra[@]}" 2>&1
}
awsapi() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@" 2>&1; }
B=$S3_BUCKET
PORT=${S3_ENDPOINT##*:}
EMPTY_SHA=$(printf '' | sha256sum | cut -d' ' -f1)
DUCK="node test/s3/duck_query.js"

# s3curl KEY SECRET CURL-ARGS...: a request signed by curl 7.88; prints the
# body, then a last line "HTTP:<status>" (000 when there was no answer).
s3curl() {
  local k=$1 s=$2; shift 2
  curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$k:$s" "$@" -w '\nHTTP:%{http_code}'
}
good() { s3curl "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
status_of() { tail -1 <<<"$1" | sed 's/^HTTP://'; }
faults() { curl -sS -o /dev/null -X "$1" ${2:+-d "$2"} "$S3_ENDPOINT/__proxy/faults"; }
# proxy_log 'JS predicate on e': how many logged requests match
proxy_log() {
  curl -sS "$S3_ENDPOINT/__proxy/log" | node -e \
    "const l = JSON.parse(require('fs').readFileSync(0)); console.log(l.filter($1).length)"
}
expect() { # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || { echo "$1: got [$2], want [$3]"; return 1; }
}
expect_code() { # expect_code OUTPUT STATUS CODE
  expect status "$(status_of "$1")" "$2" && grep -q "<Code>$3</Code>" <<<"$1" || { echo "$1" | head -20; return 1; }
}

passed=0; failed=0
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed+1)); echo "ok   $name"
  else
    failed=$((failed+1)); echo "FAIL $name"; sed 's/^/       /' <<<"$out" | tail -25
  fi
}

# ---------------------------------------------------------------- checks

aws_put_get_list_delete() {
  local out
  echo "hello s3" | awsc s3 cp - "s3://$B/st/aws/hello.txt" >/dev/null || return 1
  out=$(awsc s3 cp "s3://$B/st/aws/hello.txt" -); expect get "$out" "hello s3" || return 1
  out=$(awsapi s3api list-objects-v2 --bucket "$B" --prefix st/aws/ --query 'Contents[].Key' --output text)
  expect list "$out" "st/aws/hello.txt" || return 1
  awsc s3 rm "s3://$B/st/aws/hello.txt" >/dev/null || return 1
  out=$(awsapi s3api head-object --bucket "$B" --key st/aws/hello.txt); grep -q '404' <<<"$out" || { echo "after delete: $out"; return 1; }
}

curl_put_get_list_delete() {
  local out f=$work/curl.txt
  echo "hello curl" >"$f"
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/curl/hello.txt"); expect put "$(status_of "$out")" 200 || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/curl/hello.txt"); expect get "$out" $'hello curl\n\nHTTP:200' || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B?list-type=2&prefix=st%2Fcurl%2F")
  grep -q '<Key>st/curl/hello.txt</Key>' <<<"$out" || { echo "$out"; return 1; }
  out=$(good -X DELETE -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/curl/hello.txt"); expect delete "$(status_of "$out")" 204 || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/curl/hello.txt"); expect_code "$out" 404 NoSuchKey
}

multipart_stdin_20mb() {
  head -c 20000000 /dev/urandom >"$work/r20"
  curl -sS -X DELETE "$S3_ENDPOINT/__proxy/log" >/dev/null
  awsc s3 cp - "s3://$B/st/big/r20.bin" <"$work/r20" >/dev/null || return 1
  awsc s3 cp "s3://$B/st/big/r20.bin" "$work/r20.back" >/dev/null || return 1
  cmp "$work/r20" "$work/r20.back" || return 1
  # 8 MiB parts: 8 + 8 + 3.07 MiB
  expect parts "$(proxy_log 'e => e.method === "PUT" && /partNumber=/.test(e.query) && e.status === 200')" 3 || return 1
  expect "open uploads" "$(curl -sS "$S3_ENDPOINT/__proxy/uploads")" "[]"
}

wrong_secret() {
  local out
  out=$(s3curl "$S3_ACCESS_KEY_ID" "not-the-secret" -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B?list-type=2")
  expect_code "$out" 403 SignatureDoesNotMatch || return 1
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = wrong\n' "$S3_ACCESS_KEY_ID" >"$work/wrong_credentials"
  out=$(AWS_SHARED_CREDENTIALS_FILE=$work/wrong_credentials awsc s3 ls "s3://$B/")
  grep -q SignatureDoesNotMatch <<<"$out" || { echo "aws CLI: $out"; return 1; }
}

unknown_key() {
  local out
  out=$(s3curl AKIDNOSUCHKEY secret -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B?list-type=2")
  expect_code "$out" 403 InvalidAccessKeyId
}

denied_key() {
  local out f=$work/denied.txt
  echo denied >"$f"
  out=$(s3curl "$S3_DENIED_KEY_ID" "$S3_DENIED_SECRET" -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/denied.txt")
  expect_code "$out" 403 AccessDenied || return 1
  out=$(awsc --profile denied s3 cp "$f" "s3://$B/st/denied.txt")
  grep -q 'AccessDenied' <<<"$out" || { echo "aws CLI: $out"; return 1; }
  # and nothing was stored
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/denied.txt"); expect_code "$out" 404 NoSuchKey
}

equals_in_key() {
  local out f=$work/eq.txt
  echo "partition" >"$f"
  # curl signs the path as written: a raw "=" is not what S3 signs
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/trades/dt=2026-01-01/hour=15/part-0.csv")
  expect_code "$out" 403 SignatureDoesNotMatch || return 1
  grep -q '/st/trades/dt%3D2026-01-01/hour%3D15/part-0.csv' <<<"$out" || { echo "no canonical URI in the error: $out"; return 1; }
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/trades/dt%3D2026-01-01/hour%3D15/part-0.csv")
  expect put "$(status_of "$out")" 200 || return 1
  out=$(awsapi s3api list-objects-v2 --bucket "$B" --prefix st/trades/ --query 'Contents[].Key' --output text)
  expect key "$out" "st/trades/dt=2026-01-01/hour=15/part-0.csv"
}

virtual_hosted() {
  local out f=$work/vhost.txt
  echo "vhost" >"$f"
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "http://$B.localhost:$PORT/st/vhost.txt"); expect put "$(status_of "$out")" 200 || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "http://$B.localhost:$PORT/st/vhost.txt"); expect get "$out" $'vhost\n\nHTTP:200' || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "http://$B.localhost:$PORT/?list-type=2&prefix=st%2Fvhost")
  grep -q '<Key>st/vhost.txt</Key>' <<<"$out" || { echo "$out"; return 1; }
}

payload_hash_checks() {
  local out f=$work/hash.txt
  echo "body" >"$f"
  out=$(good -T "$f" -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/hash.txt"); expect_code "$out" 400 XAmzContentSHA256Mismatch || return 1
  out=$(good -T "$f" "$S3_ENDPOINT/$B/st/hash.txt"); expect_code "$out" 400 InvalidRequest || return 1
  out=$(good -T "$f" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$B/st/hash.txt"); expect unsigned "$(status_of "$out")" 200
}

clock_skew_and_region() {
  local out sr=(node test/s3/sign_request.js --key "$S3_ACCESS_KEY_ID" --secret "$S3_SECRET_ACCESS_KEY")
  out=$("${sr[@]}" --url "$S3_ENDPOINT/$B/st/hash.txt" --date "$(date -u -d '-20 minutes' +%Y%m%dT%H%M%SZ)")
  grep -q '^403$' <<<"$out" && grep -q RequestTimeTooSkewed <<<"$out" || { echo "$out"; return 1; }
  out=$("${sr[@]}" --url "$S3_ENDPOINT/$B/st/hash.txt" --date "$(date -u -d '-10 minutes' +%Y%m%dT%H%M%SZ)")
  grep -q '^200$' <<<"$out" || { echo "10 minutes off: $out"; return 1; }
  out=$("${sr[@]}" --url "$S3_ENDPOINT/$B/st/hash.txt" --region eu-west-1)
  grep -q '^400$' <<<"$out" && grep -q AuthorizationHeaderMalformed <<<"$out" || { echo "$out"; return 1; }
}

aws_chunked() {
  local out sr=(node test/s3/sign_request.js --key "$S3_ACCESS_KEY_ID" --secret "$S3_SECRET_ACCESS_KEY")
  head -c 300000 /dev/urandom >"$work/c300"
  out=$("${sr[@]}" --method PUT --url "$S3_ENDPOINT/$B/st/chunked.bin" --data-file "$work/c300" --payload chunked)
  grep -q '^200$' <<<"$out" || { echo "$out"; return 1; }
  awsc s3 cp "s3://$B/st/chunked.bin" "$work/c300.back" >/dev/null && cmp "$work/c300" "$work/c300.back" || return 1
  out=$("${sr[@]}" --method PUT --url "$S3_ENDPOINT/$B/st/chunked2.bin" --data-file "$work/c300" --payload chunked --tamper-chunk 2)
  grep -q '^403$' <<<"$out" && grep -q SignatureDoesNotMatch <<<"$out" || { echo "tampered chunk: $out"; return 1; }
}

presigned_url() {
  local url out
  url=$(/usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 presign "s3://$B/st/hash.txt" --expires-in 60) || return 1
  out=$(curl -sS "$url" -w '\nHTTP:%{http_code}'); expect presigned "$out" $'body\n\nHTTP:200' || return 1
  local alt=0; [ "${url: -1}" = 0 ] && alt=1   # change the signature's last digit
  out=$(curl -sS "${url%?}$alt" -w '\nHTTP:%{http_code}')
  expect_code "$out" 403 SignatureDoesNotMatch
}

status_fault() {
  local out f=$work/fault.txt
  echo "fault" >"$f"
  faults POST '{"rules":[{"match":{"method":"PUT","path":"/st/fault"},"action":"status","status":503,"times":2}]}'
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/fault.txt"); expect_code "$out" 503 SlowDown || return 1
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/fault.txt"); expect_code "$out" 503 SlowDown || return 1
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/fault.txt"); expect "third try" "$(status_of "$out")" 200 || return 1
  expect "rules left" "$(curl -sS "$S3_ENDPOINT/__proxy/faults")" '{"rules":[],"down_until":null}' || return 1
  # the aws CLI retries a 503 by itself
  faults POST '{"rules":[{"match":{"method":"PUT","path":"/st/fault2"},"action":"status","status":500,"times":2}]}'
  awsc s3 cp "$f" "s3://$B/st/fault2.txt" >/dev/null || return 1
  expect "500s answered" "$(proxy_log 'e => e.path.endsWith("/st/fault2.txt") && e.code === "InternalError"')" 2
}

reset_fault() {
  local out rc
  head -c 1000000 /dev/urandom >"$work/r1m"
  faults POST '{"rules":[{"match":{"method":"PUT","path":"/st/reset.bin"},"action":"reset_after_bytes","bytes":100000,"times":1}]}'
  out=$(good -T "$work/r1m" -H "x-amz-content-sha256: $(sha "$work/r1m")" "$S3_ENDPOINT/$B/st/reset.bin"); rc=$?
  # no answer: curl fails, having seen at most "100 Continue"
  [ $rc -ne 0 ] && [[ "$(status_of "$out")" =~ ^(000|100)$ ]] || { echo "curl rc=$rc: $out"; return 1; }
  expect "logged reset" "$(proxy_log 'e => e.path.endsWith("/st/reset.bin") && e.fault === "reset_after_bytes" && e.status === 0 && e.bytes_in === 100000')" 1 || return 1
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" -I "$S3_ENDPOINT/$B/st/reset.bin"); expect "nothing stored" "$(status_of "$out")" 404 || return 1
  # a part of the aws CLI's multipart upload: the CLI retries that part
  faults POST '{"rules":[{"match":{"method":"PUT","query":"partNumber=2"},"action":"reset_after_bytes","bytes":100000,"times":1}]}'
  awsc s3 cp - "s3://$B/st/reset20.bin" <"$work/r20" >/dev/null || return 1
  awsc s3 cp "s3://$B/st/reset20.bin" "$work/reset20.back" >/dev/null && cmp "$work/r20" "$work/reset20.back" || return 1
  expect "part 2 reset once" "$(proxy_log 'e => e.path.endsWith("/st/reset20.bin") && /partNumber=2(&|$)/.test(e.query) && e.fault === "reset_after_bytes"')" 1
}

down_and_drop_faults() {
  local out rc f=$work/drop.txt
  faults POST '{"rules":[{"action":"down","seconds":1}]}'
  sleep 0.2
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B?list-type=2" 2>&1); rc=$?
  expect "refused (curl exit 7)" "$rc" 7 || return 1
  sleep 1.2
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B?list-type=2&prefix=none"); expect "back up" "$(status_of "$out")" 200 || return 1
  echo "dropped" >"$f"
  faults POST '{"rules":[{"match":{"path":"/st/drop.txt"},"action":"drop_response"}]}'
  out=$(good -T "$f" -H "x-amz-content-sha256: $(sha "$f")" "$S3_ENDPOINT/$B/st/drop.txt"); rc=$?
  [ $rc -ne 0 ] || { echo "drop_response: curl got an answer: $out"; return 1; }
  out=$(good -H "x-amz-content-sha256: $EMPTY_SHA" "$S3_ENDPOINT/$B/st/drop.txt"); expect "stored anyway" "$out" $'dropped\n\nHTTP:200'
}

multipart_rules() {
  local uid e1 e2 out k=st/mp/small.bin
  head -c 1048576 /dev/urandom >"$work/p1"
  uid=$(awsapi s3api create-multipart-upload --bucket "$B" --key $k --query UploadId --output text) || { echo "$uid"; return 1; }
  e1=$(awsapi s3api upload-part --bucket "$B" --key $k --upload-id "$uid" --part-number 1 --body "$work/p1" --query ETag --output text) || return 1
  e2=$(awsapi s3api upload-part --bucket "$B" --key $k --upload-id "$uid" --part-number 2 --body "$work/p1" --query ETag --output text) || return 1
  printf '{"Parts":[{"ETag":%s,"PartNumber":1},{"ETag":%s,"PartNumber":2}]}' "$e1" "$e2" >"$work/parts.json"
  out=$(awsapi s3api complete-multipart-upload --bucket "$B" --key $k --upload-id "$uid" --multipart-upload "file://$work/parts.json")
  grep -q EntityTooSmall <<<"$out" || { echo "1 MiB first part: $out"; return 1; }
  out=$(awsapi s3api list-multipart-uploads --bucket "$B" --query 'Uploads[].UploadId' --output text); expect listed "$out" "$uid" || return 1
  awsapi s3api abort-multipart-upload --bucket "$B" --key $k --upload-id "$uid" || return 1
  expect "open uploads" "$(curl -sS "$S3_ENDPOINT/__proxy/uploads")" "[]" || return 1
  out=$(awsapi s3api upload-part --bucket "$B" --key $k --upload-id "$uid" --part-number 3 --body "$work/p1")
  grep -q NoSuchUpload <<<"$out" || { echo "after abort: $out"; return 1; }
}

gzip_pipe_and_duckdb() {
  local out want
  printf 'tid,price,ts,symbol\n1,100.50,2026-01-01 15:00:00.123+00,btcusd\n2,0.000001,2026-01-01 15:30:00+00,"eth,usd"\n3,,2026-01-01 16:00:00+00,solusd\n' \
    | gzip | awsc s3 cp - "s3://$B/st/x.csv.gz" >/dev/null || return 1
  awsc s3 cp "s3://$B/st/x.csv.gz" "$work/x.csv.gz" >/dev/null || return 1
  out=$($DUCK "SELECT * FROM read_csv('$work/x.csv.gz', header=true, columns={'tid':'BIGINT','price':'DECIMAL(38,18)','ts':'TIMESTAMPTZ','symbol':'VARCHAR'}) ORDER BY tid") || { echo "$out"; return 1; }
  want='tid,price,ts,symbol
1,100.500000000000000000,2026-01-01 15:00:00.123+00,btcusd
2,0.000001000000000000,2026-01-01 15:30:00+00,"eth,usd"
3,,2026-01-01 16:00:00+00,solusd'
  expect csv "$out" "$want"
}

hive_tree_and_duckdb() {
  local out want
  mkdir -p "$work/hive_up/dt=2026-01-01/hour=15" "$work/hive_up/dt=2026-01-02/hour=00"
  printf '{"tid":1,"price":"1.5"}\n{"tid":2,"price":"2.25"}\n' | gzip >"$work/hive_up/dt=2026-01-01/hour=15/part-00000.jsonl.gz"
  printf '{"tid":3,"price":null}\n' | gzip >"$work/hive_up/dt=2026-01-02/hour=00/part-00000.jsonl.gz"
  awsc s3 cp --recursive "$work/hive_up" "s3://$B/st/hive/" >/dev/null || return 1
  awsc s3 cp --recursive "s3://$B/st/hive/" "$work/hive_down/" >/dev/null || return 1
  out=$($DUCK "SELECT tid, price, dt, hour FROM read_json('$work/hive_down/**/*.jsonl.gz', format='newline_delimited', hive_partitioning=true, columns={'tid':'BIGINT','price':'DECIMAL(10,2)'}) ORDER BY tid") || { echo "$out"; return 1; }
  want='tid,price,dt,hour
1,1.50,2026-01-01,15
2,2.25,2026-01-01,15
3,,2026-01-02,00'
  expect json "$out" "$want"
}

t0=$(date +%s)
check "put/get/list/delete with the aws CLI" aws_put_get_list_delete
check "put/get/list/delete with curl --aws-sigv4" curl_put_get_list_delete
check "aws CLI multipart upload of a 20 MB stdin stream (3 parts of 8 MiB)" multipart_stdin_20mb
check "wrong secret: 403 SignatureDoesNotMatch (curl, aws CLI)" wrong_secret
check "unknown access key: 403 InvalidAccessKeyId" unknown_key
check "no-permission key: 403 AccessDenied, nothing stored" denied_key
check "key with '=': raw '=' signed by curl fails, %3D succeeds" equals_in_key
check "virtual-hosted style (gemini-test.localhost)" virtual_hosted
check "x-amz-content-sha256: mismatch 400, missing 400, UNSIGNED-PAYLOAD ok" payload_hash_checks
check "x-amz-date 20 min off: RequestTimeTooSkewed; wrong region: 400" clock_skew_and_region
check "aws-chunked upload decoded; tampered chunk 403" aws_chunked
check "presigned URL (aws s3 presign) works, tampered one 403" presigned_url
check "status fault: 503 twice then 200; aws CLI retries 500s" status_fault
check "reset_after_bytes: curl upload cut, nothing stored; CLI retries part 2" reset_fault
check "down fault refuses connections for 1 s; drop_response stores, no answer" down_and_drop_faults
check "multipart: EntityTooSmall, ListMultipartUploads, abort, NoSuchUpload" multipart_rules
check "gzip | aws s3 cp - then DuckDB reads the csv.gz back" gzip_pipe_and_duckdb
check "hive tree with dt=/hour= keys round trip, DuckDB read_json" hive_tree_and_duckdb

stop_s3
echo "($(( $(date +%s) - t0 )) s)"
echo "selftest: $passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
  rm -rf "$work"
else
  echo "work directory kept: $work (s3/s3proxy.log has every request)"
fi
[ "$failed" -eq 0 ]
