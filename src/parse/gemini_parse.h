/*
 * gemini_parse.h
 *	  Gemini wire formats (REST bodies) -> plain C structs.
 *
 * This layer knows nothing of PostgreSQL, the network or the tables: bytes go
 * in, structs come out, so it compiles as-is into the unit tests
 * (test/unit) and the fuzz targets (test/fuzz).  It never aborts and never
 * prints; every failure is reported through a status code plus a message.
 *
 * Exactness rules (see docs gemini-api.md section 0):
 *  - prices, amounts and every other decimal keep their exact wire text
 *    (a JSON string such as "3610.85", or the literal text of a JSON number
 *    such as 1E-8) so the caller can hand it to numeric_in unchanged;
 *  - integers (tid, timestamps) are int64, accepted from a JSON number or a
 *    JSON string of digits, and never pass through double;
 *  - a body that is {"result":"error",...} is an API error even on HTTP 200.
 *
 * Memory: every result owns its memory (malloc); free it with the matching
 * gp_*_free function.  Strings inside a result stay valid until then.
 */
#ifndef GEMINI_PARSE_H
#define GEMINI_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum gp_status
{
	GP_OK = 0,
	GP_ERR_JSON,				/* not JSON at all, or truncated */
	GP_ERR_SHAPE,				/* JSON, but not the shape this endpoint returns */
	GP_ERR_API					/* {"result":"error","reason":...} */
} gp_status;

/* Why a call failed; filled on any status other than GP_OK. */
typedef struct gp_error
{
	char		message[256];	/* human-readable, e.g. "unexpected end of input at offset 812" */
	char		reason[128];	/* GP_ERR_API: Gemini's "reason", e.g. "InvalidSymbol" */
	char		api_message[256];	/* GP_ERR_API: Gemini's "message" (may be empty) */
} gp_error;

/* ---------- integers and decimals ---------- */

/*
 * Strict int64 from text: optional '-', then 1..19 digits, nothing else,
 * no overflow.  Returns 1 on success, 0 otherwise.
 */
int			gp_parse_int64_text(const char *s, size_t len, int64_t *out);

/*
 * Is s an exact decimal that PostgreSQL's numeric_in accepts and that is a
 * plain finite number: -?digits[.digits][(e|E)[+-]digits]  (also ".5" and "5.")
 * No NaN/Infinity, no spaces.  Returns 1 or 0.
 */
int			gp_is_decimal(const char *s);

/* ---------- REST /v1/trades/:symbol ---------- */

typedef enum gp_side
{
	GP_SIDE_BUY = 0,
	GP_SIDE_SELL,
	GP_SIDE_AUCTION,
	GP_SIDE_BLOCK
} gp_side;

/* "buy", "sell", "auction", "block" */
const char *gp_side_name(gp_side side);

typedef struct gp_trade
{
	int64_t		tid;
	int64_t		timestampms;
	const char *price;			/* exact decimal text, NUL-terminated */
	const char *amount;			/* exact decimal text */
	gp_side		side;			/* from "type" */
	int			broken;			/* -1 absent, 0 false, 1 true */

	/*
	 * NULL when the element is a usable trade.  Otherwise why not (e.g.
	 * "missing field \"tid\"", "field \"price\" is not a decimal string",
	 * "unknown type \"foo\"") and the fields above may be partly unset;
	 * tid is still set when it could be read (has_tid).
	 */
	const char *bad_reason;
	int			has_tid;
	const char *raw;			/* the element's JSON text, always set */
} gp_trade;

typedef struct gp_trades_page
{
	size_t		n;				/* number of array elements */
	gp_trade   *trades;			/* in the order received (Gemini: newest first) */
	size_t		n_bad;			/* how many have bad_reason != NULL */
	void	   *priv;			/* owned memory */
} gp_trades_page;

/*
 * Parse a /v1/trades body (a JSON array of trade objects).  A body that is
 * not an array (other than an API error object) is GP_ERR_SHAPE.  An element
 * that is not a usable trade does not fail the page: it is returned with
 * bad_reason set, so the caller can quarantine it.  "exchange" and
 * "timestamp" (seconds) are accepted and ignored; unknown keys are ignored.
 */
gp_status	gp_parse_trades(const char *body, size_t len, gp_trades_page *out, gp_error *err);
void		gp_trades_page_free(gp_trades_page *page);

/* ---------- REST /v1/symbols and /v1/symbols/details/:symbol ---------- */

typedef struct gp_symbol_list
{
	size_t		n;
	const char **symbols;		/* as sent (Gemini: lower case) */
	void	   *priv;
} gp_symbol_list;

gp_status	gp_parse_symbol_list(const char *body, size_t len, gp_symbol_list *out, gp_error *err);
void		gp_symbol_list_free(gp_symbol_list *list);

typedef struct gp_symbol_details
{
	const char *symbol;			/* required */
	const char *base_currency;	/* NULL when absent */
	const char *quote_currency;
	const char *tick_size;		/* exact text of the JSON number or string, e.g. "1E-8" */
	const char *quote_increment;
	const char *min_order_size;
	const char *status;
	const char *product_type;
	const char *contract_type;
	const char *raw;			/* the whole object as JSON text */
	void	   *priv;
} gp_symbol_details;

gp_status	gp_parse_symbol_details(const char *body, size_t len, gp_symbol_details *out, gp_error *err);
void		gp_symbol_details_free(gp_symbol_details *d);

/* ---------- REST /v2/candles/:symbol/:time_frame ---------- */

typedef struct gp_candle
{
	int64_t		time_ms;
	const char *open;			/* exact text of the JSON number, e.g. "73402.61" */
	const char *high;
	const char *low;
	const char *close;
	const char *volume;
} gp_candle;

typedef struct gp_candles
{
	size_t		n;
	gp_candle  *candles;		/* in the order received (newest first) */
	void	   *priv;
} gp_candles;

/* Every element must be [int, num, num, num, num, num]; otherwise GP_ERR_SHAPE naming the index. */
gp_status	gp_parse_candles(const char *body, size_t len, gp_candles *out, gp_error *err);
void		gp_candles_free(gp_candles *c);

/* ---------- errors in any body ---------- */

/*
 * If body is a JSON object with "result":"error", fill err->reason and
 * err->api_message and return 1; else return 0 (empty, text/plain, other
 * JSON...).  Used to describe non-2xx responses.
 */
int			gp_extract_api_error(const char *body, size_t len, gp_error *err);

/* ---------- any bytes -> storable text ---------- */

/*
 * Copy of in[0..len) that a PostgreSQL text column accepts: NUL bytes and
 * every byte of an ill-formed UTF-8 sequence (strictly: overlong forms,
 * surrogates, code points above U+10FFFF and truncated sequences are
 * ill-formed) are written as \xNN (upper-case hex); everything else is
 * copied unchanged.  With utf8_ok 0 (the database encoding is not UTF-8)
 * every byte >= 0x80 is escaped too, so the result is pure ASCII.
 *
 * One-way, for display: a backslash in the input stays as it is, so the
 * original bytes cannot always be recovered from the result.
 *
 * Returns malloc'd NUL-terminated text (free it with free) and its length
 * in *out_len (may be NULL), or NULL when out of memory.  in may be NULL
 * when len is 0.
 */
char	   *gp_text_escape(const char *in, size_t len, int utf8_ok, size_t *out_len);

#endif							/* GEMINI_PARSE_H */
