/*
 * gp_fast_json.h
 *	  The reading primitives of the one-pass readers that are tried before
 *	  json-c (gp_trades_fast.c for REST trade pages, gw_v2_fast.c for
 *	  websocket frames), included through parse_internal.h.
 *
 * They read a narrow subset of strict JSON and say "no" to anything else,
 * never guessing: the caller then declines and json-c parses the input and
 * gives it its precise messages.  None reads past the end.  They are
 * static inline so that they are inlined into the readers' loops, and
 * gpi_fast_key_is's strlen of a literal folds to a constant: as calls into
 * another file they made the pull's parsing three times slower.
 */
#ifndef GP_FAST_JSON_H
#define GP_FAST_JSON_H

#include <stdint.h>
#include <string.h>

typedef struct gpi_fast_reader
{
	const char *p;				/* next byte */
	const char *end;			/* one past the body */
} gpi_fast_reader;

/* Longest integer read here: 18 digits cannot overflow int64. */
#define FAST_MAX_DIGITS 18

static inline void
gpi_fast_skip_ws(gpi_fast_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Is the next byte c? */
static inline int
gpi_fast_at(const gpi_fast_reader *r, char c)
{
	return r->p < r->end && *r->p == c;
}

/*
 * A string of printable ASCII without escapes, the reader on its opening
 * quote.  Sets *s and *len to its contents and moves past the closing quote.
 */
static inline int
gpi_fast_string(gpi_fast_reader *r, const char **s, size_t *len)
{
	const char *q;

	if (!gpi_fast_at(r, '"'))
		return 0;
	q = r->p + 1;
	while (q < r->end && *q != '"')
	{
		unsigned char c = (unsigned char) *q;

		if (c < 0x20 || c > 0x7e || c == '\\')
			return 0;
		q++;
	}
	if (q >= r->end)
		return 0;
	*s = r->p + 1;
	*len = (size_t) (q - (r->p + 1));
	r->p = q + 1;
	return 1;
}

/*
 * A JSON number that is a non-negative integer of at most FAST_MAX_DIGITS
 * digits, followed by something that cannot continue a number.
 */
static inline int
gpi_fast_uint(gpi_fast_reader *r, int64_t *out)
{
	const char *q = r->p;
	int64_t		v = 0;
	int			digits = 0;

	while (q < r->end && *q >= '0' && *q <= '9')
	{
		if (++digits > FAST_MAX_DIGITS)
			return 0;
		v = v * 10 + (*q - '0');
		q++;
	}
	if (digits == 0 || (digits > 1 && *r->p == '0'))
		return 0;
	/* a fraction or exponent makes it a double (and json-c's business) */
	if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return 0;
	*out = v;
	r->p = q;
	return 1;
}

/* The literal word at the reader, e.g. "true". */
static inline int
gpi_fast_word(gpi_fast_reader *r, const char *word, size_t len)
{
	if ((size_t) (r->end - r->p) < len || memcmp(r->p, word, len) != 0)
		return 0;
	r->p += len;
	return 1;
}

/*
 * tid or timestampms: a number, or a string that gpi_parse_int64 reads
 * (what gpi_json_int64 accepts); negative values are refused there, so
 * here they decline.
 */
static inline int
gpi_fast_id(gpi_fast_reader *r, int64_t *out)
{
	const char *s;
	size_t		len;

	if (gpi_fast_at(r, '"'))
	{
		if (!gpi_fast_string(r, &s, &len))
			return 0;
		return gpi_parse_int64(s, len, out) == GPI_INT_OK && *out >= 0;
	}
	return gpi_fast_uint(r, out);
}

/* price or amount: a decimal string (gpi_json_decimal's rule), into the arena. */
static inline int
gpi_fast_decimal(gpi_fast_reader *r, gpi_arena *a, const char **out)
{
	const char *s;
	size_t		len;

	if (!gpi_fast_string(r, &s, &len) || !gpi_is_decimal_n(s, len))
		return 0;
	*out = gpi_arena_strndup(a, s, len);
	return *out != NULL;
}

/* A member that is ignored: any scalar of the subset. */
static inline int
gpi_fast_skip_scalar(gpi_fast_reader *r)
{
	const char *s;
	size_t		len;
	int64_t		v;

	if (gpi_fast_at(r, '"'))
		return gpi_fast_string(r, &s, &len);
	if (gpi_fast_at(r, 't'))
		return gpi_fast_word(r, "true", 4);
	if (gpi_fast_at(r, 'f'))
		return gpi_fast_word(r, "false", 5);
	if (gpi_fast_at(r, 'n'))
		return gpi_fast_word(r, "null", 4);
	return gpi_fast_uint(r, &v);
}

static inline int
gpi_fast_key_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

/*
 * A member's key and its ':', the reader on the key's quote; the reader is
 * then on the value.
 */
static inline int
gpi_fast_key(gpi_fast_reader *r, const char **key, size_t *klen)
{
	if (!gpi_fast_string(r, key, klen))
		return 0;
	gpi_fast_skip_ws(r);
	if (!gpi_fast_at(r, ':'))
		return 0;
	r->p++;
	gpi_fast_skip_ws(r);
	return 1;
}

/*
 * After a member or an element: 1 when a ',' says another follows (the
 * reader on it), 0 when `close` ends the object or array (the reader past
 * it), -1 when neither comes.
 */
static inline int
gpi_fast_next(gpi_fast_reader *r, char close)
{
	gpi_fast_skip_ws(r);
	if (gpi_fast_at(r, ','))
	{
		r->p++;
		gpi_fast_skip_ws(r);
		return 1;
	}
	if (gpi_fast_at(r, close))
	{
		r->p++;
		return 0;
	}
	return -1;
}

#endif
