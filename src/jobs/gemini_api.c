/*
 * gemini_api.c
 *	  From HTTP outcomes to errors a data engineer can act on.
 *
 * Every failure of a REST call ends here, so that each carries a specific
 * SQLSTATE (never XX000), the URL and HTTP status in the detail, and a hint:
 *   22023 invalid_parameter_value   unknown or malformed symbol
 *   08006 connection_failure        no response: DNS, connect, TLS, timeout, cut-off body
 *   58000 system_error              Gemini answered with an error status, or an error body on 200
 *   54000 program_limit_exceeded    body larger than gemini_etl.max_response_bytes
 *   22032 invalid_json_text         body is not JSON (truncated, HTML, ...)
 *   22000 data_exception            JSON, but not the shape the endpoint returns
 *   22021 character_not_in_repertoire  body is not valid text in the database encoding
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "settings.h"
#include "jobs/gemini_api.h"

#define MAX_SYMBOL_LEN 32
/* user input quoted in a message is cut to this many characters */
#define QUOTE_MAX_CHARS 40

char *
gemini_quote_input(const char *s)
{
	int			len = (int) strlen(s);
	int			cut;

	if (len <= QUOTE_MAX_CHARS)
		return pstrdup(s);
	cut = pg_mbcliplen(s, len, QUOTE_MAX_CHARS);
	return psprintf("%.*s...", cut, s);
}

char *
gemini_normalize_symbol(text *arg)
{
	char	   *s = text_to_cstring(arg);
	size_t		len = strlen(s);

	if (len < 2 || len > MAX_SYMBOL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Gemini symbol \"%s\"", gemini_quote_input(s)),
				 errdetail("A symbol has 2 to %d letters and digits.", MAX_SYMBOL_LEN),
				 errhint("Use a symbol such as 'BTCUSD' (any case); SELECT symbol FROM gemini.symbols lists them after gemini_pull_symbols().")));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 'a' && c <= 'z')
			s[i] = (char) (c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid Gemini symbol \"%s\"", gemini_quote_input(text_to_cstring(arg))),
					 errdetail("A symbol has only letters and digits; found \"%c\".", c),
					 errhint("Use a symbol such as 'BTCUSD' (any case).")));
	}
	return s;
}

char *
gemini_lower(const char *s)
{
	char	   *out = pstrdup(s);

	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	return out;
}

#define UNIX_EPOCH_OFFSET_US ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/*
 * Callers check that ms is a time Gemini can have published before they
 * convert it; a value that would overflow still never wraps: it becomes
 * -infinity or infinity.
 */
TimestampTz
gemini_ms_to_timestamptz(int64 ms)
{
	if (ms > PG_INT64_MAX / 1000)
		return DT_NOEND;
	if (ms < PG_INT64_MIN / 1000 + UNIX_EPOCH_OFFSET_US / 1000 + 1)
		return DT_NOBEGIN;
	return ms * 1000 - UNIX_EPOCH_OFFSET_US;
}

int64
gemini_timestamptz_to_ms(TimestampTz ts)
{
	int64		us = ts + UNIX_EPOCH_OFFSET_US;

	/* floor division, so times before 1970 round the right way */
	return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

/* A short, printable excerpt of a body for error details. */
static char *
body_excerpt(const HttpResult *r)
{
	size_t		n;
	char	   *out;

	if (r->body == NULL || r->body_len == 0)
		return pstrdup("(empty body)");
	n = Min(r->body_len, (size_t) 200);
	out = palloc(n + 4);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) r->body[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
	}
	strcpy(out + n, r->body_len > n ? "..." : "");
	return out;
}

static void
raise_http_status(const char *url, const char *symbol, const HttpResult *r)
{
	gp_error	err = {0};
	bool		api = gp_extract_api_error(r->body, r->body_len, &err) == 1;
	char	   *what = api ? psprintf("%s: %s", err.reason, err.api_message) : body_excerpt(r);

	if (r->status == 400 && api && strcmp(err.reason, "InvalidSymbol") == 0 && symbol != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Gemini symbol \"%s\"", symbol),
				 errdetail("GET %s returned HTTP 400: %s", url, what),
				 errhint("SELECT gemini_pull_symbols(); then SELECT symbol FROM gemini.symbols lists the symbols Gemini trades.")));

	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("Gemini answered HTTP %ld%s", r->status,
					r->attempts > 1 ? psprintf(" after %d attempts", r->attempts) : ""),
			 errdetail("GET %s returned HTTP %ld: %s", url, r->status, what),
			 r->status == 429 ?
			 errhint("Gemini is rate-limiting this client: lower gemini_etl.rate_limit_rps (Gemini allows 120 public requests per minute) or raise gemini_etl.max_retries.") :
			 r->status >= 500 ?
			 errhint("Gemini reports a server problem or maintenance. Re-running is safe: a pull resumes from the stored watermark.") :
			 errhint("Check gemini_etl.api_url and the arguments.")));
}

void
gemini_prefetch(const char *path)
{
	char	   *url = psprintf("%s%s", gemini_api_url, path);

	http_prefetch(url);
	pfree(url);
}

void
gemini_get(const char *path, const char *symbol, HttpResult *r, char **url_out)
{
	char	   *url = psprintf("%s%s", gemini_api_url, path);

	*url_out = url;
	http_get(url, r);

	if (r->outcome == HTTP_TOO_LARGE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Gemini's response is larger than gemini_etl.max_response_bytes (%d bytes)",
						gemini_max_response_bytes),
				 errdetail("GET %s (HTTP %ld) was cut off after %d bytes.", url, r->status,
						   gemini_max_response_bytes),
				 errhint("A trades page is about 75 kB; raise gemini_etl.max_response_bytes only if this response is expected.")));
	if (r->outcome == HTTP_TRANSPORT_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not get a response from Gemini after %d attempts", r->attempts),
				 errdetail("GET %s failed (HTTP %ld): %s", url, r->status, r->error),
				 errhint("Check gemini_etl.api_url, the network and gemini_etl.http_timeout_ms (now %d ms); a pull is safe to re-run.",
						 gemini_http_timeout_ms)));
	if (r->status < 200 || r->status > 299)
		raise_http_status(url, symbol, r);
	if (!pg_verifymbstr(r->body, (int) r->body_len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("Gemini's response is not valid text"),
				 errdetail("GET %s returned HTTP %ld with a body containing a NUL byte or a byte sequence invalid in %s.",
						   url, r->status, GetDatabaseEncodingName()),
				 errhint("The raw layer stores bodies as text; this response cannot be stored or parsed.")));
}

void
gemini_raise_parse_error(gp_status st, const gp_error *err, const char *url,
						 const HttpResult *r, const char *what)
{
	if (st == GP_ERR_API)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("Gemini returned an error for %s: %s", what, err->reason),
				 errdetail("GET %s returned HTTP %ld with {\"result\":\"error\"}: %s: %s",
						   url, r->status, err->reason, err->api_message),
				 errhint("Gemini reports a problem on its side; re-running is safe.")));
	if (st == GP_ERR_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("Gemini's response for %s is not valid JSON", what),
				 errdetail("GET %s returned HTTP %ld, %zu bytes: %s. Body starts: %s",
						   url, r->status, r->body_len, err->message, body_excerpt(r)),
				 errhint("The response was probably cut off or came from a proxy; nothing from this pull was stored, and re-running is safe.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("Gemini's response for %s has an unexpected shape", what),
			 errdetail("GET %s returned HTTP %ld: %s. Body starts: %s",
					   url, r->status, err->message, body_excerpt(r)),
			 errhint("Check gemini_etl.api_url points at Gemini's REST API.")));
}
