/*
 * http.h
 *	  HTTP transport: one request (Gemini's GETs, S3's signed PUT/POST/
 *	  DELETE) with pacing, retries, a size cap and prompt cancellation.
 *	  Knows nothing of Gemini's formats, of S3's, or of the tables.
 */
#ifndef GEMINI_HTTP_H
#define GEMINI_HTTP_H

#include "datatype/timestamp.h"

/* Room for curl's error buffer (CURL_ERROR_SIZE), without including curl.h everywhere. */
#define CURL_ERROR_SIZE_GEMINI 256

typedef enum HttpOutcome
{
	HTTP_OK,					/* a response arrived (any status); see status */
	HTTP_TRANSPORT_ERROR,		/* no usable response: DNS, connect, TLS, timeout, cut-off body */
	HTTP_TOO_LARGE				/* the body exceeded gemini_etl.max_response_bytes */
} HttpOutcome;

typedef struct HttpResult
{
	HttpOutcome outcome;
	long		status;			/* HTTP status, 0 without a response */
	char	   *body;			/* palloc'd, NUL-terminated; NULL without a response */
	size_t		body_len;
	char		content_type[64];
	char		etag[128];		/* ETag response header, quotes kept */
	char		error[CURL_ERROR_SIZE_GEMINI];	/* transport error text */
	int			attempts;		/* requests made, retries included */
	double		retry_after_s;	/* last Retry-After seen, -1 when none */
	TimestampTz fetched_at;		/* when the final response arrived */
} HttpResult;


/*
 * One request.  GETs to Gemini are paced; S3 requests are not.  body (not
 * copied: it must live until the request is finished) goes out with any
 * method.  With aws_sigv4 set (curl's provider string, e.g.
 * "aws:amz:us-east-1:s3") curl signs the request with SigV4 using
 * username/password as the key id and secret; they never reach an error
 * message.  headers are "Name: value" lines.
 */
typedef struct HttpRequest
{
	const char *method;			/* "GET", "PUT", "POST", "DELETE" */
	const char *url;
	const char *const *headers;
	int			nheaders;
	const char *body;
	size_t		body_len;
	bool		has_body;		/* send body (even an empty one) */
	const char *aws_sigv4;
	const char *username;
	const char *password;
	bool		pace;			/* wait for gemini_etl.rate_limit_rps */
	size_t		max_response;	/* larger responses are cut off: HTTP_TOO_LARGE */
	int			max_retries;	/* retries of 429, 5xx and transport errors */
	long		timeout_ms;		/* per attempt, connect included */
} HttpRequest;

extern void http_global_init(void);

/* Run req with retries (see http_get for the policy); r->body is palloc'd. */
extern void http_request(const HttpRequest *req, HttpResult *result);

/*
 * Start req's first attempt without waiting, so it travels while the caller
 * works (an S3 part uploads while the next one is being written); call
 * http_poll() now and then to keep it moving, and http_request_finish() to
 * complete it (its retries included).  req and its body must live until
 * then.  Any other request discards it.
 */
extern void http_request_start(const HttpRequest *req);
extern void http_request_finish(const HttpRequest *req, HttpResult *result);
extern void http_poll(void);

/*
 * GET url.  Paces requests to gemini_etl.rate_limit_rps, retries 429 (after
 * Retry-After), 5xx and transport errors up to gemini_etl.max_retries times
 * with exponential backoff and jitter, and returns the final outcome.  Any
 * other status (2xx, 4xx) returns at once.  Honours query cancel and
 * statement_timeout within ~50 ms.  Never raises from inside libcurl.
 */
extern void http_get(const char *url, HttpResult *result);

/*
 * Start GET url now without waiting, so the request travels while the caller
 * works; the next http_get(url) completes it as its first attempt.  Does
 * nothing when pacing would make it wait (http_get then paces as usual).
 */
extern void http_prefetch(const char *url);

/* Drop a prefetched request that will not be asked for (any exit of a pull). */
extern void http_prefetch_cancel(void);

/* Milliseconds until gemini_etl.rate_limit_rps allows the next request (0 = now). */
extern long http_pace_wait_ms(void);

/*
 * A function run about every 50 ms while http_get waits (for a response, or
 * between retries), so a caller with other work to keep alive, the stream
 * worker's websocket, is not starved by a slow REST server.  NULL removes
 * it.  It may raise; the transfer is then discarded by the next request.
 */
typedef void (*HttpWaitHook) (void *arg);
extern void http_set_wait_hook(HttpWaitHook hook, void *arg);

/* Does this outcome/status call for another attempt? */
extern bool http_is_retryable(const HttpResult *r);

#endif
