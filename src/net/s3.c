/*
 * s3.c
 *	  S3 requests on the HTTP transport (http.c): SigV4 signing by libcurl
 *	  (CURLOPT_AWS_SIGV4), credentials, URLs, and S3's errors turned into
 *	  PostgreSQL errors that say what failed without echoing the secret.
 *
 * What curl 7.88's SigV4 leaves to us (platform-notes.md):
 *  - the x-amz-content-sha256 header: we send the body's SHA-256, which curl
 *    then signs; S3 checks it against the body it received;
 *  - the canonical URI: curl signs the path as given, so keys are
 *    percent-encoded here (s3_uri_encode) exactly as S3 re-encodes them:
 *    a raw '=' in dt=... would sign fine and fail on AWS;
 *  - the canonical query string: written here sorted and encoded.
 * Requests go through http_request, so they share the pull's timeouts,
 * retries (5xx, 429 and transport errors, with backoff), cancellation and
 * the rule that nothing raises inside a libcurl callback.
 */
#include "postgres.h"

#include <pwd.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "storage/fd.h"

#include "net/s3.h"
#include "s3_text.h"
#include "settings.h"

/* S3's answers other than objects are small: errors, upload ids, listings of 1000 keys. */
#define S3_MAX_RESPONSE		(8 * 1024 * 1024)
#define CREDENTIALS_FILE_MAX (1024 * 1024)

void
s3_sha256_hex(const char *data, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		sum[32];

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, sum, sizeof(sum)) < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not compute a SHA-256 digest")));
	pg_cryptohash_free(ctx);
	for (int i = 0; i < 32; i++)
	{
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[64] = '\0';
}

/* ---------- credentials ---------- */

/* Last 4 characters of a key id: enough to tell keys apart in a message. */
static char *
key_hint(const char *key_id)
{
	size_t		n = strlen(key_id);

	return psprintf("...%s", n > 4 ? key_id + n - 4 : key_id);
}

static bool
creds_from_file(S3Target *t, StringInfo tried)
{
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *profile = getenv("AWS_PROFILE");
	char	   *fpath;
	FILE	   *f;
	char	   *text;
	size_t		n;
	char		id[256],
				secret[256],
				token[4096];

	if (profile == NULL || profile[0] == '\0')
		profile = "default";
	if (path != NULL && path[0] != '\0')
		fpath = pstrdup(path);
	else
	{
		const char *home = getenv("HOME");

		if (home == NULL || home[0] == '\0')
		{
			struct passwd *pw = getpwuid(geteuid());

			home = pw ? pw->pw_dir : NULL;
		}
		if (home == NULL)
		{
			appendStringInfoString(tried, "; no home directory for ~/.aws/credentials");
			return false;
		}
		fpath = psprintf("%s/.aws/credentials", home);
	}
	f = AllocateFile(fpath, "r");
	if (f == NULL)
	{
		appendStringInfo(tried, "; %s: %m", fpath);
		return false;
	}
	text = palloc(CREDENTIALS_FILE_MAX + 1);
	n = fread(text, 1, CREDENTIALS_FILE_MAX, f);
	FreeFile(f);
	if (s3_ini_value(text, n, profile, "aws_access_key_id", id, sizeof(id)) != 1 ||
		s3_ini_value(text, n, profile, "aws_secret_access_key", secret, sizeof(secret)) != 1)
	{
		appendStringInfo(tried, "; %s has no aws_access_key_id and aws_secret_access_key in profile [%s]",
						 fpath, profile);
		return false;
	}
	t->key_id = pstrdup(id);
	t->secret = pstrdup(secret);
	if (s3_ini_value(text, n, profile, "aws_session_token", token, sizeof(token)) == 1)
		t->session_token = pstrdup(token);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(text, n);
	pfree(text);
	t->cred_source = psprintf("the credentials file %s, profile [%s]", fpath, profile);
	return true;
}

static void
find_credentials(S3Target *t)
{
	const char *env_id = getenv("AWS_ACCESS_KEY_ID");
	const char *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
	bool		set_id = gemini_s3_access_key_id && gemini_s3_access_key_id[0];
	bool		set_secret = gemini_s3_secret_access_key && gemini_s3_secret_access_key[0];
	StringInfoData tried;

	if (set_id != set_secret)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("only one of gemini_etl.s3_access_key_id and gemini_etl.s3_secret_access_key is set"),
				 errdetail("S3 requests are signed with a key id and its secret; both are needed."),
				 errhint("A superuser sets both (ALTER SYSTEM SET ...; SELECT pg_reload_conf()), or neither to use the server's environment or credentials file.")));
	if (set_id)
	{
		t->key_id = pstrdup(gemini_s3_access_key_id);
		t->secret = pstrdup(gemini_s3_secret_access_key);
		t->cred_source = pstrdup("the settings gemini_etl.s3_access_key_id and gemini_etl.s3_secret_access_key");
		return;
	}
	if (env_id && env_id[0] && env_secret && env_secret[0])
	{
		const char *tok = getenv("AWS_SESSION_TOKEN");

		t->key_id = pstrdup(env_id);
		t->secret = pstrdup(env_secret);
		t->session_token = tok && tok[0] ? pstrdup(tok) : NULL;
		t->cred_source = pstrdup("the server's environment (AWS_ACCESS_KEY_ID)");
		return;
	}
	initStringInfo(&tried);
	if (creds_from_file(t, &tried))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("no S3 credentials found"),
			 errdetail("Looked in gemini_etl.s3_access_key_id/s3_secret_access_key (empty), the server's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (unset)%s.",
					   tried.data),
			 errhint("A superuser sets gemini_etl.s3_access_key_id and gemini_etl.s3_secret_access_key, or gives the server's user an AWS credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials).")));
}

/* ---------- target and URLs ---------- */

static void
check_bucket_name(const char *b)
{
	size_t		n = strlen(b);
	bool		ok = n >= 3 && n <= 63;

	for (size_t i = 0; ok && i < n; i++)
		ok = (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' || b[i] == '.';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid S3 bucket name \"%s\"", b),
				 errdetail("Bucket names have 3 to 63 characters: lowercase letters, digits, '-' and '.'."),
				 errhint("Check gemini_etl.s3_bucket or the bucket argument.")));
}

static void
check_region_name(const char *r)
{
	bool		ok = r[0] != '\0' && strlen(r) <= 32;

	for (const char *c = r; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid S3 region \"%s\"", r),
				 errdetail("A region is a name such as us-east-1: lowercase letters, digits and '-'."),
				 errhint("Check gemini_etl.s3_region or the region argument.")));
}

const char *
s3_bucket_checked(const char *bucket)
{
	if (bucket == NULL)
		bucket = gemini_s3_bucket ? gemini_s3_bucket : "";
	if (bucket[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no S3 bucket is set"),
				 errdetail("gemini_etl.s3_bucket is empty."),
				 errhint("A superuser sets it: ALTER SYSTEM SET gemini_etl.s3_bucket = 'my-bucket'; SELECT pg_reload_conf();")));
	check_bucket_name(bucket);
	return bucket;
}

S3Target *
s3_target_open(const char *bucket, const char *region)
{
	S3Target   *t = palloc0(sizeof(S3Target));
	const char *endpoint = gemini_s3_endpoint ? gemini_s3_endpoint : "";
	const char *style = gemini_s3_url_style ? gemini_s3_url_style : "auto";

	bucket = s3_bucket_checked(bucket);
	if (region == NULL || region[0] == '\0')
		region = gemini_s3_region ? gemini_s3_region : "us-east-1";
	check_region_name(region);
	t->bucket = pstrdup(bucket);
	t->region = pstrdup(region);
	t->sigv4 = psprintf("aws:amz:%s:s3", region);

	/* Virtual-hosted names with a dot break TLS (*.s3... certificates): path-style then. */
	if (strcmp(style, "path") == 0)
		t->path_style = true;
	else if (strcmp(style, "virtual") == 0)
		t->path_style = false;
	else
		t->path_style = endpoint[0] != '\0' || strchr(bucket, '.') != NULL;

	if (endpoint[0] == '\0')
		t->base = t->path_style ? psprintf("https://s3.%s.amazonaws.com", region)
			: psprintf("https://%s.s3.%s.amazonaws.com", bucket, region);
	else if (t->path_style)
		t->base = pstrdup(endpoint);
	else
	{
		const char *host = strstr(endpoint, "://") + 3;	/* check_url made sure it is there */

		t->base = psprintf("%.*s%s.%s", (int) (host - endpoint), endpoint, bucket, host);
	}
	find_credentials(t);
	return t;
}

char *
s3_uri(const S3Target *t, const char *key)
{
	return psprintf("s3://%s/%s", t->bucket, key);
}

/* URL of key (NULL: the bucket) with a canonical query string (or NULL). */
static char *
s3_url(const S3Target *t, const char *key, const char *query)
{
	char	   *enc = palloc(strlen(key ? key : "") * 3 + 1);
	const char *q = query ? "?" : "";

	s3_uri_encode(key ? key : "", true, enc);
	if (t->path_style)
		return psprintf("%s/%s/%s%s%s", t->base, t->bucket, enc, q, query ? query : "");
	return psprintf("%s/%s%s%s", t->base, enc, q, query ? query : "");
}

/* A query parameter's value, encoded as SigV4's canonical query wants. */
static char *
qvalue(const char *v)
{
	char	   *out = palloc(strlen(v) * 3 + 1);

	s3_uri_encode(v, false, out);
	return out;
}

/* Fill req for a signed request; hdrs (3 slots) holds its header lines. */
static void
s3_request(const S3Target *t, const char *method, const char *url, const char *body, size_t len,
		   bool has_body, const char *content_type, HttpRequest *req, char **hdrs)
{
	char		sum[65];
	int			n = 0;

	s3_sha256_hex(body ? body : "", body ? len : 0, sum);
	memset(req, 0, sizeof(*req));
	hdrs[n++] = psprintf("x-amz-content-sha256: %s", sum);
	if (content_type)
		hdrs[n++] = psprintf("Content-Type: %s", content_type);
	if (t->session_token)
		hdrs[n++] = psprintf("x-amz-security-token: %s", t->session_token);
	req->method = method;
	req->url = url;
	req->headers = (const char *const *) hdrs;
	req->nheaders = n;
	req->body = body;
	req->body_len = len;
	req->has_body = has_body;
	req->aws_sigv4 = t->sigv4;
	req->username = t->key_id;
	req->password = t->secret;
	req->pace = false;
	req->max_response = S3_MAX_RESPONSE;
	req->max_retries = gemini_max_retries;
	req->timeout_ms = gemini_s3_timeout_ms;
}

/* ---------- errors ---------- */

static void
s3_error_fields(const HttpResult *r, char *code, size_t codesz, char *msg, size_t msgsz)
{
	size_t		pos = 0;

	code[0] = msg[0] = '\0';
	if (r->body == NULL)
		return;
	if (s3x_next(r->body, r->body_len, &pos, "Code", code, codesz) != 1)
		code[0] = '\0';
	pos = 0;
	if (s3x_next(r->body, r->body_len, &pos, "Message", msg, msgsz) != 1)
		msg[0] = '\0';
}

/*
 * Raise for a failed request: which of key, signature or permission failed
 * on a 403, the endpoint on a transport error.  what is e.g. "PUT", key the
 * object (or NULL).  Never mentions the secret.
 */
static void
s3_raise(const S3Target *t, const char *what, const char *key, const HttpResult *r)
{
	char		code[128],
				msg[512];
	char	   *obj = s3_uri(t, key ? key : "");
	const char *tries = r->attempts > 1 ? psprintf(" after %d attempts", r->attempts) : "";

	if (r->outcome == HTTP_TRANSPORT_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not reach S3 for %s %s%s", what, obj, tries),
				 errdetail("%s", r->error),
				 errhint("Check gemini_etl.s3_endpoint (now \"%s\"), the network, and gemini_etl.s3_timeout_ms; re-running the export is safe.",
						 gemini_s3_endpoint ? gemini_s3_endpoint : "")));
	s3_error_fields(r, code, sizeof(code), msg, sizeof(msg));
	if (r->status == 403 && strcmp(code, "InvalidAccessKeyId") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("S3 does not know the access key id %s", key_hint(t->key_id)),
				 errdetail("%s %s: HTTP 403 InvalidAccessKeyId: %s (credentials from %s)", what, obj, msg, t->cred_source),
				 errhint("Check the access key id, and that gemini_etl.s3_endpoint and gemini_etl.s3_region point at the account it belongs to.")));
	if (r->status == 403 && strcmp(code, "SignatureDoesNotMatch") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PASSWORD),
				 errmsg("S3 rejected the request signature: the secret access key does not match access key id %s",
						key_hint(t->key_id)),
				 errdetail("%s %s: HTTP 403 SignatureDoesNotMatch (credentials from %s).", what, obj, t->cred_source),
				 errhint("Set the secret access key that belongs to this key id; check gemini_etl.s3_region (now %s) too, since it is part of the signature.",
						 t->region)));
	if (r->status == 403 && strcmp(code, "RequestTimeTooSkewed") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("S3 refused the request: this server's clock is off by more than 15 minutes"),
				 errdetail("%s %s: HTTP 403 RequestTimeTooSkewed: %s", what, obj, msg),
				 errhint("Synchronise the server's clock (NTP).")));
	if (r->status == 403)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("S3 denied %s %s to access key id %s", what, obj, key_hint(t->key_id)),
				 errdetail("HTTP 403 %s: %s (credentials from %s)", code[0] ? code : "(no code)", msg, t->cred_source),
				 errhint("The key is valid but lacks permission: grant it s3:PutObject, s3:ListBucket, s3:DeleteObject and s3:AbortMultipartUpload on the bucket and prefix.")));
	if (r->status == 404 && strcmp(code, "NoSuchBucket") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("S3 bucket \"%s\" does not exist", t->bucket),
				 errdetail("%s %s: HTTP 404 NoSuchBucket: %s", what, obj, msg),
				 errhint("Create the bucket, or check gemini_etl.s3_bucket and gemini_etl.s3_endpoint.")));
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("S3 answered HTTP %ld to %s %s%s", r->status, what, obj, tries),
			 errdetail("%s: %s", code[0] ? code : "(no error code)", msg[0] ? msg : "(no message)"),
			 r->status >= 500 ?
			 errhint("S3 reports a problem on its side; re-running the export is safe (it rewrites the same keys).") :
			 errhint("Check gemini_etl.s3_bucket, gemini_etl.s3_endpoint and gemini_etl.s3_region.")));
}

/* Run a signed request; raise unless it answered 2xx (and, for some, not an <Error>). */
static void
s3_run(const S3Target *t, const char *what, const char *key, HttpRequest *req, HttpResult *r)
{
	http_request(req, r);
	if (r->outcome != HTTP_OK || r->status < 200 || r->status > 299)
		s3_raise(t, what, key, r);
}

/* ---------- operations ---------- */

void
s3_put_object(const S3Target *t, const char *key, const char *data, size_t len,
			  const char *content_type, char *etag)
{
	HttpRequest req;
	HttpResult	r;
	char	   *hdrs[3];

	s3_request(t, "PUT", s3_url(t, key, NULL), data, len, true, content_type, &req, hdrs);
	s3_run(t, "PUT", key, &req, &r);
	strlcpy(etag, r.etag, S3_ETAG_LEN);
}

char *
s3_multipart_begin(const S3Target *t, const char *key, const char *content_type)
{
	HttpRequest req;
	HttpResult	r;
	char	   *hdrs[3];
	char		id[1024];
	size_t		pos = 0;

	s3_request(t, "POST", s3_url(t, key, "uploads="), "", 0, true, content_type, &req, hdrs);
	s3_run(t, "CreateMultipartUpload", key, &req, &r);
	if (s3x_next(r.body, r.body_len, &pos, "UploadId", id, sizeof(id)) != 1 || id[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("S3 started a multipart upload of %s without an upload id", s3_uri(t, key)),
				 errdetail("HTTP %ld, %zu bytes of answer", r.status, r.body_len),
				 errhint("Check that gemini_etl.s3_endpoint is an S3-compatible server.")));
	return pstrdup(id);
}

/* Start the PUT of a whole object (part_no 0) or of a part; s3_part_finish completes either. */
static void
pending_start(const S3Target *t, const char *key, const char *query, int part_no, const char *data,
			  size_t len, const char *content_type, S3PendingPart *p)
{
	memset(p, 0, sizeof(*p));
	p->url = s3_url(t, key, query);
	p->key = key;
	p->part_no = part_no;
	s3_request(t, "PUT", p->url, data, len, true, content_type, &p->req, p->headers);
	http_request_start(&p->req);
	p->active = true;
}

void
s3_part_start(const S3Target *t, const char *key, const char *upload_id, int part_no,
			  const char *data, size_t len, S3PendingPart *p)
{
	pending_start(t, key, psprintf("partNumber=%d&uploadId=%s", part_no, qvalue(upload_id)), part_no,
				  data, len, NULL, p);
}

void
s3_put_start(const S3Target *t, const char *key, const char *data, size_t len,
			 const char *content_type, S3PendingPart *p)
{
	pending_start(t, key, NULL, 0, data, len, content_type, p);
}

void
s3_part_finish(const S3Target *t, S3PendingPart *p, char *etag)
{
	HttpResult	r;
	char	   *what = p->part_no > 0 ? psprintf("UploadPart %d of", p->part_no) : "PUT";

	Assert(p->active);
	p->active = false;
	http_request_finish(&p->req, &r);
	if (r.outcome != HTTP_OK || r.status < 200 || r.status > 299)
		s3_raise(t, what, p->key, &r);
	if (r.etag[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("S3 accepted %s %s without an ETag", what, s3_uri(t, p->key)),
				 errhint("Check that gemini_etl.s3_endpoint is an S3-compatible server.")));
	strlcpy(etag, r.etag, S3_ETAG_LEN);
}

void
s3_multipart_complete(const S3Target *t, const char *key, const char *upload_id,
					  char **part_etags, int nparts, char *etag)
{
	HttpRequest req;
	HttpResult	r;
	char	   *hdrs[3];
	StringInfoData xml;
	char		code[128];
	size_t		pos = 0;

	initStringInfo(&xml);
	appendStringInfoString(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; i < nparts; i++)
		appendStringInfo(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1, part_etags[i]);
	appendStringInfoString(&xml, "</CompleteMultipartUpload>");
	s3_request(t, "POST", s3_url(t, key, psprintf("uploadId=%s", qvalue(upload_id))),
			   xml.data, xml.len, true, "application/xml", &req, hdrs);
	s3_run(t, "CompleteMultipartUpload", key, &req, &r);
	/* S3 may answer 200 and still report an error in the body. */
	if (s3x_next(r.body, r.body_len, &pos, "Code", code, sizeof(code)) == 1)
	{
		r.status = 500;
		s3_raise(t, "CompleteMultipartUpload", key, &r);
	}
	pos = 0;
	if (s3x_next(r.body, r.body_len, &pos, "ETag", etag, S3_ETAG_LEN) != 1)
		strlcpy(etag, r.etag, S3_ETAG_LEN);
}

bool
s3_multipart_abort(const S3Target *t, const char *key, const char *upload_id)
{
	HttpRequest req;
	HttpResult	r;
	char	   *hdrs[3];

	s3_request(t, "DELETE", s3_url(t, key, psprintf("uploadId=%s", qvalue(upload_id))),
			   NULL, 0, false, NULL, &req, hdrs);
	http_request(&req, &r);
	return r.outcome == HTTP_OK && (r.status == 204 || r.status == 200 || r.status == 404);
}

List *
s3_list_keys(const S3Target *t, const char *prefix)
{
	List	   *keys = NIL;
	char	   *token = NULL;

	for (;;)
	{
		HttpRequest req;
		HttpResult	r;
		char	   *hdrs[3];
		char	   *q;
		char		val[2048];
		size_t		pos = 0;
		int			rc;

		/* keys sorted: continuation-token < list-type < prefix */
		q = token ? psprintf("continuation-token=%s&list-type=2&prefix=%s", qvalue(token), qvalue(prefix))
			: psprintf("list-type=2&prefix=%s", qvalue(prefix));
		s3_request(t, "GET", s3_url(t, NULL, q), NULL, 0, false, NULL, &req, hdrs);
		s3_run(t, "ListObjectsV2 of", prefix, &req, &r);
		while ((rc = s3x_next(r.body, r.body_len, &pos, "Key", val, sizeof(val))) == 1)
			keys = lappend(keys, pstrdup(val));
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("could not read S3's listing of %s", s3_uri(t, prefix)),
					 errhint("Check that gemini_etl.s3_endpoint is an S3-compatible server.")));
		pos = 0;
		if (s3x_next(r.body, r.body_len, &pos, "IsTruncated", val, sizeof(val)) != 1 || strcmp(val, "true") != 0)
			break;
		pos = 0;
		if (s3x_next(r.body, r.body_len, &pos, "NextContinuationToken", val, sizeof(val)) != 1)
			break;
		token = pstrdup(val);
	}
	return keys;
}

void
s3_delete_object(const S3Target *t, const char *key)
{
	HttpRequest req;
	HttpResult	r;
	char	   *hdrs[3];

	s3_request(t, "DELETE", s3_url(t, key, NULL), NULL, 0, false, NULL, &req, hdrs);
	http_request(&req, &r);
	if (r.outcome == HTTP_OK && r.status == 404)
		return;
	if (r.outcome != HTTP_OK || r.status < 200 || r.status > 299)
		s3_raise(t, "DELETE", key, &r);
}
