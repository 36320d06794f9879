/*
 * gemini_api.h
 *	  Calls to Gemini's REST API as the jobs see them: a path in, a 2xx body
 *	  out, and every failure turned into a specific, explained error.
 */
#ifndef GEMINI_API_H
#define GEMINI_API_H

#include "postgres.h"

#include "net/http.h"
#include "gemini_parse.h"

/* Upper-cases and validates a symbol argument; raises 22023 on a bad one. */
extern char *gemini_normalize_symbol(text *arg);
/* A user's input for an error message: cut to 40 characters, with "...". */
extern char *gemini_quote_input(const char *s);

/* Lower-case copy, the form Gemini's REST paths and /v1/symbols use. */
extern char *gemini_lower(const char *s);

/*
 * GET api_url || path.  Returns only with a 2xx response whose body is valid
 * text; raises otherwise (unknown symbol, HTTP failure after retries,
 * transport failure, body too large or not text).  *url_out gets the full URL.
 */
extern void gemini_get(const char *path, const char *symbol, HttpResult *r, char **url_out);

/*
 * Send GET api_url || path ahead (http_prefetch): a later gemini_get of the
 * same path takes its response.  Never raises for the request's outcome.
 */
extern void gemini_prefetch(const char *path);

/* Raise the error for a body the parser refused (malformed JSON, wrong shape, API error on 200). */
extern void gemini_raise_parse_error(gp_status st, const gp_error *err, const char *url,
									 const HttpResult *r, const char *what);

/* Unix milliseconds <-> timestamptz, exactly (no double). */
extern TimestampTz gemini_ms_to_timestamptz(int64 ms);
extern int64 gemini_timestamptz_to_ms(TimestampTz ts);

#endif
