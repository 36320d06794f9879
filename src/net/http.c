/*
 * http.c
 *	  HTTP transport on libcurl: pacing, retries with backoff, a size cap,
 *	  and cancellation, for requests made from a backend: Gemini's GETs and
 *	  S3's signed uploads (s3.c) go through the same code.
 *
 * Rules this file keeps (see docs/anchors.md):
 *  - Nothing inside a libcurl callback may ereport or palloc: an ERROR would
 *    longjmp through curl's stack.  Callbacks use malloc and flags; the body
 *    is copied into palloc'd memory only after curl has returned.
 *  - The request runs through a multi handle polled in 50 ms slices, so a
 *    query cancel or statement_timeout is noticed promptly; the handle is
 *    detached before CHECK_FOR_INTERRUPTS may longjmp.
 *  - CURLOPT_NOSIGNAL: PostgreSQL owns the process's signals (SIGALRM).
 *  - One easy handle and one multi handle per backend are kept, so
 *    consecutive pages reuse the TCP/TLS connection.
 *  - A request may be started ahead (http_prefetch), so that it travels and
 *    the server answers it while the caller stores the previous page; the
 *    http_get of the same URL then completes it as its first attempt, with
 *    the same polling, cancellation, timeout and retries as any other.
 *    That transfer outlives the call that started it, so its state is
 *    static (curl writes into it from later calls), and any other request,
 *    or http_prefetch_cancel (the pull calls it on every exit, errors
 *    included), discards it first.
 */
#include "postgres.h"

#include <curl/curl.h>
#include <math.h>

#include "access/xact.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "net/http.h"

StaticAssertDecl(CURL_ERROR_SIZE_GEMINI >= CURL_ERROR_SIZE, "curl error buffer too small");

/* Backoff: base * 2^attempt, full jitter, capped.  Retry-After is honoured up to its own cap. */
#define BACKOFF_BASE_MS		500
#define BACKOFF_CAP_MS		30000
#define RETRY_AFTER_CAP_S	120
#define POLL_SLICE_MS		50

/* Filled by the callbacks: plain C, malloc only. */
typedef struct Transfer
{
	char	   *buf;
	size_t		len;
	size_t		cap;
	size_t		limit;
	bool		too_large;
	bool		oom;
	double		retry_after_s;
	char		content_type[64];
	char		etag[128];
} Transfer;

static CURL *easy = NULL;
static CURLM *multi = NULL;
static TimestampTz last_request_start = 0;

/*
 * The backend's one transfer: the easy handle is attached to the multi
 * handle while xfer_active.  xfer_url (malloc'd) is what it fetches.
 */
static Transfer xfer;
static char xfer_errbuf[CURL_ERROR_SIZE];
static char *xfer_url = NULL;
static char xfer_method[8];
static struct curl_slist *xfer_headers = NULL;
static bool xfer_active = false;
static bool xfer_keep = false;	/* started by http_request_start: never discarded */

/*
 * Requests started with http_request_start that another request overtook:
 * completed (first attempt) when the other one started, waiting here for
 * their http_request_finish.  Kept in TopMemoryContext; at most a few.
 */
typedef struct Stashed
{
	char	   *method;
	char	   *url;
	HttpResult	result;
} Stashed;
static List *stash = NIL;

/*
 * Called every slice while a request or a backoff waits (see http.h).  It
 * runs outside any curl callback, with the transfer attached; if it raises,
 * the transfer is left attached and the next request (or
 * http_prefetch_cancel) discards it.
 */
static HttpWaitHook wait_hook = NULL;
static void *wait_hook_arg = NULL;

void
http_set_wait_hook(HttpWaitHook hook, void *arg)
{
	wait_hook = hook;
	wait_hook_arg = arg;
}

static void transfer_wait(const char *url, HttpResult *r);

static void
run_wait_hook(void)
{
	if (wait_hook)
		wait_hook(wait_hook_arg);
}

/*
 * On abort, of a transaction or of a subtransaction (an error caught by a
 * PL/pgSQL EXCEPTION block), forget requests started ahead: a stashed
 * answer must never stand in for a request made after the error (a re-run's
 * PUT of the same key would then not be sent).
 */
static void
http_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		http_prefetch_cancel();
}

static void
http_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		http_prefetch_cancel();
}

void
http_global_init(void)
{
	static bool done = false;

	if (done)
		return;
	RegisterXactCallback(http_xact_callback, NULL);
	RegisterSubXactCallback(http_subxact_callback, NULL);
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialise libcurl")));
	done = true;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	Transfer   *t = (Transfer *) userp;
	size_t		n = size * nmemb;

	if (t->len + n > t->limit)
	{
		t->too_large = true;
		return 0;				/* makes curl stop with CURLE_WRITE_ERROR */
	}
	if (t->len + n + 1 > t->cap)
	{
		size_t		newcap = Max(t->cap * 2, t->len + n + 1);
		char	   *nb;

		newcap = Max(newcap, (size_t) 65536);
		nb = realloc(t->buf, newcap);
		if (nb == NULL)
		{
			t->oom = true;
			return 0;
		}
		t->buf = nb;
		t->cap = newcap;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return n;
}

/* Case-insensitive "Name:" prefix match on a raw header line. */
static bool
header_is(const char *line, size_t len, const char *name)
{
	size_t		nlen = strlen(name);

	return len > nlen && line[nlen] == ':' && pg_strncasecmp(line, name, nlen) == 0;
}

static void
copy_header_value(const char *line, size_t len, size_t namelen, char *dst, size_t dstsize)
{
	size_t		i = namelen + 1;
	size_t		j = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (i < len && line[i] != '\r' && line[i] != '\n' && j + 1 < dstsize)
		dst[j++] = line[i++];
	dst[j] = '\0';
}

static size_t
header_cb(char *line, size_t size, size_t nitems, void *userp)
{
	Transfer   *t = (Transfer *) userp;
	size_t		len = size * nitems;
	char		value[64];

	/* A new status line starts a new header block (e.g. after 100-continue). */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0)
	{
		t->retry_after_s = -1;
		t->content_type[0] = '\0';
		t->etag[0] = '\0';
	}
	else if (header_is(line, len, "ETag"))
		copy_header_value(line, len, strlen("ETag"), t->etag, sizeof(t->etag));
	else if (header_is(line, len, "Retry-After"))
	{
		char	   *end;
		double		v;

		copy_header_value(line, len, strlen("Retry-After"), value, sizeof(value));
		v = strtod(value, &end);
		/* Only delta-seconds are understood; an HTTP-date falls back to backoff. */
		if (end != value && *end == '\0' && v >= 0)
			t->retry_after_s = v;
	}
	else if (header_is(line, len, "Content-Type"))
		copy_header_value(line, len, strlen("Content-Type"), t->content_type, sizeof(t->content_type));
	return len;
}

/* Sleep on the latch, waking for interrupts; raises if cancelled. */
static void
interruptible_sleep(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(left, wait_hook ? POLL_SLICE_MS : 1000), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		run_wait_hook();
	}
}

long
http_pace_wait_ms(void)
{
	long		gap_ms;
	long		waited;

	if (gemini_rate_limit_rps <= 0 || last_request_start == 0)
		return 0;
	gap_ms = (long) ceil(1000.0 / gemini_rate_limit_rps);
	waited = TimestampDifferenceMilliseconds(last_request_start, GetCurrentTimestamp());
	return waited < gap_ms ? gap_ms - waited : 0;
}

/* Wait until 1/rate_limit_rps has passed since the previous request began. */
static void
pace(void)
{
	long		wait = http_pace_wait_ms();

	if (wait > 0)
		interruptible_sleep(wait);
}

static void
ensure_handles(void)
{
	if (easy == NULL)
	{
		easy = curl_easy_init();
		if (easy == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl handle")));
	}
	if (multi == NULL)
	{
		multi = curl_multi_init();
		if (multi == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a libcurl handle")));
	}
}

/* Detach and forget the transfer, finished or not (closes its connection if unfinished). */
static void
transfer_discard(void)
{
	if (!xfer_active)
		return;
	curl_multi_remove_handle(multi, easy);
	free(xfer.buf);
	free(xfer_url);
	curl_slist_free_all(xfer_headers);
	memset(&xfer, 0, sizeof(xfer));
	xfer_url = NULL;
	xfer_headers = NULL;
	xfer_active = false;
}

/* Start req's first (or next) attempt on the easy handle; returns without waiting. */
static void
transfer_start(const HttpRequest *req)
{
	char	   *url_copy;
	struct curl_slist *hdrs = NULL;

	ensure_handles();
	if (xfer_active && xfer_keep)
	{
		/* a started request that its caller will ask for: complete it first */
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		Stashed    *st = palloc0(sizeof(Stashed));

		st->method = pstrdup(xfer_method);
		st->url = pstrdup(xfer_url);
		/* into the stash only once complete: an error here leaves no half entry */
		transfer_wait(st->url, &st->result);
		stash = lappend(stash, st);
		MemoryContextSwitchTo(old);
	}
	transfer_discard();
	url_copy = strdup(req->url);
	if (url_copy == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	/* "Expect:" turns off 100-continue: a wasted round trip on every upload. */
	for (int i = 0; i <= req->nheaders; i++)
	{
		struct curl_slist *n = curl_slist_append(hdrs, i < req->nheaders ? req->headers[i] : "Expect:");

		if (n == NULL)
		{
			curl_slist_free_all(hdrs);
			free(url_copy);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
		hdrs = n;
	}

	curl_easy_reset(easy);
	memset(&xfer, 0, sizeof(xfer));
	memset(xfer_errbuf, 0, sizeof(xfer_errbuf));
	xfer.limit = req->max_response;
	xfer.retry_after_s = -1;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "gemini_etl/0.1 (PostgreSQL extension)");
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_response);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &xfer);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &xfer);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, xfer_errbuf);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(req->method, "GET") == 0)
	{
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	}
	else
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->has_body)
	{
		/* Sent from the caller's buffer as is (no copy); any method. */
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
	}
	if (req->aws_sigv4)
	{
		curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(easy, CURLOPT_USERNAME, req->username);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, req->password);
	}
	if (gemini_ca_file && gemini_ca_file[0])
		curl_easy_setopt(easy, CURLOPT_CAINFO, gemini_ca_file);

	/* Pacing is Gemini's rule: only paced requests count. */
	if (req->pace)
		last_request_start = GetCurrentTimestamp();
	curl_multi_add_handle(multi, easy);
	xfer_url = url_copy;
	strlcpy(xfer_method, req->method, sizeof(xfer_method));
	xfer_headers = hdrs;
	xfer_active = true;
	xfer_keep = false;
}

/* The stashed first attempt of req, taken out of the stash (result palloc'd in the current context). */
static bool
take_stashed(const HttpRequest *req, HttpResult *r)
{
	ListCell   *lc;

	foreach(lc, stash)
	{
		Stashed    *st = lfirst(lc);

		if (strcmp(st->url, req->url) == 0 && strcmp(st->method, req->method) == 0)
		{
			*r = st->result;
			if (st->result.body)
			{
				r->body = palloc(st->result.body_len + 1);
				memcpy(r->body, st->result.body, st->result.body_len + 1);
				pfree(st->result.body);
			}
			stash = foreach_delete_current(stash, lc);
			pfree(st->url);
			pfree(st->method);
			pfree(st);
			return true;
		}
	}
	return false;
}

/* Is the transfer under way the first attempt of req? */
static bool
transfer_is(const HttpRequest *req)
{
	return xfer_active && strcmp(xfer_url, req->url) == 0 && strcmp(xfer_method, req->method) == 0;
}

/*
 * Wait for the started transfer to end and fill r (body palloc'd).  May
 * raise only after curl is done with the handle: for cancellation, or out
 * of memory.
 */
static void
transfer_wait(const char *url, HttpResult *r)
{
	Transfer	t;
	CURLcode	code = CURLE_OK;
	bool		cancelled = false;
	bool		done = false;
	int			running = 0;

	Assert(xfer_active);
	while (!done)
	{
		CURLMsg    *msg;
		int			left;

		if (curl_multi_perform(multi, &running) != CURLM_OK)
		{
			code = CURLE_FAILED_INIT;
			break;
		}
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
			{
				code = msg->data.result;
				done = true;
			}
		}
		if (done || running == 0)
		{
			done = true;
			break;
		}
		/* Checked here, outside any callback, so raising later is safe. */
		if (QueryCancelPending || ProcDiePending)
		{
			cancelled = true;
			break;
		}
		curl_multi_poll(multi, NULL, 0, POLL_SLICE_MS, NULL);
		run_wait_hook();
	}
	curl_multi_remove_handle(multi, easy);
	/* From here on the transfer is ours alone: take it over. */
	t = xfer;
	memset(&xfer, 0, sizeof(xfer));
	free(xfer_url);
	xfer_url = NULL;
	curl_slist_free_all(xfer_headers);
	xfer_headers = NULL;
	xfer_active = false;

	r->fetched_at = GetCurrentTimestamp();
	r->status = 0;
	r->retry_after_s = t.retry_after_s;
	strlcpy(r->content_type, t.content_type, sizeof(r->content_type));
	strlcpy(r->etag, t.etag, sizeof(r->etag));
	if (!cancelled)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);

	if (cancelled)
	{
		free(t.buf);
		CHECK_FOR_INTERRUPTS();
		/* Not a cancel after all (e.g. held off): report it as a transport failure. */
		r->outcome = HTTP_TRANSPORT_ERROR;
		strlcpy(r->error, "request interrupted", sizeof(r->error));
		return;
	}
	if (t.oom)
	{
		free(t.buf);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory reading the response from %s", url)));
	}

	if (t.too_large || code == CURLE_FILESIZE_EXCEEDED)
	{
		r->outcome = HTTP_TOO_LARGE;
		snprintf(r->error, sizeof(r->error), "response larger than %zu bytes", t.limit);
	}
	else if (code != CURLE_OK)
	{
		r->outcome = HTTP_TRANSPORT_ERROR;
		snprintf(r->error, sizeof(r->error), "%s (curl error %d)",
				 xfer_errbuf[0] ? xfer_errbuf : curl_easy_strerror(code), (int) code);
	}
	else
		r->outcome = HTTP_OK;

	r->body = palloc(t.len + 1);
	if (t.len > 0)
		memcpy(r->body, t.buf, t.len);
	r->body[t.len] = '\0';
	r->body_len = t.len;
	free(t.buf);
}

bool
http_is_retryable(const HttpResult *r)
{
	if (r->outcome == HTTP_TRANSPORT_ERROR)
		return true;
	if (r->outcome == HTTP_TOO_LARGE)
		return false;
	return r->status == 429 || r->status >= 500;
}

static long
backoff_ms(int attempt, const HttpResult *r)
{
	double		cap = Min((double) BACKOFF_CAP_MS, BACKOFF_BASE_MS * pow(2.0, attempt));

	/* Gemini said when to come back: do exactly that (within reason). */
	if (r->status == 429 && r->retry_after_s >= 0)
		return (long) (Min(r->retry_after_s, (double) RETRY_AFTER_CAP_S) * 1000.0);
	/* Full jitter: uniform in [cap/2, cap], so retries of many backends spread out. */
	return (long) (cap / 2 + pg_prng_double(&pg_global_prng_state) * cap / 2);
}

/* Gemini's GETs: paced, with the REST settings. */
static HttpRequest
gemini_get_request(const char *url)
{
	HttpRequest req = {0};

	req.method = "GET";
	req.url = url;
	req.pace = true;
	req.max_response = (size_t) gemini_max_response_bytes;
	req.max_retries = gemini_max_retries;
	req.timeout_ms = gemini_http_timeout_ms;
	return req;
}

void
http_request_start(const HttpRequest *req)
{
	int			running;

	/* Never wait here: when pacing calls for a pause, the request starts later. */
	if (req->pace && http_pace_wait_ms() > 0)
		return;
	transfer_start(req);
	xfer_keep = true;
	/* Send the request now; http_request_finish reads the response (errors included). */
	(void) curl_multi_perform(multi, &running);
}

void
http_poll(void)
{
	int			running;

	if (xfer_active)
		(void) curl_multi_perform(multi, &running);
}

void
http_request_finish(const HttpRequest *req, HttpResult *result)
{
	http_request(req, result);
}

void
http_prefetch(const char *url)
{
	HttpRequest req = gemini_get_request(url);

	http_request_start(&req);
	/* a prefetch that is not asked for is dropped by the next request */
	xfer_keep = false;
}

void
http_prefetch_cancel(void)
{
	ListCell   *lc;

	transfer_discard();
	xfer_keep = false;
	foreach(lc, stash)
	{
		Stashed    *st = lfirst(lc);

		if (st->result.body)
			pfree(st->result.body);
		pfree(st->url);
		pfree(st->method);
		pfree(st);
	}
	list_free(stash);
	stash = NIL;
}

void
http_request(const HttpRequest *req, HttpResult *result)
{
	int			attempt = 0;

	for (;;)
	{
		memset(result, 0, sizeof(*result));
		if (attempt == 0 && take_stashed(req, result))
			;					/* started ahead and completed when another request began */
		else if (attempt == 0 && transfer_is(req))
			transfer_wait(req->url, result);	/* started ahead: already under way */
		else
		{
			if (req->pace)
				pace();
			transfer_start(req);
			transfer_wait(req->url, result);
		}
		result->attempts = attempt + 1;
		if (!http_is_retryable(result) || attempt >= req->max_retries)
			return;
		ereport(DEBUG1,
				(errmsg_internal("gemini_etl: %s %s failed (%s, HTTP %ld), retry %d of %d",
								 req->method, req->url, result->error[0] ? result->error : "status",
								 result->status, attempt + 1, req->max_retries)));
		interruptible_sleep(backoff_ms(attempt, result));
		if (result->body)
			pfree(result->body);
		attempt++;
	}
}

void
http_get(const char *url, HttpResult *result)
{
	HttpRequest req = gemini_get_request(url);

	http_request(&req, result);
}
