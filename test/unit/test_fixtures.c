/*
 * test_fixtures.c
 *	  The parsers against real recorded Gemini bodies in test/fixtures.
 *
 * Expected values are taken from the fixture text itself by plain string
 * search (not by another JSON parser's number handling), so "exact" means
 * byte-for-byte what Gemini sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gemini_parse.h"
#include "test_util.h"

/*
 * The text that follows key in line up to (not including) the first byte
 * of stop, copied into buf; "" when key is absent.
 */
static const char *
text_after(const char *line, const char *key, const char *stop, char *buf, size_t size)
{
	const char *p = strstr(line, key);
	size_t		n;

	buf[0] = '\0';
	if (p == NULL)
		return buf;
	p += strlen(key);
	n = strcspn(p, stop);
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void
test_trades_ccxt(void)
{
	size_t		len;
	char	   *body = t_read_fixture("rest_v1_trades_btcusdt_2024-03-13_ccxt.json", &len);
	gp_trades_page p;
	gp_error	e;

	if (body == NULL)
		return;
	CHECK(gp_parse_trades(body, len, &p, &e) == GP_OK);
	CHECK(p.n == 1 && p.n_bad == 0);
	if (p.n == 1)
	{
		const gp_trade *t = &p.trades[0];

		CHECK_I64(t->tid, INT64_C(2840140831246421));
		CHECK_I64(t->timestampms, INT64_C(1710325796526));
		CHECK_STR(t->price, "73268.24");
		CHECK_STR(t->amount, "0.00028921");
		CHECK(t->side == GP_SIDE_BUY);
		CHECK(t->broken == -1);
		CHECK(t->has_tid);
		/* raw: the object's own bytes, pretty-printing included */
		CHECK(t->raw[0] == '{' && t->raw[strlen(t->raw) - 1] == '}');
		CHECK(strstr(t->raw, "\"tid\": \"2840140831246421\"") != NULL);
		CHECK(strstr(body, t->raw) != NULL);
	}
	gp_trades_page_free(&p);

	/* the same body cut anywhere is a JSON error naming an offset */
	{
		size_t		cut;
		int			all_json = 1;

		for (cut = 1; cut < len - 2; cut++)
		{
			gp_status	st = gp_parse_trades(body, cut, &p, &e);

			gp_trades_page_free(&p);
			if (st != GP_ERR_JSON || strstr(e.message, "offset") == NULL)
			{
				CHECKF(0, "body cut at %zu: status %d (%s)", cut, (int) st, e.message);
				all_json = 0;
				break;
			}
		}
		CHECK(all_json);
		/* cut in half: the reported offset is the end of the input */
		CHECK(gp_parse_trades(body, len / 2, &p, &e) == GP_ERR_JSON);
		{
			char		want[64];

			snprintf(want, sizeof(want), "at offset %zu", len / 2);
			CHECKF(strstr(e.message, want) != NULL, "\"%s\" lacks \"%s\"", e.message, want);
		}
	}
	free(body);
}

static void
test_symbols_fixture(void)
{
	size_t		len;
	char	   *body = t_read_fixture("rest_v1_symbols_2021-06-23.json", &len);
	gp_symbol_list l;
	gp_error	e;
	size_t		quotes = 0;
	size_t		i;

	if (body == NULL)
		return;
	for (i = 0; i < len; i++)
		quotes += body[i] == '"';
	CHECK(gp_parse_symbol_list(body, len, &l, &e) == GP_OK);
	CHECK(l.n == quotes / 2);
	CHECK(l.n == 71);
	if (l.n >= 2)
	{
		CHECK_STR(l.symbols[0], "btcusd");
		CHECK_STR(l.symbols[1], "btcgusd");
	}
	for (i = 0; i < l.n; i++)
	{
		char		quoted[64];

		snprintf(quoted, sizeof(quoted), "\"%s\"", l.symbols[i]);
		if (strstr(body, quoted) == NULL)
		{
			CHECKF(0, "symbol %zu \"%s\" not in the body", i, l.symbols[i]);
			break;
		}
	}
	gp_symbol_list_free(&l);
	free(body);
}

static void
test_details_fixture(void)
{
	size_t		len;
	char	   *body = t_read_fixture("rest_v1_symbols_details_2021-06-23.jsonl", &len);
	char	   *line;
	char	   *save = NULL;
	int			lines = 0;
	int			ok = 0;
	int			tick_1e8 = 0;

	if (body == NULL)
		return;
	for (line = strtok_r(body, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		gp_symbol_details d;
		gp_error	e;
		char		want[64];
		int			good;

		lines++;
		if (gp_parse_symbol_details(line, strlen(line), &d, &e) != GP_OK)
		{
			CHECKF(0, "details line %d: %s", lines, e.message);
			continue;
		}
		good = strcmp(d.symbol, text_after(line, "\"symbol\":\"", "\"", want, sizeof(want))) == 0 &&
			strcmp(d.base_currency, text_after(line, "\"base_currency\":\"", "\"", want, sizeof(want))) == 0 &&
			strcmp(d.quote_currency, text_after(line, "\"quote_currency\":\"", "\"", want, sizeof(want))) == 0 &&
			strcmp(d.tick_size, text_after(line, "\"tick_size\":", ",}", want, sizeof(want))) == 0 &&
			strcmp(d.quote_increment, text_after(line, "\"quote_increment\":", ",}", want, sizeof(want))) == 0 &&
			strcmp(d.min_order_size, text_after(line, "\"min_order_size\":\"", "\"", want, sizeof(want))) == 0 &&
			strcmp(d.status, text_after(line, "\"status\":\"", "\"", want, sizeof(want))) == 0 &&
			strcmp(d.raw, line) == 0 &&
			gp_is_decimal(d.tick_size) && gp_is_decimal(d.quote_increment);
		CHECKF(good, "details line %d (%s) differs from its text", lines, d.symbol);
		ok += good;
		tick_1e8 += strcmp(d.tick_size, "1E-8") == 0;
		gp_symbol_details_free(&d);
	}
	CHECK(lines == 71);
	CHECK(ok == 71);
	CHECK(tick_1e8 == 7);
	free(body);
}

static void
test_candles_fixture(void)
{
	size_t		len;
	char	   *body = t_read_fixture("rest_v2_candles_btcusdt_1hr_2024-03-13_ccxt.json", &len);
	gp_candles	c;
	gp_error	e;

	if (body == NULL)
		return;
	CHECK(gp_parse_candles(body, len, &c, &e) == GP_OK);
	CHECK(c.n == 1);
	if (c.n == 1)
	{
		CHECK_I64(c.candles[0].time_ms, INT64_C(1710324000000));
		CHECK_STR(c.candles[0].open, "73402.61");
		CHECK_STR(c.candles[0].high, "73402.61");
		CHECK_STR(c.candles[0].low, "73268.24");
		CHECK_STR(c.candles[0].close, "73268.24");
		CHECK_STR(c.candles[0].volume, "0.05445598");
	}
	gp_candles_free(&c);
	free(body);
}

/* The "response"."body" string of an official_conformance wrapper (malloc'd). */
static char *
conformance_body(const char *name, size_t *len)
{
	char		rel[256];
	size_t		flen;
	char	   *file;
	json_object *root;
	json_object *resp;
	json_object *b;
	char	   *out = NULL;

	snprintf(rel, sizeof(rel), "official_conformance/%s", name);
	file = t_read_fixture(rel, &flen);
	if (file == NULL)
		return NULL;
	root = json_tokener_parse(file);
	if (json_object_object_get_ex(root, "response", &resp) &&
		json_object_object_get_ex(resp, "body", &b) &&
		json_object_is_type(b, json_type_string))
	{
		*len = (size_t) json_object_get_string_len(b);
		out = malloc(*len + 1);
		memcpy(out, json_object_get_string(b), *len + 1);
	}
	CHECKF(out != NULL, "no response.body in %s", name);
	json_object_put(root);
	free(file);
	return out;
}

static void
test_conformance(void)
{
	size_t		len;
	char	   *body;
	gp_error	e;
	gp_trades_page p;

	body = conformance_body("not-found-404-empty-body.json", &len);
	if (body != NULL)
	{
		CHECK(len == 0);
		CHECK(gp_extract_api_error(body, len, &e) == 0);
		CHECK(gp_parse_trades(body, len, &p, &e) == GP_ERR_JSON);
		CHECK_STR(e.message, "empty body");
		free(body);
	}

	body = conformance_body("rate-limited-429-retry-after.json", &len);
	if (body != NULL)
	{
		CHECK(gp_extract_api_error(body, len, &e) == 1);
		CHECK_STR(e.reason, "RateLimit");
		CHECK_STR(e.api_message, "Rate limit exceeded");
		CHECK(gp_parse_trades(body, len, &p, &e) == GP_ERR_API);
		CHECK_STR(e.reason, "RateLimit");
		CHECK_STR(e.api_message, "Rate limit exceeded");
		free(body);
	}

	body = conformance_body("server-error-500-unstructured.json", &len);
	if (body != NULL)
	{
		CHECK_STR(body, "upstream unavailable");
		CHECK(gp_extract_api_error(body, len, &e) == 0);
		CHECK(gp_parse_trades(body, len, &p, &e) == GP_ERR_JSON);
		CHECK(strstr(e.message, "offset 0") != NULL);
		free(body);
	}
}

/* docs_examples/rest_doc_examples.json: the value of key, as JSON text (malloc'd) */
static char *
doc_example(json_object *docs, const char *key, size_t *len)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(docs, key, &v))
	{
		CHECKF(0, "no \"%s\" in rest_doc_examples.json", key);
		return NULL;
	}
	/* json-c prints doubles with their literal text, so numbers survive */
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	*len = strlen(s);
	return strdup(s);
}

static void
test_doc_examples(void)
{
	size_t		flen;
	size_t		len;
	char	   *file = t_read_fixture("docs_examples/rest_doc_examples.json", &flen);
	json_object *docs;
	char	   *body;
	gp_error	e;

	if (file == NULL)
		return;
	docs = json_tokener_parse(file);
	CHECK(docs != NULL);

	body = doc_example(docs, "GET /v1/trades/BTCUSD?include_breaks=true", &len);
	if (body != NULL)
	{
		gp_trades_page p;

		CHECK(gp_parse_trades(body, len, &p, &e) == GP_OK && p.n == 1 && p.n_bad == 0);
		if (p.n == 1)
		{
			CHECK_I64(p.trades[0].tid, INT64_C(5335307668));
			CHECK_I64(p.trades[0].timestampms, INT64_C(1547146811357));
			CHECK_STR(p.trades[0].price, "3610.85");
			CHECK_STR(p.trades[0].amount, "0.27413495");
			CHECK(p.trades[0].side == GP_SIDE_BUY);
			CHECK(p.trades[0].broken == 1);
		}
		gp_trades_page_free(&p);
		free(body);
	}

	body = doc_example(docs, "GET /v2/candles/BTCUSD/15m", &len);
	if (body != NULL)
	{
		gp_candles	c;

		CHECK(gp_parse_candles(body, len, &c, &e) == GP_OK && c.n == 2);
		if (c.n == 2)
		{
			CHECK_I64(c.candles[0].time_ms, INT64_C(1559755800000));
			CHECK_STR(c.candles[0].open, "7781.6");
			CHECK_STR(c.candles[0].close, "7819.39");
			CHECK_STR(c.candles[0].volume, "34.7624802159");
			CHECK_STR(c.candles[1].high, "7829.46");
			CHECK_STR(c.candles[1].volume, "43.4228281059");
		}
		gp_candles_free(&c);
		free(body);
	}

	body = doc_example(docs, "GET /v2/derivatives/candles/BTCGUSDPERP/1m", &len);
	if (body != NULL)
	{
		gp_candles	c;

		CHECK(gp_parse_candles(body, len, &c, &e) == GP_OK && c.n == 2);
		if (c.n == 2)
		{
			CHECK_STR(c.candles[0].open, "68038");
			CHECK_STR(c.candles[0].volume, "0");
			CHECK_I64(c.candles[1].time_ms, INT64_C(1714126680000));
		}
		gp_candles_free(&c);
		free(body);
	}

	body = doc_example(docs, "GET /v1/symbols/details/BTCUSD", &len);
	if (body != NULL)
	{
		gp_symbol_details d;

		CHECK(gp_parse_symbol_details(body, len, &d, &e) == GP_OK);
		CHECK_STR(d.symbol, "BTCUSD");
		CHECK_STR(d.tick_size, "1e-8");
		CHECK_STR(d.quote_increment, "0.01");
		CHECK_STR(d.product_type, "spot");
		CHECK_STR(d.contract_type, "vanilla");
		gp_symbol_details_free(&d);
		free(body);
	}

	/* the documented error bodies */
	{
		static const char *const keys[3] = {"error 404", "error 429", "error 500"};
		static const char *const reasons[3] = {
			"EndpointNotFound", "Too Many Requests", "Internal Server Error"
		};
		int			k;

		for (k = 0; k < 3; k++)
		{
			gp_trades_page p;

			body = doc_example(docs, keys[k], &len);
			if (body == NULL)
				continue;
			CHECK(gp_parse_trades(body, len, &p, &e) == GP_ERR_API);
			CHECK_STR(e.reason, reasons[k]);
			CHECK(gp_extract_api_error(body, len, &e) == 1);
			CHECK_STR(e.reason, reasons[k]);
			free(body);
		}
	}

	/* arrays of other objects read as trades: every element bad, page fine */
	body = doc_example(docs, "GET /v1/pricefeed", &len);
	if (body != NULL)
	{
		gp_trades_page p;

		CHECK(gp_parse_trades(body, len, &p, &e) == GP_OK && p.n == 2 && p.n_bad == 2);
		if (p.n == 2)
			CHECK_STR(p.trades[1].bad_reason, "missing field \"tid\"");
		gp_trades_page_free(&p);
		free(body);
	}
	/* an object that is not an error is the wrong shape for a list */
	body = doc_example(docs, "GET /v1/pubticker/BTCUSD", &len);
	if (body != NULL)
	{
		gp_symbol_list l;

		CHECK(gp_parse_symbol_list(body, len, &l, &e) == GP_ERR_SHAPE);
		free(body);
	}

	json_object_put(docs);
	free(file);
}

/*
 * v2_trade.jsonl holds real websocket trade messages.  Rewritten in the REST
 * shape (event_id -> tid, timestamp -> timestampms, quantity -> amount,
 * side -> type) they give a page of 89 real prices and amounts.  The text
 * is built by hand from the recorded bytes, so the check is byte-for-byte.
 */
static void
test_v2_trades(void)
{
	size_t		len;
	char	   *file = t_read_fixture("v2_trade.jsonl", &len);
	char	   *line;
	char	   *save = NULL;
	char	   *body;
	size_t		blen = 0;
	int			n = 0;
	int			i;
	int			good = 0;
	gp_trades_page p;
	gp_error	e;
	enum
	{
		MAXT = 256
	};
	struct
	{
		char		id[32], ts[32], price[64], qty[64], side[16];
	}		   *exp;

	if (file == NULL)
		return;
	exp = calloc(MAXT, sizeof(*exp));
	body = malloc(len * 2 + 16);
	body[blen++] = '[';
	for (line = strtok_r(file, "\n", &save); line != NULL && n < MAXT;
		 line = strtok_r(NULL, "\n", &save))
	{
		text_after(line, "\"event_id\":", ",}", exp[n].id, sizeof(exp[n].id));
		text_after(line, "\"timestamp\":", ",}", exp[n].ts, sizeof(exp[n].ts));
		text_after(line, "\"price\":\"", "\"", exp[n].price, sizeof(exp[n].price));
		text_after(line, "\"quantity\":\"", "\"", exp[n].qty, sizeof(exp[n].qty));
		text_after(line, "\"side\":\"", "\"", exp[n].side, sizeof(exp[n].side));
		/* odd elements carry their integers as strings, like ccxt's recordings */
		blen += (size_t) sprintf(body + blen,
								 n % 2 ? "%s{\"tid\":\"%s\",\"timestampms\":\"%s\",\"price\":\"%s\","
								 "\"amount\":\"%s\",\"exchange\":\"gemini\",\"type\":\"%s\"}"
								 : "%s{\"tid\":%s,\"timestampms\":%s,\"price\":\"%s\","
								 "\"amount\":\"%s\",\"exchange\":\"gemini\",\"type\":\"%s\"}",
								 n ? "," : "", exp[n].id, exp[n].ts, exp[n].price,
								 exp[n].qty, exp[n].side);
		n++;
	}
	body[blen++] = ']';
	CHECK(n == 89);

	CHECK(gp_parse_trades(body, blen, &p, &e) == GP_OK);
	CHECK(p.n == (size_t) n && p.n_bad == 0);
	for (i = 0; i < n && (size_t) i < p.n; i++)
	{
		const gp_trade *t = &p.trades[i];
		char		id[32], ts[32];

		snprintf(id, sizeof(id), "%" PRId64, t->tid);
		snprintf(ts, sizeof(ts), "%" PRId64, t->timestampms);
		if (strcmp(id, exp[i].id) == 0 && strcmp(ts, exp[i].ts) == 0 &&
			strcmp(t->price, exp[i].price) == 0 && strcmp(t->amount, exp[i].qty) == 0 &&
			strcmp(gp_side_name(t->side), exp[i].side) == 0 && t->bad_reason == NULL)
			good++;
		else
			CHECKF(0, "v2 trade %d (%s) differs", i, exp[i].id);
	}
	CHECK(good == 89);
	gp_trades_page_free(&p);
	free(body);
	free(exp);
	free(file);
}

void
test_fixtures(void)
{
	test_trades_ccxt();
	test_symbols_fixture();
	test_details_fixture();
	test_candles_fixture();
	test_conformance();
	test_doc_examples();
	test_v2_trades();
}
