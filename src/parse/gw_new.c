/*
 * gw_new.c
 *	  One frame of the new WebSocket API (wss://ws.gemini.com) ->
 *	  gw_message.  See docs gemini-new-ws-api.md.
 *
 * Market-data frames have no common "type" key: only depthUpdate (and
 * contractStatus) carry "e".  So frames are told apart by their keys, in
 * this order:
 *	 "e" present			 "depthUpdate" -> GW_BOOK_UPDATE, "trade" -> GW_TRADE
 *							 (the conformance fixtures' synthetic form),
 *							 "bookTicker" -> GW_TOP_OF_BOOK, any other value
 *							 (contractStatus, ...) -> GW_IGNORED
 *	 "result":"error"		 GW_ERROR (tardis treats it as an error)
 *	 "id", "status" or "error"
 *							 a reply to a request: GW_ERROR when "error" is
 *							 present (and not null) or status >= 400, else GW_ACK
 *	 "t"					 trade {E,s,t,p,q,m}
 *	 "u" without "U"		 bookTicker {u,E,s,b,B,a,A}
 *	 "lastUpdateId"			 a partial-depth snapshot (@depth5/10/20): GW_IGNORED,
 *							 we do not subscribe to those streams
 *	 anything else			 GP_ERR_SHAPE: no stream we subscribe to sends it
 *
 * A depthUpdate is always GW_BOOK_UPDATE: with ?snapshot=-1 the first one
 * per symbol and connection is the full book, which only the caller can
 * know (gemini_ws.h).  Levels are the bids then the asks, in frame order.
 *
 * bookTicker: b, B, a and A must be present; "" (or null) leaves the field
 * NULL (a side with no order: seen on production), anything else must be a
 * decimal.  first_update_id and last_update_id are both set to its "u"
 * (which equals the u of the depthUpdate with the same E).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

/* ns -> ms for E: floor division, E is checked non-negative. */
#define NS_PER_MS INT64_C(1000000)

/* Highest "status" accepted: an HTTP-style code. */
#define MAX_STATUS 999

static gp_status
new_trade(json_object *root, size_t len, gw_message *msg, gp_error *err)
{
	json_object *m;
	gw_trade   *t;
	gpi_arena  *a;
	gp_status	st;

	msg->kind = GW_TRADE;
	if ((st = gpi_ws_get_symbol(root, "s", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_arena(msg, len, sizeof(gw_trade), err)) != GP_OK)
		return st;
	a = (gpi_arena *) msg->priv;
	t = gpi_arena_alloc(a, sizeof(gw_trade));
	if (t == NULL)
		return gpi_ws_nomem(err);
	if ((st = gpi_ws_get_int64(root, "E", "trade", &msg->event_time_ns, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "t", "trade", &t->tid, err)) != GP_OK ||
		(st = gpi_ws_get_decimal(root, "p", "trade", a, &t->price, err)) != GP_OK ||
		(st = gpi_ws_get_decimal(root, "q", "trade", a, &t->amount, err)) != GP_OK)
		return st;
	t->timestampms = msg->event_time_ns / NS_PER_MS;

	/* m: "the buyer is the maker", so the taker sold */
	if (!json_object_object_get_ex(root, "m", &m))
	{
		gpi_error_set(err, "trade: missing field \"m\"");
		return GP_ERR_SHAPE;
	}
	if (!json_object_is_type(m, json_type_boolean))
	{
		gpi_error_set(err, "trade: field \"m\" is not a boolean");
		return GP_ERR_SHAPE;
	}
	t->side = json_object_get_boolean(m) ? GP_SIDE_SELL : GP_SIDE_BUY;

	msg->trades = t;
	msg->n_trades = 1;
	return GP_OK;
}

static gp_status
new_depth(json_object *root, size_t len, gw_message *msg, gp_error *err)
{
	json_object *bids;
	json_object *asks;
	size_t		nb;
	size_t		na;
	gpi_arena  *a;
	gp_status	st;

	msg->kind = GW_BOOK_UPDATE;
	if ((st = gpi_ws_get_symbol(root, "s", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "E", "depthUpdate", &msg->event_time_ns, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "U", "depthUpdate", &msg->first_update_id, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "u", "depthUpdate", &msg->last_update_id, err)) != GP_OK ||
		(st = gpi_ws_get_array(root, "b", "depthUpdate", &bids, err)) != GP_OK ||
		(st = gpi_ws_get_array(root, "a", "depthUpdate", &asks, err)) != GP_OK)
		return st;

	nb = json_object_array_length(bids);
	na = json_object_array_length(asks);
	if ((st = gpi_ws_arena(msg, len, (nb + na) * sizeof(gw_level), err)) != GP_OK)
		return st;
	if (nb + na == 0)
		return GP_OK;
	a = (gpi_arena *) msg->priv;
	msg->levels = gpi_arena_alloc(a, (nb + na) * sizeof(gw_level));
	if (msg->levels == NULL)
		return gpi_ws_nomem(err);
	if ((st = gpi_ws_levels(bids, "b", 1, a, msg->levels, err)) != GP_OK ||
		(st = gpi_ws_levels(asks, "a", 0, a, msg->levels + nb, err)) != GP_OK)
		return st;
	msg->n_levels = nb + na;
	return GP_OK;
}

/* One of b/B/a/A: present; "" or null -> NULL; else a decimal. */
static gp_status
tob_field(json_object *root, const char *key, gpi_arena *a, const char **out, gp_error *err)
{
	json_object *v;
	const char *s;
	size_t		len;

	*out = NULL;
	if (!json_object_object_get_ex(root, key, &v))
	{
		gpi_error_set(err, "bookTicker: missing field \"%s\"", key);
		return GP_ERR_SHAPE;
	}
	if (v == NULL || (gpi_json_string(v, &s, &len) && len == 0))
		return GP_OK;
	return gpi_ws_get_decimal(root, key, "bookTicker", a, out, err);
}

static gp_status
new_book_ticker(json_object *root, size_t len, gw_message *msg, gp_error *err)
{
	gpi_arena  *a;
	gp_status	st;

	msg->kind = GW_TOP_OF_BOOK;
	if ((st = gpi_ws_get_symbol(root, "s", msg->symbol, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "E", "bookTicker", &msg->event_time_ns, err)) != GP_OK ||
		(st = gpi_ws_get_int64(root, "u", "bookTicker", &msg->last_update_id, err)) != GP_OK ||
		(st = gpi_ws_arena(msg, len, 0, err)) != GP_OK)
		return st;
	msg->first_update_id = msg->last_update_id;
	a = (gpi_arena *) msg->priv;
	if ((st = tob_field(root, "b", a, &msg->bid, err)) != GP_OK ||
		(st = tob_field(root, "B", a, &msg->bid_size, err)) != GP_OK ||
		(st = tob_field(root, "a", a, &msg->ask, err)) != GP_OK ||
		(st = tob_field(root, "A", a, &msg->ask_size, err)) != GP_OK)
		return st;
	return GP_OK;
}

/* The text of a reply's "error" value for msg->error. */
static void
error_text(json_object *error, gw_message *msg)
{
	gp_error	text;
	json_object *v;
	const char *s = NULL;
	size_t		slen = 0;
	int64_t		code = 0;
	int			has_code = 0;

	if (error == NULL)
	{
		gpi_error_set(&text, "status %d", msg->status);
	}
	else if (json_object_is_type(error, json_type_object))
	{
		if (json_object_object_get_ex(error, "msg", &v))
			(void) gpi_json_string(v, &s, &slen);
		if (json_object_object_get_ex(error, "code", &v))
		{
			/* codes are negative (-1013): read the number as is */
			if (json_object_is_type(v, json_type_int))
			{
				code = json_object_get_int64(v);
				has_code = 1;
			}
		}
		if (s != NULL && has_code)
			gpi_error_set(&text, "%.*s (code %" PRId64 ")", (int) slen, s, code);
		else if (s != NULL)
			gpi_error_set(&text, "%.*s", (int) slen, s);
		else if (has_code)
			gpi_error_set(&text, "code %" PRId64, code);
		else
			gpi_error_set(&text, "status %d", msg->status);
	}
	else if (gpi_json_string(error, &s, &slen))
		gpi_error_set(&text, "%.*s", (int) slen, s);
	else
	{
		s = json_object_to_json_string_ext(error, JSON_C_TO_STRING_PLAIN);
		gpi_error_set(&text, "%s", s != NULL ? s : "error");
	}
	gpi_copy_text(msg->error, sizeof(msg->error), text.message, strlen(text.message));
}

/* {"id":..,"status":..,["result":..],["error":{"code":..,"msg":..}]} */
static gp_status
new_reply(json_object *root, gw_message *msg, gp_error *err)
{
	json_object *v;
	json_object *error = NULL;
	int64_t		status = 0;
	gp_status	st;

	/* the id we sent, echoed: a string, or an integer printed in decimal */
	if (json_object_object_get_ex(root, "id", &v) && v != NULL)
	{
		const char *s;
		size_t		len;
		int64_t		num;

		if (gpi_json_string(v, &s, &len))
			gpi_copy_text(msg->id, sizeof(msg->id), s, len);
		else if (json_object_is_type(v, json_type_int) &&
				 gpi_json_int64(v, &num) == GPI_FIELD_OK)
			snprintf(msg->id, sizeof(msg->id), "%" PRId64, num);
		else
		{
			gpi_error_set(err, "reply: field \"id\" is not a string or an integer");
			return GP_ERR_SHAPE;
		}
	}
	if (json_object_object_get_ex(root, "status", NULL))
	{
		if ((st = gpi_ws_get_int64(root, "status", "reply", &status, err)) != GP_OK)
			return st;
		if (status > MAX_STATUS)
		{
			gpi_error_set(err, "reply: field \"status\" is out of range");
			return GP_ERR_SHAPE;
		}
	}
	msg->status = (int) status;

	if ((json_object_object_get_ex(root, "error", &error) && error != NULL) ||
		status >= 400)
	{
		msg->kind = GW_ERROR;
		error_text(error, msg);
	}
	else
		msg->kind = GW_ACK;
	return GP_OK;
}

gp_status
gw_parse_new(const char *frame, size_t len, gw_message *msg, gp_error *err)
{
	json_object *root;
	json_object *e;
	gp_status	st;

	st = gpi_ws_begin(frame, len, msg, &root, err);
	if (st != GP_OK)
		return st;

	if (json_object_object_get_ex(root, "e", &e))
	{
		const char *s;
		size_t		slen;

		if (!gpi_json_string(e, &s, &slen))
		{
			gpi_error_set(err, "field \"e\" is not a string");
			return gpi_ws_fail(msg, root, GP_ERR_SHAPE);
		}
		if (slen == 11 && memcmp(s, "depthUpdate", 11) == 0)
			st = new_depth(root, len, msg, err);
		else if (slen == 5 && memcmp(s, "trade", 5) == 0)
			st = new_trade(root, len, msg, err);
		else if (slen == 10 && memcmp(s, "bookTicker", 10) == 0)
			st = new_book_ticker(root, len, msg, err);
		else
		{
			msg->kind = GW_IGNORED;
			gpi_ws_try_symbol(root, "s", msg->symbol);
		}
	}
	else if (gpi_ws_api_error(root, msg))
		st = GP_OK;
	else if (json_object_object_get_ex(root, "id", NULL) ||
			 json_object_object_get_ex(root, "status", NULL) ||
			 json_object_object_get_ex(root, "error", NULL))
		st = new_reply(root, msg, err);
	else if (json_object_object_get_ex(root, "t", NULL))
		st = new_trade(root, len, msg, err);
	else if (json_object_object_get_ex(root, "u", NULL) &&
			 !json_object_object_get_ex(root, "U", NULL))
		st = new_book_ticker(root, len, msg, err);
	else if (json_object_object_get_ex(root, "lastUpdateId", NULL))
	{
		msg->kind = GW_IGNORED;
		gpi_ws_try_symbol(root, "symbol", msg->symbol);
	}
	else
	{
		gpi_error_set(err, "unrecognised frame: no \"e\", \"id\", \"t\" or \"u\"");
		st = GP_ERR_SHAPE;
	}

	if (st != GP_OK)
		return gpi_ws_fail(msg, root, st);
	json_object_put(root);
	return GP_OK;
}
