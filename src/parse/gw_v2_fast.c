/*
 * gw_v2_fast.c
 *	  A one-pass reader for the two Market Data v2 frames a busy stream is
 *	  made of, tried before json-c: {"type":"trade",...} and an l2_updates
 *	  frame that is not a snapshot.
 *
 * json-c builds a tree of every frame: an object, a hash table, key copies
 * and a malloc per value, and since json-c 0.15 it also makes and frees a
 * C locale on every parse call.  At 100,000 frames a second that was a
 * fifth of the stream worker's time, to read back five fields.
 *
 * As gp_trades_fast.c does for REST pages, it either returns exactly what
 * gw_v2.c's json-c path returns for the frame, or it declines and that
 * path runs.  It declines on anything outside this subset:
 *  - the frame is one object, whitespace is space, tab, CR, LF; strings
 *    are printable ASCII without escapes, numbers non-negative integers of
 *    at most 18 digits, other scalars true, false or null (gp_fast_json.c);
 *  - members it does not use are scalars of that subset (no nested value);
 *  - no member it uses appears twice, and there is no "result" member (an
 *    API error, whose precedence gw_v2.c decides);
 *  - "type" is "trade": symbol, price, quantity, side, timestamp and one id
 *    ("tid", else "event_id", else "eventid", as gw_v2.c chooses) are
 *    present and valid;
 *  - "type" is "l2_updates" without "trades" or "auction_events" (those are
 *    snapshots): symbol, and "changes", an array of [side, price, quantity]
 *    with side "buy" or "sell" and decimal strings.
 * Heartbeats, snapshots, candles, errors and anything unusual go to json-c.
 *
 * In fuzzing builds every frame read here is parsed by json-c too and the
 * results are compared (gw_v2.c), so the fuzzer checks the claim above.
 */
#include <limits.h>
#include <string.h>

#include "parse_internal.h"

/* Members of the frame, as bits. */
#define M_TYPE		0x001
#define M_SYMBOL	0x002
#define M_TID		0x004
#define M_EVENT_ID	0x008
#define M_EVENTID	0x010
#define M_TIMESTAMP	0x020
#define M_PRICE		0x040
#define M_QUANTITY	0x080
#define M_SIDE		0x100
#define M_CHANGES	0x200

/* What a frame's members said, before its type decides what they mean. */
typedef struct v2_fields
{
	unsigned	seen;
	const char *type;
	size_t		type_len;
	const char *symbol;
	size_t		symbol_len;
	int64_t		ids[3];			/* tid, event_id, eventid */
	int64_t		timestamp;
	const char *price;
	const char *quantity;
	gp_side		side;
	const char *changes;		/* the '[' of "changes" */
	size_t		n_changes;
} v2_fields;

/* Does the text equal lit? */
static int
text_is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* The byte c, with the whitespace around it. */
static int
expect(gpi_fast_reader *r, char c)
{
	gpi_fast_skip_ws(r);
	if (!gpi_fast_at(r, c))
		return 0;
	r->p++;
	gpi_fast_skip_ws(r);
	return 1;
}

/* A level's decimal string: into *out (the arena), or only checked when out is NULL. */
static int
level_decimal(gpi_fast_reader *r, gpi_arena *a, const char **out)
{
	const char *s;
	size_t		len;

	if (out != NULL)
		return gpi_fast_decimal(r, a, out);
	return gpi_fast_string(r, &s, &len) && gpi_is_decimal_n(s, len);
}

/*
 * The "changes" array, the reader on its '['; *n: its levels.  Called twice:
 * with out NULL to check the shape and count the levels (the array is
 * sized from the count), then to read them into out.
 */
static int
scan_levels(gpi_fast_reader *r, gpi_arena *a, gw_level *out, size_t *n)
{
	size_t		k = 0;

	r->p++;						/* '[' */
	gpi_fast_skip_ws(r);
	if (gpi_fast_at(r, ']'))
	{
		r->p++;
		*n = 0;
		return 1;
	}
	for (;;)
	{
		const char *side;
		size_t		side_len;
		int			is_bid;
		int			more;

		if (!expect(r, '[') || !gpi_fast_string(r, &side, &side_len))
			return 0;
		if (text_is(side, side_len, "buy"))
			is_bid = 1;
		else if (text_is(side, side_len, "sell"))
			is_bid = 0;
		else
			return 0;
		if (out != NULL)
			out[k].is_bid = is_bid;
		if (!expect(r, ',') || !level_decimal(r, a, out ? &out[k].price : NULL) ||
			!expect(r, ',') || !level_decimal(r, a, out ? &out[k].size : NULL))
			return 0;
		gpi_fast_skip_ws(r);
		if (!gpi_fast_at(r, ']'))
			return 0;
		r->p++;
		k++;
		if ((more = gpi_fast_next(r, ']')) < 0)
			return 0;
		if (more == 0)
		{
			*n = k;
			return 1;
		}
	}
}

/* One member's value, the reader on it; records it in f. */
static int
read_member(gpi_fast_reader *r, const char *key, size_t klen, v2_fields *f, gpi_arena *a)
{
	unsigned	bit;
	int			ok;
	const char *s;
	size_t		len;

	if (gpi_fast_key_is(key, klen, "type"))
	{
		bit = M_TYPE;
		ok = gpi_fast_string(r, &f->type, &f->type_len);
	}
	else if (gpi_fast_key_is(key, klen, "symbol"))
	{
		bit = M_SYMBOL;
		ok = gpi_fast_string(r, &f->symbol, &f->symbol_len);
	}
	else if (gpi_fast_key_is(key, klen, "tid"))
	{
		bit = M_TID;
		ok = gpi_fast_id(r, &f->ids[0]);
	}
	else if (gpi_fast_key_is(key, klen, "event_id"))
	{
		bit = M_EVENT_ID;
		ok = gpi_fast_id(r, &f->ids[1]);
	}
	else if (gpi_fast_key_is(key, klen, "eventid"))
	{
		bit = M_EVENTID;
		ok = gpi_fast_id(r, &f->ids[2]);
	}
	else if (gpi_fast_key_is(key, klen, "timestamp"))
	{
		bit = M_TIMESTAMP;
		ok = gpi_fast_id(r, &f->timestamp);
	}
	else if (gpi_fast_key_is(key, klen, "price"))
	{
		bit = M_PRICE;
		ok = gpi_fast_decimal(r, a, &f->price);
	}
	else if (gpi_fast_key_is(key, klen, "quantity"))
	{
		bit = M_QUANTITY;
		ok = gpi_fast_decimal(r, a, &f->quantity);
	}
	else if (gpi_fast_key_is(key, klen, "side"))
	{
		bit = M_SIDE;
		ok = gpi_fast_string(r, &s, &len) && gpi_ws_side(s, len, &f->side);
	}
	else if (gpi_fast_key_is(key, klen, "changes"))
	{
		bit = M_CHANGES;
		f->changes = r->p;
		ok = gpi_fast_at(r, '[') && scan_levels(r, NULL, NULL, &f->n_changes);
	}
	else if (gpi_fast_key_is(key, klen, "result") || gpi_fast_key_is(key, klen, "trades") ||
			 gpi_fast_key_is(key, klen, "auction_events"))
		return 0;				/* an API error or a snapshot: json-c's */
	else
	{
		bit = 0;
		ok = gpi_fast_skip_scalar(r);
	}
	if (!ok || (f->seen & bit) != 0)
		return 0;
	f->seen |= bit;
	return 1;
}

/* The frame's members into f, the reader at its start; 0 to decline. */
static int
read_frame(gpi_fast_reader *r, v2_fields *f, gpi_arena *a)
{
	gpi_fast_skip_ws(r);
	if (!gpi_fast_at(r, '{'))
		return 0;
	r->p++;
	gpi_fast_skip_ws(r);
	if (gpi_fast_at(r, '}'))
		return 0;
	for (;;)
	{
		const char *key;
		size_t		klen;
		int			more;

		if (!gpi_fast_key(r, &key, &klen) || !read_member(r, key, klen, f, a))
			return 0;
		if ((more = gpi_fast_next(r, '}')) < 0)
			return 0;
		if (more == 0)
			break;
	}
	gpi_fast_skip_ws(r);
	return r->p == r->end;
}

int
gpi_parse_v2_fast(const char *frame, size_t len, gw_message *msg)
{
	gpi_fast_reader r;
	v2_fields	f;
	gpi_arena  *a;
	int			is_trade;

	if (frame == NULL || len == 0 || len > (size_t) INT_MAX - 1)
		return 0;
	memset(&f, 0, sizeof(f));
	/* as gpi_ws_arena sizes it for the json-c path */
	a = gpi_arena_new(3 * len + 64);
	if (a == NULL)
		return 0;
	r.p = frame;
	r.end = frame + len;
	if (!read_frame(&r, &f, a) || !(f.seen & M_TYPE) || !(f.seen & M_SYMBOL) ||
		!gpi_ws_symbol_ok(f.symbol, f.symbol_len))
		goto decline;

	is_trade = text_is(f.type, f.type_len, "trade");
	if (is_trade)
	{
		const unsigned need = M_TIMESTAMP | M_PRICE | M_QUANTITY | M_SIDE;
		gw_trade   *t;

		if ((f.seen & need) != need || !(f.seen & (M_TID | M_EVENT_ID | M_EVENTID)))
			goto decline;
		memset(msg, 0, sizeof(*msg));
		t = gpi_arena_alloc(a, sizeof(gw_trade));
		if (t == NULL)
			goto decline;
		t->tid = (f.seen & M_TID) ? f.ids[0] : (f.seen & M_EVENT_ID) ? f.ids[1] : f.ids[2];
		t->timestampms = f.timestamp;
		t->price = f.price;
		t->amount = f.quantity;
		t->side = f.side;
		msg->kind = GW_TRADE;
		msg->trades = t;
		msg->n_trades = 1;
	}
	else if (text_is(f.type, f.type_len, "l2_updates"))
	{
		gw_level   *levels = NULL;
		size_t		n;

		if (!(f.seen & M_CHANGES))
			goto decline;
		if (f.n_changes > 0)
		{
			levels = gpi_arena_alloc(a, f.n_changes * sizeof(gw_level));
			if (levels == NULL)
				goto decline;
			r.p = f.changes;
			if (!scan_levels(&r, a, levels, &n) || n != f.n_changes)
				goto decline;
		}
		memset(msg, 0, sizeof(*msg));
		msg->kind = GW_BOOK_UPDATE;
		msg->levels = levels;
		msg->n_levels = f.n_changes;
	}
	else
		goto decline;
	gpi_ws_copy_upper(msg->symbol, f.symbol, f.symbol_len);
	msg->priv = a;
	return 1;

decline:
	gpi_arena_free(a);
	return 0;
}
