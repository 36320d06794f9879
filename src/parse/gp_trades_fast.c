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

/* Members a usable trade must have, as bits. */
#define F_TID		0x01
#define F_TSMS		0x02
#define F_PRICE		0x04
#define F_AMOUNT	0x08
#define F_TYPE		0x10
#define F_BROKEN	0x20
#define F_REQUIRED	(F_TID | F_TSMS | F_PRICE | F_AMOUNT | F_TYPE)

static int
read_side(gpi_fast_reader *r, gp_side *side)
{
	static const char *const names[] = {"buy", "sell", "auction", "block"};
	const char *s;
	size_t		len;
	size_t		i;

	if (!gpi_fast_string(r, &s, &len))
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

/* One object, the reader on its '{'; fills t (raw aside) or declines. */
static int
read_trade(gpi_fast_reader *r, gpi_arena *a, gp_trade *t)
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
	gpi_fast_skip_ws(r);
	for (;;)
	{
		const char *key;
		size_t		klen;
		unsigned	bit;
		int			ok;
		int			more;

		if (!gpi_fast_key(r, &key, &klen))
			return 0;
		if (gpi_fast_key_is(key, klen, "tid"))
		{
			bit = F_TID;
			ok = gpi_fast_id(r, &t->tid);
		}
		else if (gpi_fast_key_is(key, klen, "timestampms"))
		{
			bit = F_TSMS;
			ok = gpi_fast_id(r, &t->timestampms);
		}
		else if (gpi_fast_key_is(key, klen, "price"))
		{
			bit = F_PRICE;
			ok = gpi_fast_decimal(r, a, &t->price);
		}
		else if (gpi_fast_key_is(key, klen, "amount"))
		{
			bit = F_AMOUNT;
			ok = gpi_fast_decimal(r, a, &t->amount);
		}
		else if (gpi_fast_key_is(key, klen, "type"))
		{
			bit = F_TYPE;
			ok = read_side(r, &t->side);
		}
		else if (gpi_fast_key_is(key, klen, "broken"))
		{
			bit = F_BROKEN;
			ok = 1;
			if (gpi_fast_at(r, 't'))
			{
				ok = gpi_fast_word(r, "true", 4);
				t->broken = 1;
			}
			else
			{
				ok = gpi_fast_word(r, "false", 5);
				t->broken = 0;
			}
		}
		else
		{
			bit = 0;
			ok = gpi_fast_skip_scalar(r);
		}
		/* a repeated member: json-c's rule for it is not restated here */
		if (!ok || (seen & bit) != 0)
			return 0;
		seen |= bit;

		if ((more = gpi_fast_next(r, '}')) < 0)
			return 0;
		if (more == 0)
			break;
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
	gpi_fast_reader r;
	size_t		cap;
	size_t		n = 0;
	gp_trade   *trades = NULL;
	gpi_arena  *arena;

	if (body == NULL || len == 0 || len > (size_t) INT_MAX - 1)
		return 0;
	r.p = body;
	r.end = body + len;
	gpi_fast_skip_ws(&r);
	if (!gpi_fast_at(&r, '['))
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

	gpi_fast_skip_ws(&r);
	if (gpi_fast_at(&r, ']'))
		r.p++;
	else
	{
		for (;;)
		{
			const char *start = r.p;
			gp_trade   *t;
			int			more;

			if (!gpi_fast_at(&r, '{') || n >= cap)
				goto decline;
			t = &trades[n];
			if (!read_trade(&r, arena, t))
				goto decline;
			t->raw = gpi_arena_strndup(arena, start, (size_t) (r.p - start));
			if (t->raw == NULL)
				goto decline;
			n++;
			more = gpi_fast_next(&r, ']');
			if (more < 0)
				goto decline;
			if (more == 0)
				break;
		}
	}
	gpi_fast_skip_ws(&r);
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
