/*
 * fuzz_parse.c
 *	  libFuzzer target: every parser of src/parse on arbitrary bytes.
 *
 * Besides "does not crash, leak or hit undefined behaviour" (the sanitizers'
 * job), it checks the promises callers rely on, and abort()s when one is
 * broken so libFuzzer saves the input:
 *  - messages are NUL-terminated, results empty on failure;
 *  - a usable trade has decimal price/amount and a non-negative tid;
 *  - a trade's raw text, parsed again on its own, gives the same trade
 *    (this is what proves the raw-span scanner cut the body correctly).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemini_parse.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static void
check_error(const gp_error *e)
{
	REQUIRE(memchr(e->message, '\0', sizeof(e->message)) != NULL);
	REQUIRE(memchr(e->reason, '\0', sizeof(e->reason)) != NULL);
	REQUIRE(memchr(e->api_message, '\0', sizeof(e->api_message)) != NULL);
}

/* A trade's raw text must parse back, alone, into the same trade. */
static void
check_raw_roundtrip(const gp_trade *t)
{
	size_t		rlen = strlen(t->raw);
	char	   *body = malloc(rlen + 2);
	gp_trades_page again;
	gp_error	e;
	const gp_trade *u;

	body[0] = '[';
	memcpy(body + 1, t->raw, rlen);
	body[rlen + 1] = ']';
	REQUIRE(gp_parse_trades(body, rlen + 2, &again, &e) == GP_OK);
	REQUIRE(again.n == 1);
	u = &again.trades[0];
	REQUIRE((u->bad_reason == NULL) == (t->bad_reason == NULL));
	if (t->bad_reason != NULL)
		REQUIRE(strcmp(u->bad_reason, t->bad_reason) == 0);
	REQUIRE(u->has_tid == t->has_tid);
	if (t->has_tid)
		REQUIRE(u->tid == t->tid);
	REQUIRE(strcmp(u->raw, t->raw) == 0);
	if (t->bad_reason == NULL)
	{
		REQUIRE(u->timestampms == t->timestampms);
		REQUIRE(strcmp(u->price, t->price) == 0);
		REQUIRE(strcmp(u->amount, t->amount) == 0);
		REQUIRE(u->side == t->side && u->broken == t->broken);
	}
	gp_trades_page_free(&again);
	free(body);
}

static void
fuzz_trades(const char *data, size_t size)
{
	gp_trades_page p;
	gp_error	e;
	size_t		i;
	size_t		bad = 0;

	if (gp_parse_trades(data, size, &p, &e) != GP_OK)
	{
		check_error(&e);
		REQUIRE(p.n == 0 && p.trades == NULL && p.priv == NULL);
		return;
	}
	for (i = 0; i < p.n; i++)
	{
		const gp_trade *t = &p.trades[i];

		REQUIRE(t->raw != NULL && t->raw[0] != '\0');
		if (t->bad_reason != NULL)
		{
			bad++;
			continue;
		}
		REQUIRE(t->has_tid && t->tid >= 0 && t->timestampms >= 0);
		REQUIRE(gp_is_decimal(t->price) && gp_is_decimal(t->amount));
		REQUIRE(t->broken >= -1 && t->broken <= 1);
		REQUIRE(strcmp(gp_side_name(t->side), "unknown") != 0);
	}
	REQUIRE(bad == p.n_bad);
	/* the round trip parses again: limit it to keep executions fast */
	for (i = 0; i < p.n && i < 16; i++)
		check_raw_roundtrip(&p.trades[i]);
	gp_trades_page_free(&p);
}

static void
fuzz_symbols(const char *data, size_t size)
{
	gp_symbol_list l;
	gp_symbol_details d;
	gp_error	e;
	size_t		i;

	if (gp_parse_symbol_list(data, size, &l, &e) == GP_OK)
	{
		for (i = 0; i < l.n; i++)
			REQUIRE(l.symbols[i] != NULL && l.symbols[i][0] != '\0');
		gp_symbol_list_free(&l);
	}
	else
	{
		check_error(&e);
		REQUIRE(l.n == 0 && l.symbols == NULL && l.priv == NULL);
	}

	if (gp_parse_symbol_details(data, size, &d, &e) == GP_OK)
	{
		REQUIRE(d.symbol != NULL && d.symbol[0] != '\0' && d.raw != NULL);
		REQUIRE(d.tick_size == NULL || gp_is_decimal(d.tick_size));
		REQUIRE(d.quote_increment == NULL || gp_is_decimal(d.quote_increment));
		REQUIRE(d.min_order_size == NULL || gp_is_decimal(d.min_order_size));
		gp_symbol_details_free(&d);
	}
	else
	{
		check_error(&e);
		REQUIRE(d.symbol == NULL && d.priv == NULL);
	}
}

static void
fuzz_candles(const char *data, size_t size)
{
	gp_candles	c;
	gp_error	e;
	size_t		i;

	if (gp_parse_candles(data, size, &c, &e) != GP_OK)
	{
		check_error(&e);
		REQUIRE(c.n == 0 && c.candles == NULL && c.priv == NULL);
		return;
	}
	for (i = 0; i < c.n; i++)
	{
		const gp_candle *k = &c.candles[i];

		REQUIRE(k->time_ms >= 0);
		REQUIRE(gp_is_decimal(k->open) && gp_is_decimal(k->high) &&
				gp_is_decimal(k->low) && gp_is_decimal(k->close) &&
				gp_is_decimal(k->volume));
	}
	gp_candles_free(&c);
}

static void
fuzz_scalars(const char *data, size_t size)
{
	gp_error	e;
	int64_t		v;
	char	   *s;

	memset(&e, 0, sizeof(e));
	if (gp_extract_api_error(data, size, &e))
		check_error(&e);
	gp_parse_int64_text(data, size, &v);

	/* gp_is_decimal takes a C string */
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	(void) gp_is_decimal(s);
	free(s);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * Copy into an exact-size buffer so ASan flags any read past len (the
	 * parsers must never rely on a terminating NUL).
	 */
	char	   *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	fuzz_trades(buf, size);
	fuzz_symbols(buf, size);
	fuzz_candles(buf, size);
	fuzz_scalars(buf, size);
	free(buf);
	return 0;
}
