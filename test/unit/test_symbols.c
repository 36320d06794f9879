/*
 * test_symbols.c
 *	  gp_parse_symbol_list and gp_parse_symbol_details on hand-made bodies.
 */
#include <string.h>

#include "gemini_parse.h"
#include "test_util.h"

static void
test_list(void)
{
	gp_symbol_list l;
	gp_error	e;
	const char *body;

	body = "[\"btcusd\",\"ethusd\", \"btcgusdperp\"]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_OK);
	CHECK(l.n == 3);
	if (l.n == 3)
	{
		CHECK_STR(l.symbols[0], "btcusd");
		CHECK_STR(l.symbols[1], "ethusd");
		CHECK_STR(l.symbols[2], "btcgusdperp");
	}
	gp_symbol_list_free(&l);
	gp_symbol_list_free(&l);

	CHECK(gp_parse_symbol_list("[]", 2, &l, &e) == GP_OK && l.n == 0 && l.symbols == NULL);
	gp_symbol_list_free(&l);

	body = "[\"btcusd\",1]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	CHECK(strstr(e.message, "element 1") != NULL);
	CHECK(l.n == 0 && l.symbols == NULL && l.priv == NULL);
	body = "[\"\"]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "[\"btc\\u0000usd\"]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "[null]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "[[\"btcusd\"]]";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "{\"symbols\":[\"btcusd\"]}";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "\"btcusd\"";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_SHAPE);
	body = "{\"result\":\"error\",\"reason\":\"Maintenance\",\"message\":\"down\"}";
	CHECK(gp_parse_symbol_list(body, strlen(body), &l, &e) == GP_ERR_API);
	CHECK_STR(e.reason, "Maintenance");
	CHECK_STR(e.api_message, "down");
}

/* Parse details; returns the status and leaves d filled. */
static gp_status
details(const char *body, gp_symbol_details *d, gp_error *e)
{
	return gp_parse_symbol_details(body, strlen(body), d, e);
}

static void
test_details(void)
{
	gp_symbol_details d;
	gp_error	e;
	const char *body;

	body = "{\"symbol\":\"BTCUSD\",\"base_currency\":\"BTC\",\"quote_currency\":\"USD\","
		"\"tick_size\":1E-8,\"quote_increment\":0.01,\"min_order_size\":\"0.00001\","
		"\"status\":\"open\"}";
	CHECK(details(body, &d, &e) == GP_OK);
	CHECK_STR(d.symbol, "BTCUSD");
	CHECK_STR(d.base_currency, "BTC");
	CHECK_STR(d.quote_currency, "USD");
	CHECK_STR(d.tick_size, "1E-8");
	CHECK_STR(d.quote_increment, "0.01");
	CHECK_STR(d.min_order_size, "0.00001");
	CHECK_STR(d.status, "open");
	CHECK(d.product_type == NULL && d.contract_type == NULL);
	CHECK_STR(d.raw, body);
	CHECK(d.priv != NULL);
	gp_symbol_details_free(&d);
	CHECK(d.symbol == NULL && d.priv == NULL);
	gp_symbol_details_free(&d);

	/* raw is the object's bytes, without surrounding whitespace */
	CHECK(details("  {\"symbol\" : \"X\"}\n", &d, &e) == GP_OK);
	CHECK_STR(d.raw, "{\"symbol\" : \"X\"}");
	CHECK(d.base_currency == NULL && d.tick_size == NULL && d.status == NULL);
	gp_symbol_details_free(&d);

	/* decimals as strings, integers, nulls; optional fields; unknown keys */
	body = "{\"symbol\":\"BTCGUSDPERP\",\"tick_size\":\"0.5\",\"quote_increment\":1,"
		"\"min_order_size\":0.0001,\"status\":null,\"product_type\":\"swap\","
		"\"contract_type\":\"linear\",\"wrap_enabled\":false,\"extra\":{\"a\":[1]}}";
	CHECK(details(body, &d, &e) == GP_OK);
	CHECK_STR(d.tick_size, "0.5");
	CHECK_STR(d.quote_increment, "1");
	CHECK_STR(d.min_order_size, "0.0001");
	CHECK(d.status == NULL);
	CHECK_STR(d.product_type, "swap");
	CHECK_STR(d.contract_type, "linear");
	gp_symbol_details_free(&d);

	/* problems */
	CHECK(details("{\"base_currency\":\"BTC\"}", &d, &e) == GP_ERR_SHAPE);
	CHECK(strstr(e.message, "symbol") != NULL);
	CHECK(d.symbol == NULL && d.raw == NULL && d.priv == NULL);
	CHECK(details("{\"symbol\":5}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":\"\"}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":null}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":\"X\",\"tick_size\":true}", &d, &e) == GP_ERR_SHAPE);
	CHECK(strstr(e.message, "tick_size") != NULL);
	CHECK(details("{\"symbol\":\"X\",\"tick_size\":\"abc\"}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":\"X\",\"quote_increment\":NaN}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":\"X\",\"min_order_size\":[]}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"symbol\":\"X\",\"status\":1}", &d, &e) == GP_ERR_SHAPE);
	CHECK(strstr(e.message, "status") != NULL);
	CHECK(details("{\"symbol\":\"X\",\"base_currency\":{}}", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("[{\"symbol\":\"X\"}]", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("\"BTCUSD\"", &d, &e) == GP_ERR_SHAPE);
	CHECK(details("{\"result\":\"error\",\"reason\":\"InvalidSymbol\",\"message\":\"nope\"}",
				  &d, &e) == GP_ERR_API);
	CHECK_STR(e.reason, "InvalidSymbol");
	CHECK(d.symbol == NULL && d.priv == NULL);
	gp_symbol_details_free(&d);
}

void
test_symbols(void)
{
	test_list();
	test_details();
}
