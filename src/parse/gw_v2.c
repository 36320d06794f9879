/*
 * gw_v2.c
 *	  One Market Data v2 frame (wss://api.gemini.com/v2/marketdata) ->
 *	  gw_message.  See docs gemini-api.md section 3.1.
 *
 * Dispatch is on "type":
 *	 heartbeat				 GW_HEARTBEAT ("timestamp", when present, must be
 *							 an integer; it is not returned)
 *	 l2_updates				 GW_BOOK_SNAPSHOT when the frame has a "trades" or an
 *							 "auction_events" key (even an empty array: the only
 *							 snapshot marker v2 has), else GW_BOOK_UPDATE
 *	 trade					 GW_TRADE
 *	 candles_<tf>_updates	 GW_CANDLES
 *	 anything else			 GW_IGNORED: auction_open/indicative/result,
 *							 mark_price_updates, funding_amount_updates, and the
 *							 client's own {"type":"subscribe",...} that recorded
 *							 sessions start with
 * and {"result":"error","reason":...} is GW_ERROR, with or without "type".
 *
 * A snapshot's auction_events must be an array; their content is not used
 * and not checked.  Every trade of a snapshot must be valid: one bad trade
 * fails the frame (the caller dead-letters it and the book is rebuilt from
 * the next snapshot).
 *
 * Trade ids: "tid" (newer docs; the REST trade id) when the key is present,
 * else "event_id" (all 2021 traffic), else "eventid" (how the docs' snapshot
 * example spells it).  A present but invalid "tid" is an error, never a
 * silent fall back to event_id: the two are different id spaces since 2023.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

#define CANDLES_PREFIX "candles_"
#define CANDLES_SUFFIX "_updates"

/* One v2 trade object (a "trade" frame, or an element of a snapshot's "trades"). */
static gp_status
v2_trade(json_object *obj, const char *what, gpi_arena *a, gw_trade *t, gp_error *err)
{
	json_object *v;
	const char *idkey;
	const char *s;
	size_t		len;
	gp_status	st;

	if (!json_object_is_type(obj, json_type_object))
	{
		gpi_error_set(err, "%s is not an object", what);
		return GP_ERR_SHAPE;
	}
	if (json_object_object_get_ex(obj, "tid", NULL))
		idkey = "tid";
	else if (json_object_object_get_ex(obj, "event_id", NULL))
		idkey = "event_id";
	else if (json_object_object_get_ex(obj, "eventid", NULL))
		idkey = "eventid";
	else
	{
		gpi_error_set(err, "%s: missing field \"tid\" or \"event_id\"", what);
		return GP_ERR_SHAPE;
	}
	if ((st = gpi_ws_get_int64(obj, idkey, what, &t->tid, err)) != GP_OK ||
		(st = gpi_ws_get_int64(obj, "timestamp", what, &t->timestampms, err)) != GP_OK ||
		(st = gpi_ws_get_decimal(obj, "price", what, a, &t->price, err)) != GP_OK ||
		(st = gpi_ws_get_decimal(obj, "quantity", what, a, &t->amount, err)) != GP_OK)
		return st;

	if (!json_object_object_get_ex(obj, "side", &v))
	{
		gpi_error_set(err, "%s: missing field \"side\"", what);
		return GP_ERR_SHAPE;
	}
	if (!gpi_json_string(v, &s, &len) || !gpi_ws_side(s, len, &t->side))
	{
		gpi_error_set(err, "%s: field \"side\" is not \"buy\", \"sell\", \"block\" or \"auction\"",
					  what);
		return GP_ERR_SHAPE;
	}
	return GP_OK;
}

static gp_status
v2_heartbeat(json_object *root, gw_message *msg, gp_error *err)
{
	int64_t		ts;

	msg->kind = GW_HEARTBEAT;
	if (json_object_object_get_ex(root, "timestamp", NULL))
		return gpi_ws_get_int64(root, "timestamp", "heartbeat", &ts, err);
	return GP_OK;
}

static gp_status
v2_book(json_object *root, size_t len, gw_message *msg, gp_error *err)
{
	json_object *changes;
	json_object *trades = NULL;
	int			has_trades;
	int			has_auctions;
	size_t		n_levels;
	size_t		n_trades = 0;
	size_t		i;
	gpi_arena  *a;
	gp_status	st;

	if ((st = gpi_ws_get_symbol(root, "symbol", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_get_array(root, "changes", "l2_updates", &changes, err)) != GP_OK)
		return st;
	has_trades = json_object_object_get_ex(root, "trades", NULL);
	has_auctions = json_object_object_get_ex(root, "auction_events", NULL);
	if (has_trades &&
		(st = gpi_ws_get_array(root, "trades", "l2_updates", &trades, err)) != GP_OK)
		return st;
	if (has_auctions)
	{
		json_object *auctions;

		if ((st = gpi_ws_get_array(root, "auction_events", "l2_updates", &auctions, err)) != GP_OK)
			return st;
	}
	msg->kind = (has_trades || has_auctions) ? GW_BOOK_SNAPSHOT : GW_BOOK_UPDATE;

	n_levels = json_object_array_length(changes);
	if (trades != NULL)
		n_trades = json_object_array_length(trades);
	/* n_levels + n_trades < len < INT_MAX: no overflow */
	if ((st = gpi_ws_arena(msg, len, n_levels * sizeof(gw_level) +
						   n_trades * sizeof(gw_trade), err)) != GP_OK)
		return st;
	a = (gpi_arena *) msg->priv;

	if (n_levels > 0)
	{
		msg->levels = gpi_arena_alloc(a, n_levels * sizeof(gw_level));
		if (msg->levels == NULL)
			return gpi_ws_nomem(err);
		if ((st = gpi_ws_levels(changes, "changes", -1, a, msg->levels, err)) != GP_OK)
			return st;
		msg->n_levels = n_levels;
	}
	if (n_trades > 0)
	{
		msg->trades = gpi_arena_alloc(a, n_trades * sizeof(gw_trade));
		if (msg->trades == NULL)
			return gpi_ws_nomem(err);
		for (i = 0; i < n_trades; i++)
		{
			json_object *el = json_object_array_get_idx(trades, i);
			json_object *type;
			char		what[40];

			snprintf(what, sizeof(what), "trades[%zu]", i);
			if (json_object_is_type(el, json_type_object) &&
				json_object_object_get_ex(el, "type", &type) &&
				!gpi_ws_is_string(type, "trade"))
			{
				gpi_error_set(err, "%s: field \"type\" is not \"trade\"", what);
				return GP_ERR_SHAPE;
			}
			if ((st = v2_trade(el, what, a, &msg->trades[i], err)) != GP_OK)
				return st;
		}
		msg->n_trades = n_trades;
	}
	return GP_OK;
}

static gp_status
v2_trade_frame(json_object *root, size_t len, gw_message *msg, gp_error *err)
{
	gp_status	st;
	gpi_arena  *a;

	msg->kind = GW_TRADE;
	if ((st = gpi_ws_get_symbol(root, "symbol", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_arena(msg, len, sizeof(gw_trade), err)) != GP_OK)
		return st;
	a = (gpi_arena *) msg->priv;
	msg->trades = gpi_arena_alloc(a, sizeof(gw_trade));
	if (msg->trades == NULL)
		return gpi_ws_nomem(err);
	if ((st = v2_trade(root, "trade", a, msg->trades, err)) != GP_OK)
		return st;
	msg->n_trades = 1;
	return GP_OK;
}

/* Copy a string into the arena; 0 when out of memory. */
static int
dup_into(gpi_arena *a, const char *s, const char **out)
{
	*out = gpi_arena_strndup(a, s, strlen(s));
	return *out != NULL;
}

/*
 * candles_<tf>_updates.  "changes" has exactly the shape of a /v2/candles
 * body, so it goes through gp_parse_candles (same checks, same messages,
 * literal number text kept).  json-c re-serialises a parsed number with its
 * literal text, so handing over the serialised subtree loses nothing; the
 * extra parse only costs on candle frames (one per symbol and minute).
 */
static gp_status
v2_candles(json_object *root, const char *tf, size_t tflen, gw_message *msg, gp_error *err)
{
	json_object *changes;
	const char *text;
	gp_candles	c;
	gp_error	cerr;
	gp_status	st;
	gpi_arena  *a;
	size_t		i;

	msg->kind = GW_CANDLES;
	if (tflen == 0 || tflen >= sizeof(msg->timeframe) || !gpi_ws_symbol_ok(tf, tflen))
	{
		char		shown[40];

		gpi_copy_sanitized(shown, sizeof(shown), tf, tflen);
		gpi_error_set(err, "candles: bad time frame \"%s\"", shown);
		return GP_ERR_SHAPE;
	}
	memcpy(msg->timeframe, tf, tflen);
	msg->timeframe[tflen] = '\0';

	if ((st = gpi_ws_get_symbol(root, "symbol", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_get_array(root, "changes", "candles", &changes, err)) != GP_OK)
		return st;
	text = json_object_to_json_string_ext(changes, JSON_C_TO_STRING_PLAIN);
	if (text == NULL)
		return gpi_ws_nomem(err);
	st = gp_parse_candles(text, strlen(text), &c, &cerr);
	if (st != GP_OK)
	{
		gpi_error_set(err, "candles: %s", cerr.message);
		return st == GP_ERR_JSON ? GP_ERR_JSON : GP_ERR_SHAPE;
	}

	st = gpi_ws_arena(msg, strlen(text), c.n * sizeof(gp_candle), err);
	if (st == GP_OK && c.n > 0)
	{
		a = (gpi_arena *) msg->priv;
		msg->candles = gpi_arena_alloc(a, c.n * sizeof(gp_candle));
		if (msg->candles == NULL)
			st = gpi_ws_nomem(err);
		for (i = 0; st == GP_OK && i < c.n; i++)
		{
			const gp_candle *from = &c.candles[i];
			gp_candle  *to = &msg->candles[i];

			to->time_ms = from->time_ms;
			if (!dup_into(a, from->open, &to->open) ||
				!dup_into(a, from->high, &to->high) ||
				!dup_into(a, from->low, &to->low) ||
				!dup_into(a, from->close, &to->close) ||
				!dup_into(a, from->volume, &to->volume))
				st = gpi_ws_nomem(err);
		}
		if (st == GP_OK)
			msg->n_candles = c.n;
	}
	gp_candles_free(&c);
	return st;
}

static int
has_affixes(const char *s, size_t len, const char *prefix, const char *suffix)
{
	size_t		pl = strlen(prefix);
	size_t		sl = strlen(suffix);

	return len >= pl + sl && memcmp(s, prefix, pl) == 0 &&
		memcmp(s + len - sl, suffix, sl) == 0;
}

static gp_status parse_v2_jsonc(const char *frame, size_t len, gw_message *msg, gp_error *err);

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/*
 * The fast path promises the json-c path's result: in a fuzz build, check
 * every frame it reads against json-c, and crash on any difference.
 */
static void
check_fast_against_jsonc(const char *frame, size_t len, const gw_message *fast)
{
	gw_message	ref;
	gp_error	err;

	if (parse_v2_jsonc(frame, len, &ref, &err) != GP_OK)
		abort();
	if (ref.kind != fast->kind || strcmp(ref.symbol, fast->symbol) != 0 ||
		ref.n_levels != fast->n_levels || ref.n_trades != fast->n_trades)
		abort();
	for (size_t i = 0; i < ref.n_levels; i++)
		if (ref.levels[i].is_bid != fast->levels[i].is_bid ||
			!gpi_same_text(ref.levels[i].price, fast->levels[i].price) ||
			!gpi_same_text(ref.levels[i].size, fast->levels[i].size))
			abort();
	for (size_t i = 0; i < ref.n_trades; i++)
		if (ref.trades[i].tid != fast->trades[i].tid ||
			ref.trades[i].timestampms != fast->trades[i].timestampms ||
			ref.trades[i].side != fast->trades[i].side ||
			!gpi_same_text(ref.trades[i].price, fast->trades[i].price) ||
			!gpi_same_text(ref.trades[i].amount, fast->trades[i].amount))
			abort();
	gw_message_free(&ref);
}
#endif

gp_status
gw_parse_v2(const char *frame, size_t len, gw_message *msg, gp_error *err)
{
	gpi_error_clear(err);
	if (gpi_parse_v2_fast(frame, len, msg))
	{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		check_fast_against_jsonc(frame, len, msg);
#endif
		return GP_OK;
	}
	return parse_v2_jsonc(frame, len, msg, err);
}

/* Any frame: json-c's tree, then dispatch on "type". */
static gp_status
parse_v2_jsonc(const char *frame, size_t len, gw_message *msg, gp_error *err)
{
	json_object *root;
	json_object *type;
	const char *t;
	size_t		tlen;
	gp_status	st;

	st = gpi_ws_begin(frame, len, msg, &root, err);
	if (st != GP_OK)
		return st;

	if (gpi_ws_api_error(root, msg))
	{
		json_object_put(root);
		return GP_OK;
	}
	if (!json_object_object_get_ex(root, "type", &type))
	{
		gpi_error_set(err, "missing field \"type\"");
		return gpi_ws_fail(msg, root, GP_ERR_SHAPE);
	}
	if (!gpi_json_string(type, &t, &tlen))
	{
		gpi_error_set(err, "field \"type\" is not a string");
		return gpi_ws_fail(msg, root, GP_ERR_SHAPE);
	}

	if (tlen == 10 && memcmp(t, "l2_updates", 10) == 0)
		st = v2_book(root, len, msg, err);
	else if (tlen == 5 && memcmp(t, "trade", 5) == 0)
		st = v2_trade_frame(root, len, msg, err);
	else if (tlen == 9 && memcmp(t, "heartbeat", 9) == 0)
		st = v2_heartbeat(root, msg, err);
	else if (has_affixes(t, tlen, CANDLES_PREFIX, CANDLES_SUFFIX))
		st = v2_candles(root, t + strlen(CANDLES_PREFIX),
						tlen - strlen(CANDLES_PREFIX) - strlen(CANDLES_SUFFIX), msg, err);
	else
	{
		msg->kind = GW_IGNORED;
		gpi_ws_try_symbol(root, "symbol", msg->symbol);
	}

	if (st != GP_OK)
		return gpi_ws_fail(msg, root, st);
	json_object_put(root);
	return GP_OK;
}
