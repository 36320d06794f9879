/*
 * gp_trades_fast.c
 *	  A one-pass reader for /v1/trades bodies of the usual shape, tried
 *	  before json-c.
 *
 * json-c builds a tree of the whole body, with a malloc'd object, hash table
 * and key copy per trade and a malloc per value (thousands per page), only
 * for gp_trade_element.c to read five fields back out of it.  That was about
 * a third of a pull's CPU time.  Almost every page Gemini sends is a plain
 * array of flat objects, so this file reads such a page directly into the
 * result's arena, in one pass and without any other allocation.
 *
 * It is deliberately narrow, and it never decides anything on its own: it
 * either returns exactly what the json-c path (gp_trades.c) would return
 * for the body, or it declines and the json-c path runs.  It declines on
 * anything outside this subset of strict JSON:
 *  - whitespace is space, tab, CR, LF; the body is one array of objects;
 *  - strings are printable ASCII without escapes (so the bytes are the value
 *    and UTF-8 need not be checked);
 *  - numbers are non-negative integers of at most 18 digits (no sign,
 *    fraction or exponent, no leading zero), so they fit int64 exactly;
 *  - other values are true, false or null;
 *  - every object is a usable trade: tid, timestampms, price, amount and
 *    type present once each, with the types and values gp_trade_element.c
 *    accepts (ids as numbers or digit strings, decimal strings, a known
 *    type, broken a boolean if present); other members are ignored, as
 *    there, but must be scalars of the subset above.
 * So every element it accepts is a trade without bad_reason, and its raw
 * text is the object's exact bytes, as gp_spans.c would cut them.  Bodies
 * with bad elements, API errors, escapes, floats or anything unusual go to
 * json-c, which gives them their precise messages.
 *
 * In fuzzing builds every page read here is parsed by json-c too and the two
 * results are compared (gp_trades.c), so the fuzzer checks the claim above.
 */
#include <limits.h>
#include <string.h>

#include "parse_internal.h"

typedef struct fast_reader
{
	const char *p;				/* next byte */
	const char *end;			/* one past the body */
} fast_reader;

/* Members a usable trade must have, as bits. */
#define F_TID		0x01
#define F_TSMS		0x02
#define F_PRICE		0x04
#define F_AMOUNT	0x08
#define F_TYPE		0x10
#define F_BROKEN	0x20
#define F_REQUIRED	(F_TID | F_TSMS | F_PRICE | F_AMOUNT | F_TYPE)

/* Longest integer read here: 18 digits cannot overflow int64. */
#define FAST_MAX_DIGITS 18

static void
skip_ws(fast_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Is the next byte c?  (Never reads past the end.) */
static int
at(const fast_reader *r, char c)
{
	return r->p < r->end && *r->p == c;
}

/*
 * A string of printable ASCII without escapes, the reader on its opening
 * quote.  Sets *s and *len to its contents and moves past the closing quote.
 */
static int
read_plain_string(fast_reader *r, const char **s, size_t *len)
{
	const char *q;

	if (!at(r, '"'))
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
static int
read_small_uint(fast_reader *r, int64_t *out)
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
static int
read_word(fast_reader *r, const char *word, size_t len)
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
static int
read_id(fast_reader *r, int64_t *out)
{
	const char *s;
	size_t		len;

	if (at(r, '"'))
	{
		if (!read_plain_string(r, &s, &len))
			return 0;
		return gpi_parse_int64(s, len, out) == GPI_INT_OK && *out >= 0;
	}
	return read_small_uint(r, out);
}

/* price or amount: a decimal string (gpi_json_decimal's rule), into the arena. */
static int
read_decimal_string(fast_reader *r, gpi_arena *a, const char **out)
{
	const char *s;
	size_t		len;

	if (!read_plain_string(r, &s, &len) || !gpi_is_decimal_n(s, len))
		return 0;
	*out = gpi_arena_strndup(a, s, len);
	return *out != NULL;
}

static int
read_side(fast_reader *r, gp_side *side)
{
	static const char *const names[] = {"buy", "sell", "auction", "block"};
	const char *s;
	size_t		len;
	size_t		i;

	if (!read_plain_string(r, &s, &len))
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		if (len == strlen(names[i]) && memcmp(s, names[i], len) == 0)
		{
			*side = (gp_side) i;
			return 1;
		}
	}
	return 0;
}

/* A member that is ignored: any scalar of the subset. */
static int
skip_scalar(fast_reader *r)
{
	const char *s;
	size_t		len;
	int64_t		v;

	if (at(r, '"'))
		return read_plain_string(r, &s, &len);
	if (at(r, 't'))
		return read_word(r, "true", 4);
	if (at(r, 'f'))
		return read_word(r, "false", 5);
	if (at(r, 'n'))
		return read_word(r, "null", 4);
	return read_small_uint(r, &v);
}

static int
key_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

/* One object, the reader on its '{'; fills t (raw aside) or declines. */
static int
read_trade(fast_reader *r, gpi_arena *a, gp_trade *t)
{
	unsigned	seen = 0;

	t->tid = 0;
	t->timestampms = 0;
	t->price = NULL;
	t->amount = NULL;
	t->side = GP_SIDE_BUY;
	t->broken = -1;
	t->bad_reason = NULL;
	t->has_tid = 0;
	t->raw = NULL;

	r->p++;						/* '{' */
	skip_ws(r);
	for (;;)
	{
		const char *key;
		size_t		klen;
		unsigned	bit;
		int			ok;

		if (!read_plain_string(r, &key, &klen))
			return 0;
		skip_ws(r);
		if (!at(r, ':'))
			return 0;
		r->p++;
		skip_ws(r);

		if (key_is(key, klen, "tid"))
		{
			bit = F_TID;
			ok = read_id(r, &t->tid);
		}
		else if (key_is(key, klen, "timestampms"))
		{
			bit = F_TSMS;
			ok = read_id(r, &t->timestampms);
		}
		else if (key_is(key, klen, "price"))
		{
			bit = F_PRICE;
			ok = read_decimal_string(r, a, &t->price);
		}
		else if (key_is(key, klen, "amount"))
		{
			bit = F_AMOUNT;
			ok = read_decimal_string(r, a, &t->amount);
		}
		else if (key_is(key, klen, "type"))
		{
			bit = F_TYPE;
			ok = read_side(r, &t->side);
		}
		else if (key_is(key, klen, "broken"))
		{
			bit = F_BROKEN;
			ok = 1;
			if (at(r, 't'))
			{
				ok = read_word(r, "true", 4);
				t->broken = 1;
			}
			else
			{
				ok = read_word(r, "false", 5);
				t->broken = 0;
			}
		}
		else
		{
			bit = 0;
			ok = skip_scalar(r);
		}
		/* a repeated member: json-c's rule for it is not restated here */
		if (!ok || (seen & bit) != 0)
			return 0;
		seen |= bit;

		skip_ws(r);
		if (at(r, ','))
		{
			r->p++;
			skip_ws(r);
			continue;
		}
		if (at(r, '}'))
		{
			r->p++;
			break;
		}
		return 0;
	}
	if ((seen & F_REQUIRED) != F_REQUIRED)
		return 0;
	t->has_tid = 1;
	return 1;
}

/* Upper bound of the number of objects in the body: its '{' bytes. */
static size_t
count_braces(const char *s, const char *end)
{
	size_t		n = 0;

	while (s < end && (s = memchr(s, '{', (size_t) (end - s))) != NULL)
	{
		n++;
		s++;
	}
	return n;
}

int
gpi_parse_trades_fast(const char *body, size_t len, gp_trades_page *out)
{
	fast_reader r;
	size_t		cap;
	size_t		n = 0;
	gp_trade   *trades = NULL;
	gpi_arena  *arena;

	if (body == NULL || len == 0 || len > (size_t) INT_MAX - 1)
		return 0;
	r.p = body;
	r.end = body + len;
	skip_ws(&r);
	if (!at(&r, '['))
		return 0;
	r.p++;

	/* Sized as gp_trades.c sizes it; the arena chains a block if short. */
	cap = count_braces(r.p, r.end);
	arena = gpi_arena_new(len + cap * (sizeof(gp_trade) + 48) + 256);
	if (arena == NULL)
		return 0;
	if (cap > 0)
	{
		trades = gpi_arena_alloc(arena, cap * sizeof(gp_trade));
		if (trades == NULL)
			goto decline;
	}

	skip_ws(&r);
	if (at(&r, ']'))
		r.p++;
	else
	{
		for (;;)
		{
			const char *start = r.p;
			gp_trade   *t;

			if (!at(&r, '{') || n >= cap)
				goto decline;
			t = &trades[n];
			if (!read_trade(&r, arena, t))
				goto decline;
			t->raw = gpi_arena_strndup(arena, start, (size_t) (r.p - start));
			if (t->raw == NULL)
				goto decline;
			n++;
			skip_ws(&r);
			if (at(&r, ','))
			{
				r.p++;
				skip_ws(&r);
				continue;
			}
			if (at(&r, ']'))
			{
				r.p++;
				break;
			}
			goto decline;
		}
	}
	skip_ws(&r);
	if (r.p != r.end)
		goto decline;

	out->n = n;
	out->trades = n > 0 ? trades : NULL;
	out->n_bad = 0;
	out->priv = arena;
	return 1;

decline:
	gpi_arena_free(arena);
	return 0;
}
