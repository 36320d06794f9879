/*
 * parse_internal.h
 *	  Private helpers shared by the files of the parse layer.
 *
 * Nothing here is part of the API (that is gemini_parse.h); these are the
 * building blocks the endpoint parsers (gp_trades.c, gp_candles.c, ...) are
 * made of.  Every non-static function of src/parse has its prototype either
 * here or in gemini_parse.h, because PostgreSQL's -Wmissing-prototypes
 * applies when the extension is built.  All private names start with "gpi_"
 * so they cannot clash with PostgreSQL or the rest of the extension once
 * everything is linked into one shared library.
 */
#ifndef GP_PARSE_INTERNAL_H
#define GP_PARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "gemini_parse.h"
#include "gemini_ws.h"

#if defined(__GNUC__) || defined(__clang__)
#define GPI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define GPI_PRINTF(fmt, args)
#endif

/*
 * Nesting limit handed to json-c.  Gemini bodies are at most 3 levels deep
 * (array of arrays/objects of scalars); the limit only has to be generous
 * for unknown extra fields while keeping hostile input such as 100000 '['
 * from costing anything.  json-c reports "nesting too deep" past it.
 */
#define GPI_JSON_MAX_DEPTH 64

/*
 * Longest decimal text gp_is_decimal accepts.  No price is anywhere near;
 * the cap keeps numeric_in's own limits (scale <= 16383, about 131072
 * integer digits) out of reach, so "accepted here" implies "numeric_in
 * accepts it".
 */
#define GPI_DECIMAL_MAX_LEN 1000

/* numeric_in rejects exponents beyond +-NUMERIC_MAX_PRECISION (1000). */
#define GPI_DECIMAL_MAX_EXP 1000

/* ---------- gp_arena.c: bump allocator owning a result's memory ---------- */

typedef struct gpi_arena gpi_arena;

/*
 * A new arena whose first block holds first_size bytes; it grows by adding
 * blocks (never moving memory), so pointers handed out stay valid until
 * gpi_arena_free.  NULL when out of memory.
 */
gpi_arena  *gpi_arena_new(size_t first_size);

/* size bytes aligned for any scalar or pointer; NULL when out of memory. */
void	   *gpi_arena_alloc(gpi_arena *a, size_t size);

/* NUL-terminated copy of s[0..len); NULL when out of memory. */
char	   *gpi_arena_strndup(gpi_arena *a, const char *s, size_t len);

/* Frees every block; a NULL arena is fine. */
void		gpi_arena_free(gpi_arena *a);

/* Equal texts, or both NULL (the fuzz builds' fast-against-json-c checks; gw_common.c). */
int			gpi_same_text(const char *a, const char *b);

/* ---------- gp_error.c: filling gp_error ---------- */

/* Empties every field of err (err may be NULL). */
void		gpi_error_clear(gp_error *err);

/* printf into err->message, truncated to fit (err may be NULL). */
void		gpi_error_set(gp_error *err, const char *fmt,...) GPI_PRINTF(2, 3);

/*
 * Copy src[0..srclen) into dst (size dstsize >= 1), stopping at an embedded
 * NUL and truncating on a UTF-8 character boundary, always NUL-terminated.
 */
void		gpi_copy_text(char *dst, size_t dstsize, const char *src, size_t srclen);

/*
 * Copy of a JSON string value for use inside a message: at most maxlen
 * bytes, quotes, backslashes and control characters replaced by '?' so the
 * message stays readable whatever the input held.
 */
void		gpi_copy_sanitized(char *dst, size_t dstsize, const char *src, size_t srclen);

/* ---------- gp_numbers.c: strict text -> number checks ---------- */

typedef enum gpi_int_status
{
	GPI_INT_OK = 0,
	GPI_INT_SYNTAX,				/* not an integer at all */
	GPI_INT_RANGE				/* an integer, but outside int64 */
} gpi_int_status;

/* gp_parse_int64_text with the reason for a failure. */
gpi_int_status gpi_parse_int64(const char *s, size_t len, int64_t *out);

/* gp_is_decimal for a counted string (an embedded NUL is refused). */
int			gpi_is_decimal_n(const char *s, size_t len);

/* ---------- gp_utf8.c: strict UTF-8 check ---------- */

/*
 * Offset of the first byte that does not start a well-formed UTF-8
 * sequence (overlong forms, surrogates and code points above U+10FFFF are
 * ill-formed), or len when all of s is valid.
 */
size_t		gpi_utf8_invalid_at(const char *s, size_t len);

/*
 * Length (1..4) of the well-formed UTF-8 sequence that starts at s[0], or 0
 * when s[0] does not start one within len bytes (len 0 too).  ASCII bytes,
 * NUL included, are sequences of length 1.
 */
size_t		gpi_utf8_seq_len(const char *s, size_t len);

/* ---------- gp_json_load.c: bytes -> json-c tree ---------- */

/*
 * Parse body with json-c in strict mode, requiring that the whole input is
 * one JSON value (whitespace around it allowed).  On success *root owns the
 * tree (json_object_put it; it may be NULL for a body that is "null") and
 * *value_start and *value_end delimit the value's bytes in body.  On failure
 * returns GP_ERR_JSON with err->message naming the byte offset.
 */
gp_status	gpi_json_load(const char *body, size_t len, json_object **root,
						  size_t *value_start, size_t *value_end, gp_error *err);

/* ---------- gp_api_error.c: {"result":"error",...} ---------- */

/*
 * If root is an object whose "result" is the string "error", fill
 * err->reason, err->api_message and err->message, and return 1.
 */
int			gpi_api_error_from_json(json_object *root, gp_error *err);

/*
 * Common handling of a top-level value of the wrong type: GP_ERR_API for an
 * API error object, else GP_ERR_SHAPE "expected <what>, got <type>".
 */
gp_status	gpi_wrong_top_level(json_object *root, const char *what, gp_error *err);

/* "object", "array", "string", "null", ... */
const char *gpi_json_type_name(json_object *v);

/* ---------- gp_json_fields.c: typed reads of JSON values ---------- */

typedef enum gpi_field_status
{
	GPI_FIELD_OK = 0,
	GPI_FIELD_TYPE,				/* wrong JSON type or bad text */
	GPI_FIELD_RANGE,			/* an integer outside int64 */
	GPI_FIELD_NOMEM				/* arena exhausted */
} gpi_field_status;

/*
 * int64 from a JSON integer number or a JSON string of digits; floats,
 * booleans, null, objects and arrays are GPI_FIELD_TYPE.  json-c saturates
 * integer literals beyond its range, so the two saturation values
 * (INT64_MIN and UINT64_MAX) of a JSON number are reported as
 * GPI_FIELD_RANGE: they cannot be told apart from an overflow.
 */
gpi_field_status gpi_json_int64(json_object *v, int64_t *out);

/*
 * Exact decimal text of a JSON string (that passes gp_is_decimal) or of a
 * JSON number (its literal text), copied into the arena.
 */
gpi_field_status gpi_json_decimal(json_object *v, gpi_arena *a, const char **out);

/* A JSON string without embedded NUL: pointer into the json-c tree. */
int			gpi_json_string(json_object *v, const char **s, size_t *len);

/* ---------- gp_spans.c: where each array element sits in the body ---------- */

/*
 * Walks the elements of a JSON array that json-c has already accepted, to
 * hand out each element's exact bytes (for "raw") without re-serialising.
 */
typedef struct gpi_span_cursor
{
	const char *body;
	size_t		pos;			/* next byte to look at */
	size_t		end;			/* one past the array's closing ']' */
	int			done;			/* closing ']' reached or scan gave up */
} gpi_span_cursor;

/* Start at the array whose '[' is at body[start], ending before end. */
void		gpi_span_begin(gpi_span_cursor *c, const char *body, size_t start, size_t end);

/*
 * Next element: 1 and its [*el_start, *el_start + *el_len) bytes, or 0 when
 * there are no more (or the bytes do not look like what json-c accepted;
 * callers then fall back to json-c's serialisation).
 */
int			gpi_span_next(gpi_span_cursor *c, size_t *el_start, size_t *el_len);

/*
 * The element's JSON text for "raw": its exact bytes when the cursor could
 * find them, else json-c's compact serialisation of v.  Copied into the
 * arena; NULL when out of memory.
 */
const char *gpi_raw_text(gpi_span_cursor *c, json_object *v, gpi_arena *a);

/* ---------- gp_trade_element.c: one /v1/trades element ---------- */

/*
 * Fill t from one array element.  Never fails the page: problems are
 * written to t->bad_reason.  Returns 0 only when out of memory.
 */
int			gpi_trade_from_json(json_object *el, gpi_arena *a, gp_trade *t);

/* ---------- gw_common.c: pieces shared by the websocket parsers (gw_*.c) ---------- */

/*
 * Symbols in websocket frames and subscriptions: 1..GPI_WS_SYMBOL_MAX bytes
 * (gw_message.symbol is char[32]) of ASCII letters, digits, '-', '_', '.'.
 * Anything else (a space, '@', a quote...) is refused rather than copied,
 * so a symbol can never change the meaning of a stream name we build.
 */
#define GPI_WS_SYMBOL_MAX 31

/* 1 when s[0..len) is a symbol by the rule above. */
int			gpi_ws_symbol_ok(const char *s, size_t len);

/*
 * Start parsing one frame: zero *msg, clear err, load the JSON and require
 * a top-level object.  On GP_OK *root owns the tree.
 */
gp_status	gpi_ws_begin(const char *frame, size_t len, gw_message *msg,
						 json_object **root, gp_error *err);

/* Give msg its arena (msg->priv), sized for a frame of len bytes plus extra. */
gp_status	gpi_ws_arena(gw_message *msg, size_t len, size_t extra, gp_error *err);

/*
 * Failure exit: free msg's arena and the tree, zero *msg, return st (err
 * was filled by whoever failed).
 */
gp_status	gpi_ws_fail(gw_message *msg, json_object *root, gp_status st);

/* err = "out of memory ..."; returns GP_ERR_JSON like the REST parsers do. */
gp_status	gpi_ws_nomem(gp_error *err);

/*
 * If root is Gemini's {"result":"error","reason":R,"message":M}, make msg a
 * GW_ERROR with error "R" or "R: M" and return 1; else return 0.
 */
int			gpi_ws_api_error(json_object *root, gw_message *msg);

/* 1 when v is the JSON string lit (exactly, no embedded NUL). */
int			gpi_ws_is_string(json_object *v, const char *lit);

/*
 * Typed required members of obj.  what names the object in the message
 * ("trade", "trades[3]", ...): 'trade: missing field "price"'.  Integers
 * must be non-negative (they are ids and times); decimals are copied into
 * the arena.  GP_OK, GP_ERR_SHAPE, or GP_ERR_JSON when out of memory.
 */
gp_status	gpi_ws_get_int64(json_object *obj, const char *key, const char *what,
							 int64_t *out, gp_error *err);
gp_status	gpi_ws_get_decimal(json_object *obj, const char *key, const char *what,
							   gpi_arena *a, const char **out, gp_error *err);
gp_status	gpi_ws_get_array(json_object *obj, const char *key, const char *what,
							 json_object **arr, gp_error *err);

/* Required symbol member key, checked and upper-cased into dst[32]. */
gp_status	gpi_ws_get_symbol(json_object *obj, const char *key, char *dst, gp_error *err);

/* The same, best effort, for frames we ignore: dst stays "" when unusable. */
void		gpi_ws_try_symbol(json_object *obj, const char *key, char *dst);

/* "buy", "sell", "auction", "block" -> gp_side (via gp_side_name); 0 if none. */
int			gpi_ws_side(const char *s, size_t len, gp_side *out);
/* Copy an accepted symbol (gpi_ws_symbol_ok) into dst, upper-cased and NUL-terminated. */
void		gpi_ws_copy_upper(char *dst, const char *s, size_t len);

/* ---------- gw_v2_fast.c ---------- */

/*
 * A v2 trade or book-update frame of the usual shape, read in one pass:
 * 1 with msg filled exactly as gw_parse_v2's json-c path would, or 0 (msg
 * untouched) for that path to parse it.
 */
int			gpi_parse_v2_fast(const char *frame, size_t len, gw_message *msg);

/*
 * Price levels of the JSON array arr (member key, for messages) into
 * out[0..length of arr).  is_bid < 0: v2 elements [side, price, size] with
 * side "buy" or "sell"; is_bid 0/1: new API elements [price, size].
 */
gp_status	gpi_ws_levels(json_object *arr, const char *key, int is_bid,
						  gpi_arena *a, gw_level *out, gp_error *err);

/* ---------- gp_trades_fast.c: usual /v1/trades bodies without json-c ---------- */

/*
 * When body is a trades page of the usual shape (see the file's header),
 * fill out exactly as gp_parse_trades' json-c path would and return 1.
 * Otherwise return 0 with out untouched: the body needs json-c (an element
 * that is not a usable trade, an error object, escapes, floats, bad JSON,
 * out of memory...).
 */
int			gpi_parse_trades_fast(const char *body, size_t len, gp_trades_page *out);

/* ---------- gp_fast_json.h: reading a strict subset of JSON in one pass ---------- */
/* (static inline: they run per byte of every page and frame) */
#include "gp_fast_json.h"

#endif							/* GP_PARSE_INTERNAL_H */
