/*
 * test_trades.c
 *	  gp_parse_trades on hand-made bodies: every element-level edge case
 *	  (integers as strings, int64 limits, missing and mistyped fields, unknown
 *	  type, broken) plus page-level shapes and a generated 500-trade page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini_parse.h"
#include "test_util.h"

/*
 * One trade object; each argument is the raw JSON text of that member's
 * value, or NULL to leave the member out.
 */
static void
make_elem(char *buf, size_t size, const char *tid, const char *ts,
		  const char *price, const char *amount, const char *type, const char *broken)
{
	size_t		n = 0;

	n += snprintf(buf + n, size - n, "{\"timestamp\":1547146811");
	if (ts)
		n += snprintf(buf + n, size - n, ",\"timestampms\":%s", ts);
	if (tid)
		n += snprintf(buf + n, size - n, ",\"tid\":%s", tid);
	if (price)
		n += snprintf(buf + n, size - n, ",\"price\":%s", price);
	if (amount)
		n += snprintf(buf + n, size - n, ",\"amount\":%s", amount);
	n += snprintf(buf + n, size - n, ",\"exchange\":\"gemini\"");
	if (type)
		n += snprintf(buf + n, size - n, ",\"type\":%s", type);
	if (broken)
		n += snprintf(buf + n, size - n, ",\"broken\":%s", broken);
	snprintf(buf + n, size - n, "}");
}

/* Parse "[elem]" into *p; returns the status. */
static gp_status
parse_one(const char *elem, gp_trades_page *p, gp_error *e)
{
	char		body[4096];

	snprintf(body, sizeof(body), "[%s]", elem);
	return gp_parse_trades(body, strlen(body), p, e);
}

/* The bad_reason of a one-element page built from the given members. */
static void
expect_bad(const char *file, int line, const char *tid, const char *ts,
		   const char *price, const char *amount, const char *type,
		   const char *broken, const char *want_reason, int want_has_tid)
{
	char		elem[2048];
	gp_trades_page p;
	gp_error	e;
	gp_status	st;

	make_elem(elem, sizeof(elem), tid, ts, price, amount, type, broken);
	st = parse_one(elem, &p, &e);
	t_check(st == GP_OK && p.n == 1, file, line, "page with %s did not parse (%d: %s)",
			elem, (int) st, e.message);
	if (st == GP_OK && p.n == 1)
	{
		t_check_str(p.trades[0].bad_reason, want_reason, file, line, elem);
		t_check(p.n_bad == 1, file, line, "n_bad is %zu for %s", p.n_bad, elem);
		t_check(p.trades[0].has_tid == want_has_tid, file, line,
				"has_tid is %d for %s", p.trades[0].has_tid, elem);
		t_check_str(p.trades[0].raw, elem, file, line, "raw");
	}
	gp_trades_page_free(&p);
}

#define EXPECT_BAD(tid, ts, price, amount, type, broken, reason, has_tid) \
	expect_bad(__FILE__, __LINE__, tid, ts, price, amount, type, broken, reason, has_tid)

/* Defaults of a good element, for building variants. */
#define TID "5335307668"
#define TS "1547146811357"
#define PRICE "\"3610.85\""
#define AMOUNT "\"0.27413495\""
#define TYPE "\"buy\""

static void
test_good_element(void)
{
	char		elem[1024];
	gp_trades_page p;
	gp_error	e;
	const gp_trade *t;

	make_elem(elem, sizeof(elem), TID, TS, PRICE, AMOUNT, TYPE, "false");
	CHECK(parse_one(elem, &p, &e) == GP_OK);
	CHECK(p.n == 1 && p.n_bad == 0 && p.priv != NULL);
	t = &p.trades[0];
	CHECK_I64(t->tid, INT64_C(5335307668));
	CHECK_I64(t->timestampms, INT64_C(1547146811357));
	CHECK_STR(t->price, "3610.85");
	CHECK_STR(t->amount, "0.27413495");
	CHECK(t->side == GP_SIDE_BUY);
	CHECK(t->broken == 0);
	CHECK(t->bad_reason == NULL);
	CHECK(t->has_tid == 1);
	CHECK_STR(t->raw, elem);
	gp_trades_page_free(&p);
	/* freeing twice (or a zeroed page) is harmless */
	gp_trades_page_free(&p);
	CHECK(p.trades == NULL && p.n == 0 && p.priv == NULL);
	gp_trades_page_free(NULL);
}

static void
test_integers(void)
{
	char		elem[1024];
	gp_trades_page p;
	gp_error	e;

	/* integers sent as strings (as ccxt recordings show) */
	make_elem(elem, sizeof(elem), "\"2840140831246421\"", "\"1710325796526\"",
			  PRICE, AMOUNT, TYPE, NULL);
	CHECK(parse_one(elem, &p, &e) == GP_OK && p.n_bad == 0);
	CHECK_I64(p.trades[0].tid, INT64_C(2840140831246421));
	CHECK_I64(p.trades[0].timestampms, INT64_C(1710325796526));
	CHECK(p.trades[0].broken == -1);
	gp_trades_page_free(&p);

	/* int64 max is fine as a number and as a string */
	make_elem(elem, sizeof(elem), "9223372036854775807", TS, PRICE, AMOUNT, TYPE, NULL);
	CHECK(parse_one(elem, &p, &e) == GP_OK && p.n_bad == 0);
	CHECK_I64(p.trades[0].tid, INT64_MAX);
	gp_trades_page_free(&p);
	make_elem(elem, sizeof(elem), "\"9223372036854775807\"", TS, PRICE, AMOUNT, TYPE, NULL);
	CHECK(parse_one(elem, &p, &e) == GP_OK && p.n_bad == 0);
	CHECK_I64(p.trades[0].tid, INT64_MAX);
	gp_trades_page_free(&p);

	/* one more is out of range, whatever json-c does with it */
	EXPECT_BAD("9223372036854775808", TS, PRICE, AMOUNT, TYPE, NULL,
			   "field \"tid\" is out of range", 0);
	EXPECT_BAD("\"9223372036854775808\"", TS, PRICE, AMOUNT, TYPE, NULL,
			   "field \"tid\" is out of range", 0);
	EXPECT_BAD("18446744073709551615", TS, PRICE, AMOUNT, TYPE, NULL,
			   "field \"tid\" is out of range", 0);
	/* beyond uint64: json-c saturates silently; we must still notice */
	EXPECT_BAD("99999999999999999999999", TS, PRICE, AMOUNT, TYPE, NULL,
			   "field \"tid\" is out of range", 0);
	EXPECT_BAD("-99999999999999999999999", TS, PRICE, AMOUNT, TYPE, NULL,
			   "field \"tid\" is out of range", 0);

	/* negative ids are not trades */
	EXPECT_BAD("-5", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is negative", 0);
	EXPECT_BAD("\"-5\"", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is negative", 0);
	EXPECT_BAD(TID, "-1", PRICE, AMOUNT, TYPE, NULL, "field \"timestampms\" is negative", 1);

	/* zero is a valid (if odd) value */
	make_elem(elem, sizeof(elem), "0", "0", PRICE, AMOUNT, TYPE, NULL);
	CHECK(parse_one(elem, &p, &e) == GP_OK && p.n_bad == 0 && p.trades[0].tid == 0);
	gp_trades_page_free(&p);

	/* wrong types for an integer */
	EXPECT_BAD("1.5", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("1e3", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("5335307668.0", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("true", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("null", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("{}", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("[1]", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("\"12a\"", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("\" 12\"", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("\"\"", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD("\"1\\u00002\"", TS, PRICE, AMOUNT, TYPE, NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD(TID, "1.5", PRICE, AMOUNT, TYPE, NULL, "field \"timestampms\" is not an integer", 1);
	EXPECT_BAD(TID, "\"x\"", PRICE, AMOUNT, TYPE, NULL, "field \"timestampms\" is not an integer", 1);
}

static void
test_missing_and_mistyped(void)
{
	char		elem[1024];
	gp_trades_page p;
	gp_error	e;

	EXPECT_BAD(NULL, TS, PRICE, AMOUNT, TYPE, NULL, "missing field \"tid\"", 0);
	EXPECT_BAD(TID, NULL, PRICE, AMOUNT, TYPE, NULL, "missing field \"timestampms\"", 1);
	EXPECT_BAD(TID, TS, NULL, AMOUNT, TYPE, NULL, "missing field \"price\"", 1);
	EXPECT_BAD(TID, TS, PRICE, NULL, TYPE, NULL, "missing field \"amount\"", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, NULL, NULL, "missing field \"type\"", 1);

	/* a bad element keeps its readable tid and other fields */
	make_elem(elem, sizeof(elem), TID, TS, NULL, AMOUNT, "\"sell\"", "true");
	CHECK(parse_one(elem, &p, &e) == GP_OK);
	CHECK(p.trades[0].has_tid && p.trades[0].tid == INT64_C(5335307668));
	CHECK(p.trades[0].price == NULL);
	CHECK_STR(p.trades[0].amount, "0.27413495");
	CHECK(p.trades[0].side == GP_SIDE_SELL && p.trades[0].broken == 1);
	gp_trades_page_free(&p);

	/* the first problem in field order is the one reported */
	EXPECT_BAD("true", TS, "{}", AMOUNT, "\"foo\"", NULL, "field \"tid\" is not an integer", 0);
	EXPECT_BAD(TID, TS, "{}", "[]", "\"foo\"", "1", "field \"price\" is not a decimal", 1);

	/* decimals */
	EXPECT_BAD(TID, TS, "{\"v\":\"1\"}", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "\"abc\"", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "\"\"", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "\"NaN\"", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "NaN", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "Infinity", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "\" 1\"", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "\"1.2.3\"", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "null", AMOUNT, TYPE, NULL, "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, "99999999999999999999999", AMOUNT, TYPE, NULL,
			   "field \"price\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, PRICE, "false", TYPE, NULL, "field \"amount\" is not a decimal", 1);
	EXPECT_BAD(TID, TS, PRICE, "\"1e\"", TYPE, NULL, "field \"amount\" is not a decimal", 1);

	/* type */
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "\"foo\"", NULL, "unknown type \"foo\"", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "\"BUY\"", NULL, "unknown type \"BUY\"", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "\"\"", NULL, "unknown type \"\"", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "\"a\\\"b\\nc\"", NULL, "unknown type \"a?b?c\"", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "1", NULL, "field \"type\" is not a string", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "null", NULL, "field \"type\" is not a string", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, "\"buy\\u0000\"", NULL, "field \"type\" is not a string", 1);
	/* a long unknown type is shortened in the message */
	EXPECT_BAD(TID, TS, PRICE, AMOUNT,
			   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", NULL,
			   "unknown type \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", 1);

	/* broken */
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, TYPE, "\"yes\"", "field \"broken\" is not a boolean", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, TYPE, "1", "field \"broken\" is not a boolean", 1);
	EXPECT_BAD(TID, TS, PRICE, AMOUNT, TYPE, "null", "field \"broken\" is not a boolean", 1);
}

/* A good element with the given value members; checks price/amount/side/broken. */
static void
expect_good(const char *file, int line, const char *price, const char *amount,
			const char *type, const char *broken, const char *want_price,
			const char *want_amount, gp_side want_side, int want_broken)
{
	char		elem[1024];
	gp_trades_page p;
	gp_error	e;

	make_elem(elem, sizeof(elem), TID, TS, price, amount, type, broken);
	if (!t_check(parse_one(elem, &p, &e) == GP_OK && p.n == 1, file, line,
				 "%s did not parse: %s", elem, e.message))
		return;
	t_check(p.n_bad == 0, file, line, "%s is bad: %s", elem,
			p.trades[0].bad_reason ? p.trades[0].bad_reason : "");
	t_check_str(p.trades[0].price, want_price, file, line, "price");
	t_check_str(p.trades[0].amount, want_amount, file, line, "amount");
	t_check(p.trades[0].side == want_side, file, line, "side of %s", elem);
	t_check(p.trades[0].broken == want_broken, file, line, "broken of %s", elem);
	gp_trades_page_free(&p);
}

#define EXPECT_GOOD(price, amount, type, broken, wp, wa, ws, wb) \
	expect_good(__FILE__, __LINE__, price, amount, type, broken, wp, wa, ws, wb)

static void
test_good_variants(void)
{
	/* sides */
	EXPECT_GOOD(PRICE, AMOUNT, "\"sell\"", NULL, "3610.85", "0.27413495", GP_SIDE_SELL, -1);
	EXPECT_GOOD(PRICE, AMOUNT, "\"auction\"", NULL, "3610.85", "0.27413495", GP_SIDE_AUCTION, -1);
	EXPECT_GOOD(PRICE, AMOUNT, "\"block\"", NULL, "3610.85", "0.27413495", GP_SIDE_BLOCK, -1);
	/* escapes decode: "b\u0075y" is "buy" */
	EXPECT_GOOD(PRICE, AMOUNT, "\"b\\u0075y\"", NULL, "3610.85", "0.27413495", GP_SIDE_BUY, -1);
	/* broken true / false / absent */
	EXPECT_GOOD(PRICE, AMOUNT, TYPE, "true", "3610.85", "0.27413495", GP_SIDE_BUY, 1);
	EXPECT_GOOD(PRICE, AMOUNT, TYPE, "false", "3610.85", "0.27413495", GP_SIDE_BUY, 0);
	EXPECT_GOOD(PRICE, AMOUNT, TYPE, NULL, "3610.85", "0.27413495", GP_SIDE_BUY, -1);
	/* a price as a JSON number keeps its literal text (json-c keeps it) */
	EXPECT_GOOD("3610.85", "0.27413495", TYPE, NULL, "3610.85", "0.27413495", GP_SIDE_BUY, -1);
	EXPECT_GOOD("1E-8", "1.50000000", TYPE, NULL, "1E-8", "1.50000000", GP_SIDE_BUY, -1);
	EXPECT_GOOD("3610.850000000000000000001", "2.5e-3", TYPE, NULL,
				"3610.850000000000000000001", "2.5e-3", GP_SIDE_BUY, -1);
	/* an integer JSON number is printed exactly, even beyond 2^53 */
	EXPECT_GOOD("3610", "9007199254740993", TYPE, NULL, "3610", "9007199254740993", GP_SIDE_BUY, -1);
	EXPECT_GOOD("18446744073709551614", "1", TYPE, NULL, "18446744073709551614", "1", GP_SIDE_BUY, -1);
	/* decimal strings in all the forms numeric_in takes */
	EXPECT_GOOD("\".5\"", "\"5.\"", TYPE, NULL, ".5", "5.", GP_SIDE_BUY, -1);
	EXPECT_GOOD("\"1E-8\"", "\"-0.1\"", TYPE, NULL, "1E-8", "-0.1", GP_SIDE_BUY, -1);
}

static void
test_page_shapes(void)
{
	gp_trades_page p;
	gp_error	e;
	const char *body;
	char		elem[1024];
	char		buf[4096];

	/* empty array */
	CHECK(gp_parse_trades("[]", 2, &p, &e) == GP_OK && p.n == 0 && p.n_bad == 0);
	CHECK(p.trades == NULL);
	gp_trades_page_free(&p);
	CHECK(gp_parse_trades(" \r\n[ \t]\n", 8, &p, &e) == GP_OK && p.n == 0);
	gp_trades_page_free(&p);

	/* elements that are not objects: bad, with their JSON text as raw */
	body = "[1, \"x\" ,null,[],{},true]";
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_OK);
	CHECK(p.n == 6 && p.n_bad == 6);
	if (p.n == 6)
	{
		CHECK_STR(p.trades[0].bad_reason, "element is not an object");
		CHECK_STR(p.trades[0].raw, "1");
		CHECK_STR(p.trades[1].raw, "\"x\"");
		CHECK_STR(p.trades[2].raw, "null");
		CHECK_STR(p.trades[2].bad_reason, "element is not an object");
		CHECK_STR(p.trades[3].raw, "[]");
		CHECK_STR(p.trades[4].raw, "{}");
		CHECK_STR(p.trades[4].bad_reason, "missing field \"tid\"");
		CHECK_STR(p.trades[5].raw, "true");
	}
	gp_trades_page_free(&p);

	/* good, bad, good: order kept, only the bad one counted */
	{
		char		e1[512], e2[512], e3[512];

		make_elem(e1, sizeof(e1), "3", TS, PRICE, AMOUNT, TYPE, NULL);
		make_elem(e2, sizeof(e2), "2", TS, "\"x\"", AMOUNT, TYPE, NULL);
		make_elem(e3, sizeof(e3), "1", TS, PRICE, AMOUNT, "\"sell\"", NULL);
		snprintf(buf, sizeof(buf), "[%s,\n  %s ,%s]", e1, e2, e3);
	}
	CHECK(gp_parse_trades(buf, strlen(buf), &p, &e) == GP_OK);
	CHECK(p.n == 3 && p.n_bad == 1);
	if (p.n == 3)
	{
		CHECK(p.trades[0].tid == 3 && p.trades[0].bad_reason == NULL);
		CHECK(p.trades[1].tid == 2 && p.trades[1].bad_reason != NULL && p.trades[1].has_tid);
		CHECK(p.trades[2].tid == 1 && p.trades[2].side == GP_SIDE_SELL);
		CHECK(strncmp(p.trades[1].raw, "{\"timestamp\"", 12) == 0);
		CHECK(p.trades[1].raw[strlen(p.trades[1].raw) - 1] == '}');
	}
	gp_trades_page_free(&p);

	/* raw keeps the element's bytes exactly, inner whitespace and escapes too */
	body = "[ {\"tid\": 7, \"timestampms\" : 8,\n \"price\":\"1\", \"amount\":\"2\",\"type\":\"buy\", \"x\":\"a\\/b]}\"} ]";
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_OK && p.n == 1 && p.n_bad == 0);
	if (p.n == 1)
		CHECK_STR(p.trades[0].raw, "{\"tid\": 7, \"timestampms\" : 8,\n \"price\":\"1\", \"amount\":\"2\",\"type\":\"buy\", \"x\":\"a\\/b]}\"}");
	gp_trades_page_free(&p);

	/* not an array */
	body = "{\"tid\":1}";
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_ERR_SHAPE);
	CHECK(strstr(e.message, "array") != NULL && strstr(e.message, "object") != NULL);
	CHECK(p.n == 0 && p.trades == NULL && p.priv == NULL);
	CHECK(gp_parse_trades("\"x\"", 3, &p, &e) == GP_ERR_SHAPE);
	CHECK(gp_parse_trades("null", 4, &p, &e) == GP_ERR_SHAPE);
	CHECK(gp_parse_trades("123", 3, &p, &e) == GP_ERR_SHAPE);
	CHECK(gp_parse_trades("true", 4, &p, &e) == GP_ERR_SHAPE);
	/* {"result":"ok"} is not an error object: just the wrong shape */
	body = "{\"result\":\"ok\",\"reason\":\"x\"}";
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_ERR_SHAPE);
	CHECK(e.reason[0] == '\0');

	/* the API error object */
	body = "{\"result\":\"error\",\"reason\":\"InvalidSymbol\",\"message\":\"Received unsupported symbol 'nosuch'\"}";
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_ERR_API);
	CHECK_STR(e.reason, "InvalidSymbol");
	CHECK_STR(e.api_message, "Received unsupported symbol 'nosuch'");
	CHECK(strstr(e.message, "InvalidSymbol") != NULL);
	CHECK(p.n == 0 && p.trades == NULL);
	gp_trades_page_free(&p);

	/* err may be NULL */
	make_elem(elem, sizeof(elem), TID, TS, PRICE, AMOUNT, TYPE, NULL);
	snprintf(buf, sizeof(buf), "[%s]", elem);
	CHECK(gp_parse_trades(buf, strlen(buf), &p, NULL) == GP_OK && p.n == 1);
	gp_trades_page_free(&p);
	CHECK(gp_parse_trades("", 0, &p, NULL) == GP_ERR_JSON);
	CHECK(gp_parse_trades(body, strlen(body), &p, NULL) == GP_ERR_API);

	/* the body need not be NUL-terminated: only len bytes are read */
	memcpy(buf, "[]]]]", 5);
	CHECK(gp_parse_trades(buf, 2, &p, &e) == GP_OK && p.n == 0);
	gp_trades_page_free(&p);
}

/*
 * A generated 500-trade page (the size of a real one), newest first:
 * everything must come back in order, exact, with raw equal to each
 * element's text.
 */
static void
test_big_page(void)
{
	enum
	{
		N = 500
	};
	char	   *body = malloc(N * 256 + 16);
	char	  **elems = malloc(N * sizeof(char *));
	size_t		len = 0;
	gp_trades_page p;
	gp_error	e;
	int			i;
	int			all_ok = 1;

	body[len++] = '[';
	for (i = 0; i < N; i++)
	{
		char		tid[32], ts[32], price[32], amount[32];

		elems[i] = malloc(256);
		/* alternate numbers and strings for the integers */
		snprintf(tid, sizeof(tid), i % 2 ? "%" PRId64 : "\"%" PRId64 "\"",
				 INT64_C(2840140831246421) - i);
		snprintf(ts, sizeof(ts), "%" PRId64, INT64_C(1710325796526) - i * 7);
		snprintf(price, sizeof(price), "\"%d.%02d\"", 73000 + i, i % 100);
		snprintf(amount, sizeof(amount), "\"0.%08d\"", i * 12345 + 1);
		make_elem(elems[i], 256, tid, ts, price, amount,
				  i % 3 ? "\"buy\"" : "\"sell\"", NULL);
		len += (size_t) sprintf(body + len, "%s%s", i ? "," : "", elems[i]);
	}
	body[len++] = ']';

	CHECK(gp_parse_trades(body, len, &p, &e) == GP_OK);
	CHECK(p.n == N && p.n_bad == 0);
	for (i = 0; i < N && (size_t) i < p.n; i++)
	{
		const gp_trade *t = &p.trades[i];
		char		price[32], amount[32];

		snprintf(price, sizeof(price), "%d.%02d", 73000 + i, i % 100);
		snprintf(amount, sizeof(amount), "0.%08d", i * 12345 + 1);
		if (t->tid != INT64_C(2840140831246421) - i ||
			t->timestampms != INT64_C(1710325796526) - i * 7 ||
			strcmp(t->price, price) != 0 || strcmp(t->amount, amount) != 0 ||
			t->side != (i % 3 ? GP_SIDE_BUY : GP_SIDE_SELL) ||
			strcmp(t->raw, elems[i]) != 0 || t->bad_reason != NULL)
		{
			CHECKF(0, "trade %d of the 500-trade page differs", i);
			all_ok = 0;
			break;
		}
	}
	CHECK(all_ok);
	gp_trades_page_free(&p);
	for (i = 0; i < N; i++)
		free(elems[i]);
	free(elems);
	free(body);
}

/*
 * Tiny elements with long bad_reasons need more than the arena's first
 * block (sized from the body): the arena must chain blocks and every
 * pointer must stay valid.
 */
static void
test_arena_growth(void)
{
	enum
	{
		N = 3000
	};
	const char *elem = "{\"type\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}";
	size_t		elen = strlen(elem);
	char	   *body = malloc(N * (elen + 1) + 2);
	size_t		len = 0;
	gp_trades_page p;
	gp_error	e;
	int			i;
	int			ok = 1;

	body[len++] = '[';
	for (i = 0; i < N; i++)
	{
		if (i)
			body[len++] = ',';
		memcpy(body + len, elem, elen);
		len += elen;
	}
	body[len++] = ']';
	CHECK(gp_parse_trades(body, len, &p, &e) == GP_OK && p.n == N && p.n_bad == N);
	for (i = 0; i < N && (size_t) i < p.n; i++)
		if (strcmp(p.trades[i].raw, elem) != 0 ||
			strcmp(p.trades[i].bad_reason, "missing field \"tid\"") != 0)
			ok = 0;
	CHECK(ok);
	gp_trades_page_free(&p);
	free(body);
}

/*
 * Several large pages alive at once and freed in any order (the arena keeps
 * one spare block for reuse; results must never share memory).
 */
static void
test_pages_alive_together(void)
{
	char	   *bodies[3];
	gp_trades_page pages[3];
	gp_error	e;
	int			k;
	int			i;
	int			ok = 1;

	for (k = 0; k < 3; k++)
	{
		size_t		len = 0;
		int			n = 200 * (k + 1);

		bodies[k] = malloc((size_t) n * 256 + 3);
		bodies[k][len++] = '[';
		for (i = 0; i < n; i++)
		{
			char		tid[32];

			snprintf(tid, sizeof(tid), "%d", k * 100000 + i);
			if (i)
				bodies[k][len++] = ',';
			make_elem(bodies[k] + len, 256, tid, TS, PRICE, AMOUNT, TYPE, NULL);
			len += strlen(bodies[k] + len);
		}
		bodies[k][len++] = ']';
		bodies[k][len] = '\0';
		CHECK(gp_parse_trades(bodies[k], len, &pages[k], &e) == GP_OK);
		CHECK(pages[k].n == (size_t) n && pages[k].n_bad == 0);
		if (k == 1)
		{
			/* free the first while others live, then parse again */
			gp_trades_page_free(&pages[0]);
			CHECK(gp_parse_trades(bodies[0], strlen(bodies[0]), &pages[0], &e) == GP_OK);
		}
	}
	/* bodies are no longer needed: results own their memory */
	for (k = 0; k < 3; k++)
	{
		for (i = 0; (size_t) i < pages[k].n; i++)
			if (pages[k].trades[i].tid != k * 100000 + i ||
				strcmp(pages[k].trades[i].price, "3610.85") != 0)
				ok = 0;
		memset(bodies[k], 'x', strlen(bodies[k]));
	}
	for (k = 0; k < 3; k++)
		for (i = 0; (size_t) i < pages[k].n; i++)
			if (pages[k].trades[i].raw[0] != '{')
				ok = 0;
	CHECK(ok);
	gp_trades_page_free(&pages[1]);
	gp_trades_page_free(&pages[0]);
	gp_trades_page_free(&pages[2]);
	for (k = 0; k < 3; k++)
		free(bodies[k]);
}

void
test_trades(void)
{
	test_good_element();
	test_integers();
	test_missing_and_mistyped();
	test_good_variants();
	test_page_shapes();
	test_big_page();
	test_arena_growth();
	test_pages_alive_together();
}
