/*
 * test_ws.c
 *	  gw_parse_v2 / gw_parse_new / the subscribe builders on hand-made
 *	  frames: every kind, the trade id and side rules, exact numbers, and
 *	  malformed input of every sort (which must give an error, an empty
 *	  message and a message text, never a crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gemini_ws.h"
#include "parse_internal.h"
#include "test_util.h"

void		test_ws(void);

static gp_status
v2(const char *frame, gw_message *m, gp_error *e)
{
	return gw_parse_v2(frame, strlen(frame), m, e);
}

static gp_status
nw(const char *frame, gw_message *m, gp_error *e)
{
	return gw_parse_new(frame, strlen(frame), m, e);
}

/* A failed parse leaves the message all zero (so freeing it is harmless). */
static int
is_zero(const gw_message *m)
{
	gw_message	z;

	memset(&z, 0, sizeof(z));
	return memcmp(m, &z, sizeof(z)) == 0;
}

/* frame must fail with status want and a message containing in_msg. */
static void
expect_fail(const char *file, int line, int newapi, const char *frame, size_t len,
			gp_status want, const char *in_msg)
{
	gw_message	m;
	gp_error	e;
	gp_status	st;

	st = newapi ? gw_parse_new(frame, len, &m, &e) : gw_parse_v2(frame, len, &m, &e);
	t_check(st == want, file, line, "%s: status %d, want %d (%s)", frame, (int) st,
			(int) want, e.message);
	t_check(is_zero(&m), file, line, "%s: message not empty after failure", frame);
	t_check(st == GP_OK || e.message[0] != '\0', file, line, "%s: no error message", frame);
	if (in_msg != NULL && st != GP_OK)
		t_check(strstr(e.message, in_msg) != NULL, file, line,
				"%s: message \"%s\" lacks \"%s\"", frame, e.message, in_msg);
	gw_message_free(&m);
}

#define V2_SHAPE(frame, msg) expect_fail(__FILE__, __LINE__, 0, frame, strlen(frame), GP_ERR_SHAPE, msg)
#define V2_JSON(frame) expect_fail(__FILE__, __LINE__, 0, frame, strlen(frame), GP_ERR_JSON, NULL)
#define NEW_SHAPE(frame, msg) expect_fail(__FILE__, __LINE__, 1, frame, strlen(frame), GP_ERR_SHAPE, msg)
#define NEW_JSON(frame) expect_fail(__FILE__, __LINE__, 1, frame, strlen(frame), GP_ERR_JSON, NULL)

/* frame parses with GP_OK into kind; the message is freed. */
static void
expect_kind(const char *file, int line, int newapi, const char *frame, gw_kind kind,
			const char *symbol)
{
	gw_message	m;
	gp_error	e;
	gp_status	st = newapi ? nw(frame, &m, &e) : v2(frame, &m, &e);

	t_check(st == GP_OK, file, line, "%s: status %d (%s)", frame, (int) st, e.message);
	t_check(m.kind == kind, file, line, "%s: kind %d, want %d", frame, (int) m.kind, (int) kind);
	if (symbol != NULL)
		t_check(strcmp(m.symbol, symbol) == 0, file, line, "%s: symbol \"%s\", want \"%s\"",
				frame, m.symbol, symbol);
	gw_message_free(&m);
}

#define V2_KIND(frame, kind, sym) expect_kind(__FILE__, __LINE__, 0, frame, kind, sym)
#define NEW_KIND(frame, kind, sym) expect_kind(__FILE__, __LINE__, 1, frame, kind, sym)

/* Every strict prefix of a valid frame is a JSON error, never a crash. */
static void
expect_prefixes_fail(const char *file, int line, int newapi, const char *frame)
{
	size_t		len = strlen(frame);
	size_t		cut;
	int			all = 1;

	for (cut = 0; cut < len; cut++)
	{
		gw_message	m;
		gp_error	e;
		/* exact-size copy so a read past the cut would be a real overrun */
		char	   *buf = malloc(cut ? cut : 1);
		gp_status	st;

		memcpy(buf, frame, cut);
		st = newapi ? gw_parse_new(buf, cut, &m, &e) : gw_parse_v2(buf, cut, &m, &e);
		if (st != GP_ERR_JSON || !is_zero(&m))
		{
			all = 0;
			t_check(0, file, line, "prefix %zu of %s: status %d", cut, frame, (int) st);
		}
		gw_message_free(&m);
		free(buf);
	}
	t_check(all, file, line, "every prefix of %s fails", frame);
}

/* ---------------- v2 ---------------- */

static const char v2_trade_frame[] =
"{\"type\":\"trade\",\"symbol\":\"ANKRUSD\",\"event_id\":45465818387,\"timestamp\":1624493670759,"
"\"price\":\"0.07946\",\"quantity\":\"1020.482111\",\"side\":\"buy\"}";

static void
test_v2_heartbeat(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(v2("{\"type\":\"heartbeat\",\"timestamp\":1624493666869}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_HEARTBEAT);
	CHECK_STR(m.symbol, "");
	CHECK(m.n_levels == 0 && m.n_trades == 0 && m.n_candles == 0);
	CHECK(m.levels == NULL && m.trades == NULL && m.candles == NULL);
	CHECK_I64(m.event_time_ns, 0);
	gw_message_free(&m);
	gw_message_free(&m);		/* twice is harmless */

	/* surrounding whitespace (a line read with its newline) is fine */
	V2_KIND("  {\"type\":\"heartbeat\",\"timestamp\":1624493666869}\r\n", GW_HEARTBEAT, "");
	/* v1's heartbeat has no timestamp: still a heartbeat */
	V2_KIND("{\"type\":\"heartbeat\",\"socket_sequence\":1656}", GW_HEARTBEAT, "");
	V2_KIND("{\"type\":\"heartbeat\",\"timestamp\":\"1624493666869\"}", GW_HEARTBEAT, "");
	V2_SHAPE("{\"type\":\"heartbeat\",\"timestamp\":\"soon\"}", "heartbeat: field \"timestamp\" is not an integer");
	V2_SHAPE("{\"type\":\"heartbeat\",\"timestamp\":-5}", "negative");
	V2_SHAPE("{\"type\":\"heartbeat\",\"timestamp\":1.5}", "not an integer");
}

static void
test_v2_trade(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(v2(v2_trade_frame, &m, &e) == GP_OK);
	CHECK(m.kind == GW_TRADE);
	CHECK_STR(m.symbol, "ANKRUSD");
	CHECK(m.n_trades == 1 && m.trades != NULL);
	if (m.n_trades == 1)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(45465818387));
		CHECK_I64(m.trades[0].timestampms, INT64_C(1624493670759));
		CHECK_STR(m.trades[0].price, "0.07946");
		CHECK_STR(m.trades[0].amount, "1020.482111");
		CHECK(m.trades[0].side == GP_SIDE_BUY);
	}
	CHECK(m.n_levels == 0 && m.levels == NULL);
	CHECK_I64(m.event_time_ns, 0);
	CHECK_I64(m.first_update_id, 0);
	gw_message_free(&m);
	CHECK(is_zero(&m));

	/* tid wins over event_id (docs example: event_id 3575573053, tid 2840140800042677) */
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"event_id\":3575573053,\"timestamp\":151231241,"
			 "\"price\":\"9004.21000000\",\"quantity\":\"0.09110000\",\"side\":\"sell\","
			 "\"tid\":2840140800042677}", &m, &e) == GP_OK);
	if (m.n_trades == 1)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(2840140800042677));
		CHECK_I64(m.trades[0].timestampms, 151231241);
		CHECK_STR(m.trades[0].price, "9004.21000000");
		CHECK(m.trades[0].side == GP_SIDE_SELL);
	}
	gw_message_free(&m);

	/* tid as a string of digits, like every integer */
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":\"2840140800042677\",\"event_id\":1,"
			 "\"timestamp\":\"1624493670759\",\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 &m, &e) == GP_OK);
	if (m.n_trades == 1)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(2840140800042677));
		CHECK_I64(m.trades[0].timestampms, INT64_C(1624493670759));
	}
	gw_message_free(&m);

	/* the docs' "eventid" spelling, when nothing else is there */
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"eventid\":169841458,\"timestamp\":1,"
			 "\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}", &m, &e) == GP_OK);
	if (m.n_trades == 1)
		CHECK_I64(m.trades[0].tid, 169841458);
	gw_message_free(&m);

	/* a present but unusable tid never falls back to event_id */
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":null,\"event_id\":1,\"timestamp\":1,"
			 "\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}", "field \"tid\" is not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":\"x\",\"event_id\":1,\"timestamp\":1,"
			 "\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}", "field \"tid\"");

	/* sides: block and auction trades are trades; the side is kept */
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"ETHUSD\",\"event_id\":9608228023,\"timestamp\":1580919901276,"
			 "\"price\":\"200.19\",\"quantity\":\"100\",\"side\":\"block\"}", &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].side == GP_SIDE_BLOCK);
	gw_message_free(&m);
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"ETHUSD\",\"event_id\":1,\"timestamp\":1,"
			 "\"price\":\"200.19\",\"quantity\":\"100\",\"side\":\"auction\"}", &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].side == GP_SIDE_AUCTION);
	gw_message_free(&m);

	/* symbols come out upper case whatever the frame says */
	V2_KIND("{\"type\":\"trade\",\"symbol\":\"btcgusdperp\",\"event_id\":1,\"timestamp\":1,"
			"\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}", GW_TRADE, "BTCGUSDPERP");

	/* decimals as JSON numbers keep their literal text */
	CHECK(v2("{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"event_id\":1,\"timestamp\":1,"
			 "\"price\":9004.210,\"quantity\":1E-8,\"side\":\"buy\"}", &m, &e) == GP_OK);
	if (m.n_trades == 1)
	{
		CHECK_STR(m.trades[0].price, "9004.210");
		CHECK_STR(m.trades[0].amount, "1E-8");
	}
	gw_message_free(&m);
}

static void
test_v2_trade_bad(void)
{
	/* missing fields, one at a time */
	V2_SHAPE("{\"type\":\"trade\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "missing field \"symbol\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "missing field \"tid\" or \"event_id\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "trade: missing field \"timestamp\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"quantity\":\"2\",\"side\":\"buy\"}",
			 "trade: missing field \"price\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"side\":\"buy\"}",
			 "trade: missing field \"quantity\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\"}",
			 "trade: missing field \"side\"");

	/* wrong types and bad values */
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":7,\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"symbol\" is not a string");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not a valid symbol");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"BTC USD\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not a valid symbol");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"BTC\\u0000USD\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"symbol\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not a valid symbol");
	V2_KIND("{\"type\":\"trade\",\"symbol\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ01234\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			GW_TRADE, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"abc\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "trade: field \"price\" is not a decimal");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"NaN\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "\"price\" is not a decimal");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "\"price\" is not a decimal");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":null,\"side\":\"buy\"}",
			 "\"quantity\" is not a decimal");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":[\"2\"],\"side\":\"buy\"}",
			 "\"quantity\" is not a decimal");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"bid\"}",
			 "field \"side\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"BUY\"}",
			 "field \"side\"");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":true}",
			 "field \"side\"");

	/* integers: huge, negative, float, and strings that are not integers */
	V2_KIND("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":9223372036854775807,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			GW_TRADE, "X");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":9223372036854775808,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"event_id\" is out of range");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":99999999999999999999999999,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "out of range");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":\"99999999999999999999\",\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "out of range");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":-9223372036854775809,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "out of range");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":-1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"event_id\" is negative");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1.5,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"event_id\" is not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1e3,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":\"12a\",\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":\" 12\",\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":\"\",\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":true,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "not an integer");
	V2_SHAPE("{\"type\":\"trade\",\"symbol\":\"X\",\"event_id\":1,\"timestamp\":{},\"price\":\"1\",\"quantity\":\"2\",\"side\":\"buy\"}",
			 "field \"timestamp\" is not an integer");
}

static void
test_v2_book(void)
{
	gw_message	m;
	gp_error	e;

	/* an update (no trades, no auction_events), from the tardis test */
	CHECK(v2("{\"type\":\"l2_updates\",\"symbol\":\"ETHBTC\",\"changes\":[[\"sell\",\"0.02189\",\"88.236\"],"
			 "[\"buy\",\"0.02184\",\"4\"],[\"sell\",\"0.02185\",\"0\"]]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_UPDATE);
	CHECK_STR(m.symbol, "ETHBTC");
	CHECK(m.n_levels == 3 && m.n_trades == 0 && m.trades == NULL);
	if (m.n_levels == 3)
	{
		CHECK(!m.levels[0].is_bid);
		CHECK_STR(m.levels[0].price, "0.02189");
		CHECK_STR(m.levels[0].size, "88.236");
		CHECK(m.levels[1].is_bid);
		CHECK_STR(m.levels[1].price, "0.02184");
		CHECK_STR(m.levels[1].size, "4");
		CHECK(!m.levels[2].is_bid);
		CHECK_STR(m.levels[2].size, "0");
	}
	CHECK_I64(m.first_update_id, 0);
	CHECK_I64(m.last_update_id, 0);
	gw_message_free(&m);

	/* an empty auction_events alone marks a snapshot */
	CHECK(v2("{\"type\":\"l2_updates\",\"symbol\":\"ZECLTC\",\"changes\":[[\"buy\",\"0.688\",\"51.55728\"]],"
			 "\"auction_events\":[]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_SNAPSHOT && m.n_levels == 1 && m.n_trades == 0);
	gw_message_free(&m);
	/* so does trades alone, even empty */
	V2_KIND("{\"type\":\"l2_updates\",\"symbol\":\"ZECLTC\",\"changes\":[],\"trades\":[]}",
			GW_BOOK_SNAPSHOT, "ZECLTC");
	/* an update with no change at all is still an update */
	CHECK(v2("{\"type\":\"l2_updates\",\"symbol\":\"zecltc\",\"changes\":[]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_UPDATE && m.n_levels == 0 && m.levels == NULL);
	CHECK_STR(m.symbol, "ZECLTC");
	gw_message_free(&m);

	/* the docs' snapshot: trade with "eventid" and "tid" -> tid */
	CHECK(v2("{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[\"buy\",\"9122.04\",\"0.00121425\"],"
			 "[\"sell\",\"9122.07\",\"0.98942292\"]],\"trades\":[{\"type\":\"trade\",\"symbol\":\"BTCUSD\","
			 "\"eventid\":169841458,\"timestamp\":1560976400428,\"price\":\"9122.04\",\"quantity\":\"0.0073173\","
			 "\"side\":\"sell\",\"tid\":2840140800042677}]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_SNAPSHOT && m.n_levels == 2 && m.n_trades == 1);
	if (m.n_trades == 1)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(2840140800042677));
		CHECK_I64(m.trades[0].timestampms, INT64_C(1560976400428));
		CHECK_STR(m.trades[0].price, "9122.04");
		CHECK_STR(m.trades[0].amount, "0.0073173");
		CHECK(m.trades[0].side == GP_SIDE_SELL);
	}
	gw_message_free(&m);

	/* snapshot trades: a trade without "type" is fine, another type is not */
	V2_KIND("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":[{\"event_id\":1,"
			"\"timestamp\":1,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}]}", GW_BOOK_SNAPSHOT, "X");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":[{\"type\":\"auction_result\","
			 "\"event_id\":1,\"timestamp\":1,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}]}",
			 "trades[0]: field \"type\" is not \"trade\"");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":[{\"event_id\":1,"
			 "\"timestamp\":1,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"},{\"event_id\":2,"
			 "\"timestamp\":1,\"price\":\"1\",\"side\":\"buy\"}]}",
			 "trades[1]: missing field \"quantity\"");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":[1]}",
			 "trades[0] is not an object");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":{}}",
			 "field \"trades\" is not an array");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"trades\":null}",
			 "field \"trades\" is not an array");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"auction_events\":\"none\"}",
			 "field \"auction_events\" is not an array");
	/* auction events' content is not used, so not checked */
	V2_KIND("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[],\"auction_events\":[1,\"x\",{}]}",
			GW_BOOK_SNAPSHOT, "X");

	/* levels */
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\"}", "missing field \"changes\"");
	V2_SHAPE("{\"type\":\"l2_updates\",\"changes\":[]}", "missing field \"symbol\"");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":{}}", "field \"changes\" is not an array");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"buy\",\"1\",\"2\"],[\"buy\",\"1\"]]}",
			 "changes[1] is not an array of 3 values");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"buy\",\"1\",\"2\",\"3\"]]}",
			 "changes[0] is not an array of 3 values");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[\"buy\"]}", "changes[0]");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"bid\",\"1\",\"2\"]]}",
			 "changes[0]: side is not \"buy\" or \"sell\"");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[1,\"1\",\"2\"]]}", "side");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"sell\",\"x\",\"2\"]]}",
			 "changes[0]: price is not a decimal");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"sell\",\"1\",null]]}",
			 "changes[0]: size is not a decimal");
	V2_SHAPE("{\"type\":\"l2_updates\",\"symbol\":\"X\",\"changes\":[[\"sell\",\"1\",\"1e1001\"]]}",
			 "size is not a decimal");
}

static void
test_v2_candles(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(v2("{\"type\":\"candles_15m_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[1561054500000,9350.18,"
			 "9358.35,9350.18,9355.51,2.07],[1561053600000,9357.33,9357.33,9350.18,9350.18,1.5900161]]}",
			 &m, &e) == GP_OK);
	CHECK(m.kind == GW_CANDLES);
	CHECK_STR(m.symbol, "BTCUSD");
	CHECK_STR(m.timeframe, "15m");
	CHECK(m.n_candles == 2 && m.candles != NULL);
	if (m.n_candles == 2)
	{
		CHECK_I64(m.candles[0].time_ms, INT64_C(1561054500000));
		CHECK_STR(m.candles[0].open, "9350.18");
		CHECK_STR(m.candles[0].high, "9358.35");
		CHECK_STR(m.candles[0].low, "9350.18");
		CHECK_STR(m.candles[0].close, "9355.51");
		CHECK_STR(m.candles[0].volume, "2.07");
		CHECK_I64(m.candles[1].time_ms, INT64_C(1561053600000));
		CHECK_STR(m.candles[1].volume, "1.5900161");
	}
	gw_message_free(&m);

	/* literal text of every number form, and strings */
	CHECK(v2("{\"type\":\"candles_1m_updates\",\"symbol\":\"ethusd\",\"changes\":[[1,1E-8,\"2.50\",3,4.000,0]]}",
			 &m, &e) == GP_OK);
	CHECK_STR(m.timeframe, "1m");
	CHECK_STR(m.symbol, "ETHUSD");
	if (m.n_candles == 1)
	{
		CHECK_STR(m.candles[0].open, "1E-8");
		CHECK_STR(m.candles[0].high, "2.50");
		CHECK_STR(m.candles[0].low, "3");
		CHECK_STR(m.candles[0].close, "4.000");
		CHECK_STR(m.candles[0].volume, "0");
	}
	gw_message_free(&m);

	CHECK(v2("{\"type\":\"candles_1d_updates\",\"symbol\":\"X\",\"changes\":[]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_CANDLES && m.n_candles == 0 && m.candles == NULL);
	CHECK_STR(m.timeframe, "1d");
	gw_message_free(&m);

	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":[[1,2,3,4,5,6],[1,2,3,4,5]]}",
			 "candles: candle 1");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":[[1,2,\"x\",4,5,6]]}", "high");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":[[-1,2,3,4,5,6]]}", "negative");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":[[1,2,3,4,5,NaN]]}", "volume");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":[[1,2,3,4,5,99999999999999999999999]]}",
			 "volume");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\",\"changes\":{}}", "not an array");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"symbol\":\"X\"}", "missing field \"changes\"");
	V2_SHAPE("{\"type\":\"candles_1m_updates\",\"changes\":[]}", "missing field \"symbol\"");
	V2_SHAPE("{\"type\":\"candles__updates\",\"symbol\":\"X\",\"changes\":[]}", "bad time frame");
	V2_SHAPE("{\"type\":\"candles_12345678_updates\",\"symbol\":\"X\",\"changes\":[]}", "bad time frame");
	V2_SHAPE("{\"type\":\"candles_1 m_updates\",\"symbol\":\"X\",\"changes\":[]}", "bad time frame");
	V2_KIND("{\"type\":\"candles_1234567_updates\",\"symbol\":\"X\",\"changes\":[]}", GW_CANDLES, "X");
}

static void
test_v2_other(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(v2("{\"result\":\"error\",\"reason\":\"NoValidTradingPairs\"}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "NoValidTradingPairs");
	CHECK(m.status == 0 && m.id[0] == '\0');
	CHECK(e.message[0] == '\0');
	gw_message_free(&m);
	CHECK(v2("{\"reason\":\"InvalidJson\",\"message\":\"bad \\\"x\\\"\",\"result\":\"error\",\"type\":\"trade\"}",
			 &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "InvalidJson: bad \"x\"");
	gw_message_free(&m);
	CHECK(v2("{\"result\":\"error\"}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "(no reason)");
	gw_message_free(&m);

	/* known types we do not use, the client's own request, unknown types */
	V2_KIND("{\"type\":\"auction_open\",\"symbol\":\"BTCUSD\",\"auction_open_ms\":1}", GW_IGNORED, "BTCUSD");
	V2_KIND("{\"type\":\"auction_indicative\",\"symbol\":\"ETHUSD\",\"time_ms\":1618603200000,\"result\":\"failure\"}",
			GW_IGNORED, "ETHUSD");
	V2_KIND("{\"type\":\"auction_result\",\"symbol\":\"ETHUSD\",\"time_ms\":1618603200000,\"result\":\"success\","
			"\"auction_price\":\"2435.04\",\"auction_quantity\":\"8.244475\"}", GW_IGNORED, "ETHUSD");
	V2_KIND("{\"type\":\"mark_price_updates\",\"symbol\":\"BTCGUSDPERP\",\"changes\":[{\"timestamp\":1673932381478308169,"
			"\"mark_price\":\"21154.098\",\"spot_index\":\"21175.27333\"}]}", GW_IGNORED, "BTCGUSDPERP");
	V2_KIND("{\"type\":\"funding_amount_updates\",\"symbol\":\"BTCGUSDPERP\",\"changes\":[]}", GW_IGNORED, "BTCGUSDPERP");
	V2_KIND("{\"type\":\"subscribe\",\"subscriptions\":[{\"name\":\"l2\",\"symbols\":[\"BTCUSD\"]}]}", GW_IGNORED, "");
	V2_KIND("{\"type\":\"something_new\",\"symbol\":\"not a symbol!\"}", GW_IGNORED, "");
	V2_KIND("{\"type\":\"\"}", GW_IGNORED, "");
	V2_KIND("{\"type\":\"update\",\"eventId\":5375504382,\"events\":[]}", GW_IGNORED, "");

	/* not JSON, not complete, not an object, no usable type */
	V2_JSON("");
	V2_JSON("   \n");
	V2_JSON("heartbeat");
	V2_JSON("{\"type\":\"heartbeat\"");
	V2_JSON("{\"type\":\"heartbeat\"}}");
	V2_JSON("{\"type\":\"heartbeat\"} {}");
	V2_JSON("{'type':'heartbeat'}");
	V2_JSON("{\"type\":\"heartbeat\",}");
	V2_JSON("{\"type\":\"heart\xff\"}");
	V2_SHAPE("[]", "expected a JSON object, got a JSON array");
	V2_SHAPE("null", "got a JSON null");
	V2_SHAPE("\"trade\"", "got a JSON string");
	V2_SHAPE("12", "got a JSON number");
	V2_SHAPE("{}", "missing field \"type\"");
	V2_SHAPE("{\"type\":1}", "field \"type\" is not a string");
	V2_SHAPE("{\"type\":null}", "field \"type\" is not a string");
	V2_SHAPE("{\"type\":[\"trade\"]}", "field \"type\" is not a string");
	expect_fail(__FILE__, __LINE__, 0, "{\"type\":\"heartbeat\"}\0garbage", 27, GP_ERR_JSON, "after the value");
	expect_fail(__FILE__, __LINE__, 0, NULL, 0, GP_ERR_JSON, "empty");
	{
		/* hostile nesting stops at json-c's depth limit, quickly */
		size_t		depth = 100000;
		char	   *deep = malloc(2 * depth + 32);
		size_t		i;
		size_t		n = 0;

		n += (size_t) sprintf(deep, "{\"type\":\"x\",\"y\":");
		for (i = 0; i < depth; i++)
			deep[n++] = '[';
		for (i = 0; i < depth; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		expect_fail(__FILE__, __LINE__, 0, deep, n, GP_ERR_JSON, "nesting");
		free(deep);
	}

	expect_prefixes_fail(__FILE__, __LINE__, 0, v2_trade_frame);
	expect_prefixes_fail(__FILE__, __LINE__, 0,
						 "{\"type\":\"l2_updates\",\"symbol\":\"ZECLTC\",\"changes\":[[\"buy\",\"0.688\",\"51.55728\"]],"
						 "\"trades\":[{\"type\":\"trade\",\"event_id\":1,\"timestamp\":2,\"price\":\"3\","
						 "\"quantity\":\"4\",\"side\":\"block\"}],\"auction_events\":[]}");
	expect_prefixes_fail(__FILE__, __LINE__, 0,
						 "{\"type\":\"candles_15m_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[1561054500000,9350.18,"
						 "9358.35,9350.18,9355.51,2.07]]}");
}

/* ---------------- new API ---------------- */

static const char new_trade_frame[] =
"{\"E\":1790732616897030070,\"s\":\"btcusd\",\"t\":2840141030659933,\"p\":\"83371.08000\","
"\"q\":\"0.0000593800\",\"m\":false}";

static const char new_depth_frame[] =
"{\"e\":\"depthUpdate\",\"E\":1790732606604219493,\"s\":\"btcusd\",\"U\":1764559653003227,"
"\"u\":1764559653003235,\"b\":[[\"83360.58000\",\"0.0127374700\"],[\"83361.33000\",\"0.0000000000\"]],"
"\"a\":[[\"83423.000\",\"0.1441\"]]}";

static const char new_ticker_frame[] =
"{\"u\":1764528499302470,\"E\":1790732601534707953,\"s\":\"btcgusdperp\",\"b\":\"83395.000\","
"\"B\":\"0.1440\",\"a\":\"83423.000\",\"A\":\"0.1441\",\"c\":\"83838.000\",\"C\":\"0.0001\"}";

static void
test_new_trade(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(nw(new_trade_frame, &m, &e) == GP_OK);
	CHECK(m.kind == GW_TRADE);
	CHECK_STR(m.symbol, "BTCUSD");
	CHECK_I64(m.event_time_ns, INT64_C(1790732616897030070));
	CHECK(m.n_trades == 1 && m.trades != NULL);
	if (m.n_trades == 1)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(2840141030659933));
		/* E is ns: 1790732616897030070 / 1e6, truncated, exactly */
		CHECK_I64(m.trades[0].timestampms, INT64_C(1790732616897));
		CHECK_STR(m.trades[0].price, "83371.08000");
		CHECK_STR(m.trades[0].amount, "0.0000593800");
		/* m=false: the buyer was the taker */
		CHECK(m.trades[0].side == GP_SIDE_BUY);
	}
	CHECK(m.n_levels == 0 && m.levels == NULL);
	gw_message_free(&m);

	/* m=true: the buyer was the maker, so the taker sold (tardis test frame) */
	CHECK(nw("{\"E\":1783981140085684200,\"s\":\"btcrlusd\",\"t\":2840141014190422,\"p\":\"62145.38000\","
			 "\"q\":\"0.0162522200\",\"m\":true}", &m, &e) == GP_OK);
	CHECK_STR(m.symbol, "BTCRLUSD");
	if (m.n_trades == 1)
	{
		CHECK(m.trades[0].side == GP_SIDE_SELL);
		CHECK_I64(m.trades[0].timestampms, INT64_C(1783981140085));
	}
	gw_message_free(&m);

	/* ns -> ms at the edges: below 1 ms, INT64_MAX, and a string E */
	CHECK(nw("{\"E\":999999,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].timestampms == 0);
	gw_message_free(&m);
	CHECK(nw("{\"E\":1000000,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].timestampms == 1);
	gw_message_free(&m);
	CHECK(nw("{\"E\":9223372036854775807,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].timestampms == INT64_C(9223372036854));
	CHECK_I64(m.event_time_ns, INT64_MAX);
	gw_message_free(&m);
	CHECK(nw("{\"E\":\"1790732616897030070\",\"s\":\"x\",\"t\":\"2840141030659933\",\"p\":\"1\",\"q\":\"1\",\"m\":true}",
			 &m, &e) == GP_OK);
	CHECK(m.n_trades == 1 && m.trades[0].timestampms == INT64_C(1790732616897));
	CHECK(m.n_trades == 1 && m.trades[0].tid == INT64_C(2840141030659933));
	gw_message_free(&m);

	/* the conformance fixtures' form with "e":"trade" */
	NEW_KIND("{\"e\":\"trade\",\"E\":1,\"s\":\"ethusd\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":true}", GW_TRADE, "ETHUSD");

	NEW_SHAPE("{\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "trade: missing field \"E\"");
	NEW_SHAPE("{\"E\":1,\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "missing field \"s\"");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"q\":\"1\",\"m\":false}", "trade: missing field \"p\"");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"m\":false}", "trade: missing field \"q\"");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\"}", "trade: missing field \"m\"");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"p\":\"1\",\"q\":\"1\",\"m\":false}", "unrecognised frame");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":\"false\"}", "field \"m\" is not a boolean");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":0}", "field \"m\" is not a boolean");
	NEW_SHAPE("{\"E\":-1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "field \"E\" is negative");
	NEW_SHAPE("{\"E\":1.79e18,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "field \"E\" is not an integer");
	NEW_SHAPE("{\"E\":17907326168970300700,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}",
			  "field \"E\" is out of range");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":\"t1\",\"p\":\"1\",\"q\":\"1\",\"m\":false}", "field \"t\" is not an integer");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":18446744073709551616,\"p\":\"1\",\"q\":\"1\",\"m\":false}",
			  "field \"t\" is out of range");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1,5\",\"q\":\"1\",\"m\":false}", "field \"p\" is not a decimal");
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"t\":1,\"p\":\"1\",\"q\":\"\",\"m\":false}", "field \"q\" is not a decimal");
	NEW_SHAPE("{\"E\":1,\"s\":\"x@trade\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "not a valid symbol");
	NEW_SHAPE("{\"E\":1,\"s\":[],\"t\":1,\"p\":\"1\",\"q\":\"1\",\"m\":false}", "field \"s\" is not a string");
	expect_prefixes_fail(__FILE__, __LINE__, 1, new_trade_frame);
}

static void
test_new_depth(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(nw(new_depth_frame, &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_UPDATE);
	CHECK_STR(m.symbol, "BTCUSD");
	CHECK_I64(m.first_update_id, INT64_C(1764559653003227));
	CHECK_I64(m.last_update_id, INT64_C(1764559653003235));
	CHECK_I64(m.event_time_ns, INT64_C(1790732606604219493));
	CHECK(m.n_levels == 3 && m.n_trades == 0);
	if (m.n_levels == 3)
	{
		CHECK(m.levels[0].is_bid && m.levels[1].is_bid && !m.levels[2].is_bid);
		CHECK_STR(m.levels[0].price, "83360.58000");
		CHECK_STR(m.levels[0].size, "0.0127374700");
		CHECK_STR(m.levels[1].price, "83361.33000");
		CHECK_STR(m.levels[1].size, "0.0000000000");
		CHECK_STR(m.levels[2].price, "83423.000");
		CHECK_STR(m.levels[2].size, "0.1441");
	}
	gw_message_free(&m);

	/* asks only; then nothing at all; U == u (a snapshot frame) is just an update */
	CHECK(nw("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"linkrlusd\",\"U\":5,\"u\":9,\"b\":[],"
			 "\"a\":[[\"7.8537500\",\"0.00000000\"],[\"7.8538800\",\"0\"]]}", &m, &e) == GP_OK);
	CHECK(m.n_levels == 2 && !m.levels[0].is_bid && !m.levels[1].is_bid);
	CHECK_STR(m.symbol, "LINKRLUSD");
	gw_message_free(&m);
	CHECK(nw("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[],\"a\":[]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_UPDATE && m.n_levels == 0 && m.levels == NULL);
	CHECK(m.first_update_id == 7 && m.last_update_id == 7);
	gw_message_free(&m);

	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"u\":7,\"b\":[],\"a\":[]}", "depthUpdate: missing field \"U\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"b\":[],\"a\":[]}", "depthUpdate: missing field \"u\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[],\"a\":[]}", "depthUpdate: missing field \"E\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"U\":7,\"u\":7,\"b\":[],\"a\":[]}", "missing field \"s\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"a\":[]}", "depthUpdate: missing field \"b\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[]}", "depthUpdate: missing field \"a\"");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":\"abc\",\"u\":7,\"b\":[],\"a\":[]}",
			  "field \"U\" is not an integer");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":-7,\"b\":[],\"a\":[]}", "field \"u\" is negative");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":\"1\",\"a\":[]}",
			  "field \"b\" is not an array");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[],\"a\":[[\"1\"]]}",
			  "a[0] is not an array of 2 values");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[[\"1\",\"2\",\"3\"]],\"a\":[]}",
			  "b[0] is not an array of 2 values");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[[\"1\",\"2\"],[\"buy\",\"2\"]],\"a\":[]}",
			  "b[1]: price is not a decimal");
	NEW_SHAPE("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[],\"a\":[[\"1\",true]]}",
			  "a[0]: size is not a decimal");
	NEW_SHAPE("{\"e\":7}", "field \"e\" is not a string");
	/* a depthUpdate without its "e" is not recognised */
	NEW_SHAPE("{\"E\":1,\"s\":\"x\",\"U\":7,\"u\":7,\"b\":[],\"a\":[]}", "unrecognised frame");
	expect_prefixes_fail(__FILE__, __LINE__, 1, new_depth_frame);
}

static void
test_new_ticker(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(nw(new_ticker_frame, &m, &e) == GP_OK);
	CHECK(m.kind == GW_TOP_OF_BOOK);
	CHECK_STR(m.symbol, "BTCGUSDPERP");
	CHECK_STR(m.bid, "83395.000");
	CHECK_STR(m.bid_size, "0.1440");
	CHECK_STR(m.ask, "83423.000");
	CHECK_STR(m.ask_size, "0.1441");
	CHECK_I64(m.last_update_id, INT64_C(1764528499302470));
	CHECK_I64(m.first_update_id, INT64_C(1764528499302470));
	CHECK_I64(m.event_time_ns, INT64_C(1790732601534707953));
	CHECK(m.n_levels == 0 && m.n_trades == 0);
	gw_message_free(&m);

	/* "" (and null) leave the field NULL so the caller can skip that side */
	CHECK(nw("{\"u\":1,\"E\":2,\"s\":\"ethusd\",\"b\":\"\",\"B\":\"\",\"a\":\"2000.1\",\"A\":null}",
			 &m, &e) == GP_OK);
	CHECK(m.kind == GW_TOP_OF_BOOK);
	CHECK(m.bid == NULL && m.bid_size == NULL && m.ask_size == NULL);
	CHECK_STR(m.ask, "2000.1");
	gw_message_free(&m);

	NEW_SHAPE("{\"u\":1,\"E\":2,\"s\":\"x\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\"}", "bookTicker: missing field \"A\"");
	NEW_SHAPE("{\"u\":1,\"E\":2,\"s\":\"x\",\"b\":\"1\",\"B\":\"1\",\"A\":\"1\"}", "bookTicker: missing field \"a\"");
	NEW_SHAPE("{\"u\":1,\"E\":2,\"s\":\"x\",\"b\":\"x\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
			  "bookTicker: field \"b\" is not a decimal");
	NEW_SHAPE("{\"u\":1,\"E\":2,\"s\":\"x\",\"b\":\" \",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}", "field \"b\"");
	NEW_SHAPE("{\"u\":1,\"E\":2,\"s\":\"x\",\"b\":\"1\",\"B\":[],\"a\":\"1\",\"A\":\"1\"}", "field \"B\"");
	NEW_SHAPE("{\"u\":1,\"s\":\"x\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}", "bookTicker: missing field \"E\"");
	NEW_SHAPE("{\"u\":\"one\",\"E\":2,\"s\":\"x\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
			  "bookTicker: field \"u\" is not an integer");
	NEW_SHAPE("{\"u\":1,\"E\":2,\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}", "missing field \"s\"");
	expect_prefixes_fail(__FILE__, __LINE__, 1, new_ticker_frame);
}

static void
test_new_replies(void)
{
	gw_message	m;
	gp_error	e;

	CHECK(nw("{\"id\":1,\"status\":200}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ACK);
	CHECK_STR(m.id, "1");
	CHECK(m.status == 200);
	CHECK_STR(m.error, "");
	CHECK_STR(m.symbol, "");
	gw_message_free(&m);

	CHECK(nw("{\"id\":\"md\",\"status\":200}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ACK);
	CHECK_STR(m.id, "md");
	gw_message_free(&m);

	CHECK(nw("{\"id\":\"time\",\"status\":200,\"result\":{\"serverTime\":1790732602153}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ACK && m.status == 200);
	CHECK_STR(m.id, "time");
	gw_message_free(&m);
	NEW_KIND("{\"id\":7,\"status\":200,\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"limit\":7000}]}",
			 GW_ACK, "");
	NEW_KIND("{\"id\":-3,\"status\":200}", GW_ACK, "");
	NEW_KIND("{\"id\":null,\"status\":200}", GW_ACK, "");

	/* an id longer than gw_message.id is cut, not refused */
	CHECK(nw("{\"id\":\"0123456789012345678901234567890123456789\",\"status\":200}", &m, &e) == GP_OK);
	CHECK_STR(m.id, "0123456789012345678901234567890");
	gw_message_free(&m);

	CHECK(nw("{\"id\":4,\"status\":400,\"error\":{\"code\":-1013,\"msg\":\"Invalid stream name: "
			 "nosuchperp@depth@100ms\"}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.id, "4");
	CHECK(m.status == 400);
	CHECK_STR(m.error, "Invalid stream name: nosuchperp@depth@100ms (code -1013)");
	CHECK(e.message[0] == '\0');
	gw_message_free(&m);

	CHECK(nw("{\"id\":11,\"status\":400,\"error\":{\"code\":-1020,\"msg\":\"Unsupported operation\"}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "Unsupported operation (code -1020)");
	gw_message_free(&m);

	CHECK(nw("{\"id\":\"a\",\"status\":429}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR && m.status == 429);
	CHECK_STR(m.error, "status 429");
	gw_message_free(&m);

	/* an "error" is an error whatever the status */
	CHECK(nw("{\"id\":\"a\",\"status\":200,\"error\":{\"msg\":\"odd\"}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "odd");
	gw_message_free(&m);
	CHECK(nw("{\"id\":\"a\",\"error\":{\"code\":-1002}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR && m.status == 0);
	CHECK_STR(m.error, "code -1002");
	gw_message_free(&m);
	CHECK(nw("{\"id\":\"a\",\"status\":401,\"error\":\"Authentication required\"}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "Authentication required");
	gw_message_free(&m);
	CHECK(nw("{\"error\":[1,\"x\"]}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "[1,\"x\"]");
	gw_message_free(&m);
	CHECK(nw("{\"id\":1,\"status\":400,\"error\":{}}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "status 400");
	gw_message_free(&m);
	CHECK(nw("{\"result\":\"error\",\"reason\":\"InvalidJson\"}", &m, &e) == GP_OK);
	CHECK(m.kind == GW_ERROR);
	CHECK_STR(m.error, "InvalidJson");
	gw_message_free(&m);

	NEW_SHAPE("{\"id\":1.5,\"status\":200}", "field \"id\" is not a string or an integer");
	NEW_SHAPE("{\"id\":{},\"status\":200}", "field \"id\"");
	NEW_SHAPE("{\"id\":\"a\\u0000b\",\"status\":200}", "field \"id\"");
	NEW_SHAPE("{\"id\":1,\"status\":\"ok\"}", "reply: field \"status\" is not an integer");
	NEW_SHAPE("{\"id\":1,\"status\":1000}", "field \"status\" is out of range");
	NEW_SHAPE("{\"id\":1,\"status\":-200}", "field \"status\" is negative");
	NEW_SHAPE("{\"id\":1,\"status\":99999999999999999999}", "field \"status\" is out of range");
}

static void
test_new_other(void)
{
	NEW_KIND("{\"e\":\"contractStatus\",\"E\":1784870400000,\"s\":\"gemi-btc15m2607241200-hi100000\","
			 "\"k\":\"btc15m2607241200\",\"c\":\"HI100000\",\"i\":134794,\"o\":\"Awaiting Approval\","
			 "\"n\":\"Approved\"}", GW_IGNORED, "GEMI-BTC15M2607241200-HI100000");
	NEW_KIND("{\"e\":\"markPrice\",\"E\":1,\"s\":\"btcgusdperp\"}", GW_IGNORED, "BTCGUSDPERP");
	NEW_KIND("{\"e\":\"\"}", GW_IGNORED, "");
	NEW_KIND("{\"lastUpdateId\":1,\"symbol\":\"btcusd\",\"bids\":[],\"asks\":[]}", GW_IGNORED, "BTCUSD");

	NEW_SHAPE("{}", "unrecognised frame");
	NEW_SHAPE("{\"type\":\"heartbeat\",\"timestamp\":1}", "unrecognised frame");
	NEW_SHAPE("[]", "expected a JSON object");
	NEW_SHAPE("true", "expected a JSON object");
	NEW_JSON("");
	NEW_JSON("{\"id\":1,\"status\":200");
	NEW_JSON("{\"id\":1,\"status\":200}x");
	NEW_JSON("\xef\xbb\xbf{\"id\":1}");
}

/* ---------------- builders ---------------- */

static json_object *
parse_back(const char *text)
{
	json_object *o = NULL;

	if (text != NULL)
		o = json_tokener_parse(text);
	CHECKF(o != NULL, "builder output does not parse: %s", text ? text : "(null)");
	return o;
}

static const char *
member_str(json_object *o, const char *key)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static void
test_builders(void)
{
	static const char *const syms[] = {"BTCUSD", "ethusd", " ltcusd\n", "BTC-GUSD-PERP"};
	char	   *s;
	gw_message	m;
	gp_error	e;

	s = gw_v2_subscribe(syms, 4, 0);
	CHECK_STR(s, "{\"type\":\"subscribe\",\"subscriptions\":[{\"name\":\"l2\",\"symbols\":"
			  "[\"BTCUSD\",\"ETHUSD\",\"LTCUSD\",\"BTC-GUSD-PERP\"]}]}");
	/* our own request, if it ever comes back, is not an error */
	if (s != NULL)
	{
		CHECK(v2(s, &m, &e) == GP_OK && m.kind == GW_IGNORED);
		gw_message_free(&m);
	}
	free(s);

	s = gw_v2_subscribe(syms, 2, 1);
	CHECK_STR(s, "{\"type\":\"subscribe\",\"subscriptions\":[{\"name\":\"l2\",\"symbols\":[\"BTCUSD\",\"ETHUSD\"]},"
			  "{\"name\":\"candles_1m\",\"symbols\":[\"BTCUSD\",\"ETHUSD\"]}]}");
	{
		json_object *o = parse_back(s);
		json_object *subs;

		CHECK_STR(member_str(o, "type"), "subscribe");
		CHECK(o != NULL && json_object_object_get_ex(o, "subscriptions", &subs) &&
			  json_object_array_length(subs) == 2);
		json_object_put(o);
	}
	free(s);

	s = gw_new_subscribe("md", syms, 3, 1, 1);
	CHECK_STR(s, "{\"id\":\"md\",\"method\":\"subscribe\",\"params\":[\"btcusd@trade\",\"btcusd@depth@100ms\","
			  "\"ethusd@trade\",\"ethusd@depth@100ms\",\"ltcusd@trade\",\"ltcusd@depth@100ms\"]}");
	{
		json_object *o = parse_back(s);
		json_object *params;

		CHECK_STR(member_str(o, "id"), "md");
		CHECK_STR(member_str(o, "method"), "subscribe");
		CHECK(o != NULL && json_object_object_get_ex(o, "params", &params) &&
			  json_object_array_length(params) == 6);
		json_object_put(o);
	}
	free(s);

	s = gw_new_subscribe("1", syms, 1, 1, 0);
	CHECK_STR(s, "{\"id\":\"1\",\"method\":\"subscribe\",\"params\":[\"btcusd@trade\"]}");
	free(s);
	s = gw_new_subscribe("1", syms + 3, 1, 0, 1);
	CHECK_STR(s, "{\"id\":\"1\",\"method\":\"subscribe\",\"params\":[\"btc-gusd-perp@depth@100ms\"]}");
	free(s);

	/* an id that needs escaping survives the trip, and the ack echoes it back */
	{
		const char *id = "q\"b\\s/\t\xc3\xa9";
		json_object *o;
		json_object *ack;

		s = gw_new_subscribe(id, syms, 1, 1, 1);
		o = parse_back(s);
		CHECK_STR(member_str(o, "id"), id);
		ack = json_object_new_object();
		json_object_object_add(ack, "id", json_object_new_string(id));
		json_object_object_add(ack, "status", json_object_new_int(200));
		{
			const char *text = json_object_to_json_string_ext(ack, JSON_C_TO_STRING_PLAIN);

			CHECK(nw(text, &m, &e) == GP_OK && m.kind == GW_ACK);
			CHECK_STR(m.id, id);
			gw_message_free(&m);
		}
		json_object_put(ack);
		json_object_put(o);
		free(s);
	}

	/* anything unusable is NULL, never a frame that means something else */
	{
		static const char *const bad1[] = {"BTCUSD", "btc@trade"};
		static const char *const bad2[] = {"BTC USD"};
		static const char *const bad3[] = {""};
		static const char *const bad4[] = {"  "};
		static const char *const bad5[] = {"BTCUSD", NULL};
		static const char *const bad6[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"};
		static const char *const bad7[] = {"BTC\"USD"};
		static const char *const bad8[] = {"btc\xc3\xa9usd"};
		static const char *const ok31[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"};

		CHECK(gw_v2_subscribe(bad1, 2, 0) == NULL);
		CHECK(gw_new_subscribe("1", bad1, 2, 1, 1) == NULL);
		CHECK(gw_v2_subscribe(bad2, 1, 0) == NULL);
		CHECK(gw_v2_subscribe(bad3, 1, 1) == NULL);
		CHECK(gw_new_subscribe("1", bad4, 1, 1, 0) == NULL);
		CHECK(gw_v2_subscribe(bad5, 2, 0) == NULL);
		CHECK(gw_new_subscribe("1", bad5, 2, 0, 1) == NULL);
		CHECK(gw_v2_subscribe(bad6, 1, 0) == NULL);
		CHECK(gw_new_subscribe("1", bad7, 1, 1, 1) == NULL);
		CHECK(gw_v2_subscribe(bad8, 1, 0) == NULL);
		CHECK(gw_v2_subscribe(NULL, 1, 0) == NULL);
		CHECK(gw_v2_subscribe(syms, 0, 1) == NULL);
		CHECK(gw_new_subscribe("1", syms, 0, 1, 1) == NULL);
		CHECK(gw_new_subscribe("1", NULL, 1, 1, 1) == NULL);
		CHECK(gw_new_subscribe("1", syms, 1, 0, 0) == NULL);
		CHECK(gw_new_subscribe(NULL, syms, 1, 1, 1) == NULL);
		CHECK(gw_new_subscribe("", syms, 1, 1, 1) == NULL);
		CHECK(gw_new_subscribe("0123456789012345678901234567890123", syms, 1, 1, 1) == NULL);
		CHECK(gw_new_subscribe("bad\xff", syms, 1, 1, 1) == NULL);

		s = gw_new_subscribe("0123456789012345678901234567890", ok31, 1, 1, 1);
		CHECK_STR(s, "{\"id\":\"0123456789012345678901234567890\",\"method\":\"subscribe\",\"params\":"
				  "[\"abcdefghijklmnopqrstuvwxyz01234@trade\",\"abcdefghijklmnopqrstuvwxyz01234@depth@100ms\"]}");
		free(s);
	}
}

/*
 * gw_v2_fast.c: the usual trade and book-update frames are read in one
 * pass, with the values gw_parse_v2 gives; anything else is declined (and
 * gw_parse_v2 then parses it with json-c, as the other groups check).
 */
static int
fast(const char *frame, gw_message *m)
{
	return gpi_parse_v2_fast(frame, strlen(frame), m);
}

static void
test_v2_fast(void)
{
	gw_message	m;
	static const char *const declined[] = {
		/* snapshots, errors, other types */
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[],\"trades\":[]}",
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[],\"auction_events\":[]}",
		"{\"result\":\"error\",\"type\":\"trade\",\"reason\":\"x\"}",
		"{\"type\":\"heartbeat\",\"timestamp\":1}",
		"{\"type\":\"candles_1m_updates\",\"symbol\":\"BTCUSD\",\"changes\":[]}",
		/* outside the subset */
		"{\"type\":\"trade\",\"symbol\":\"BTC\\u0055SD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":2,\"price\":1.5,\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"price\":\"2\",\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":-2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"BUY\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\",\"x\":{}}",
		"{\"type\":\"trade\",\"symbol\":\"BTC/USD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"}",
		"{\"type\":\"trade\",\"symbol\":\"BTCUSD\",\"tid\":1,\"timestamp\":2,\"price\":\"1\",\"quantity\":\"1\",\"side\":\"buy\"} x",
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[\"buy\",\"1\"]]}",
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[\"bid\",\"1\",\"2\"]]}",
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[\"buy\",1,\"2\"]]}",
		"{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\"}",
		"[]",
		"",
	};

	/* a trade: tid preferred to event_id, exact texts, upper-cased symbol */
	memset(&m, 0xAB, sizeof(m));
	CHECK(fast("{\"type\":\"trade\",\"symbol\":\"btcusd\",\"event_id\":7,\"tid\":\"1234567890123\","
			   "\"timestamp\":1700000000123,\"price\":\"36000.10\",\"quantity\":\"0.00010000\","
			   "\"side\":\"sell\",\"socket_sequence\":42}", &m));
	CHECK(m.kind == GW_TRADE);
	CHECK_STR(m.symbol, "BTCUSD");
	CHECK(m.n_trades == 1 && m.n_levels == 0);
	CHECK_I64(m.trades[0].tid, 1234567890123);
	CHECK_I64(m.trades[0].timestampms, 1700000000123);
	CHECK_STR(m.trades[0].price, "36000.10");
	CHECK_STR(m.trades[0].amount, "0.00010000");
	CHECK(m.trades[0].side == GP_SIDE_SELL);
	gw_message_free(&m);

	/* event_id alone (2021 traffic) */
	CHECK(fast(" {\"type\": \"trade\", \"symbol\": \"ETHUSD\", \"event_id\": 99, \"timestamp\": 5,"
			   " \"price\": \"1\", \"quantity\": \"2\", \"side\": \"buy\"}\n", &m));
	CHECK_I64(m.trades[0].tid, 99);
	gw_message_free(&m);

	/* a book update */
	CHECK(fast("{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[[\"buy\",\"9122.04\",\"0.00121425\"],"
			   " [\"sell\",\"9122.05\",\"0\"]]}", &m));
	CHECK(m.kind == GW_BOOK_UPDATE);
	CHECK(m.n_levels == 2 && m.n_trades == 0);
	CHECK(m.levels[0].is_bid == 1 && m.levels[1].is_bid == 0);
	CHECK_STR(m.levels[0].price, "9122.04");
	CHECK_STR(m.levels[0].size, "0.00121425");
	CHECK_STR(m.levels[1].size, "0");
	gw_message_free(&m);

	/* no changes at all */
	CHECK(fast("{\"type\":\"l2_updates\",\"symbol\":\"BTCUSD\",\"changes\":[]}", &m));
	CHECK(m.kind == GW_BOOK_UPDATE && m.n_levels == 0 && m.levels == NULL);
	gw_message_free(&m);

	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
	{
		gw_message	z;
		gw_message	full;
		gp_error	e;

		memset(&m, 0, sizeof(m));
		memset(&z, 0, sizeof(z));
		CHECKF(!fast(declined[i], &m), "fast path declines %s", declined[i]);
		CHECKF(memcmp(&m, &z, sizeof(m)) == 0, "declining leaves the message alone: %s", declined[i]);
		/* and gw_parse_v2 still parses it (or fails) through json-c, without a crash */
		(void) gw_parse_v2(declined[i], strlen(declined[i]), &full, &e);
		gw_message_free(&full);
	}
}

void
test_ws(void)
{
	test_v2_fast();
	test_v2_heartbeat();
	test_v2_trade();
	test_v2_trade_bad();
	test_v2_book();
	test_v2_candles();
	test_v2_other();
	test_new_trade();
	test_new_depth();
	test_new_ticker();
	test_new_replies();
	test_new_other();
	test_builders();
}
