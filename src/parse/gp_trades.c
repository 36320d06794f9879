/*
 * gp_trades.c
 *	  A /v1/trades body -> gp_trades_page.
 *
 * The page is the unit the pipeline loads, so this is on the hot path: one
 * array of gp_trade, one arena for every string (raw text, prices, amounts),
 * and no per-field allocation.  A page of the usual shape is read in one
 * pass without json-c (gp_trades_fast.c); any other body goes through one
 * json-c parse.  Element-level problems are left to gp_trade_element.c and
 * never fail the page; only a body that is not a JSON array (or is an API
 * error) does.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static gp_status parse_trades_jsonc(const char *body, size_t len, gp_trades_page *out,
									gp_error *err);

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/*
 * The fast path promises the json-c path's result: in a fuzz build, check
 * every page it reads against json-c, and crash on any difference.
 */
static void
check_fast_against_jsonc(const char *body, size_t len, const gp_trades_page *fast)
{
	gp_trades_page ref;
	gp_error	err;
	size_t		i;

	if (parse_trades_jsonc(body, len, &ref, &err) != GP_OK)
		abort();
	if (ref.n != fast->n || ref.n_bad != fast->n_bad)
		abort();
	for (i = 0; i < ref.n; i++)
	{
		const gp_trade *a = &ref.trades[i];
		const gp_trade *b = &fast->trades[i];

		if (a->tid != b->tid || a->timestampms != b->timestampms || a->side != b->side ||
			a->broken != b->broken || a->has_tid != b->has_tid ||
			!gpi_same_text(a->price, b->price) || !gpi_same_text(a->amount, b->amount) ||
			!gpi_same_text(a->bad_reason, b->bad_reason) || !gpi_same_text(a->raw, b->raw))
			abort();
	}
	gp_trades_page_free(&ref);
}
#endif

gp_status
gp_parse_trades(const char *body, size_t len, gp_trades_page *out, gp_error *err)
{
	memset(out, 0, sizeof(*out));
	gpi_error_clear(err);

	if (gpi_parse_trades_fast(body, len, out))
	{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		check_fast_against_jsonc(body, len, out);
#endif
		return GP_OK;
	}
	return parse_trades_jsonc(body, len, out, err);
}

/* Any body: json-c's tree, then each element through gp_trade_element.c. */
static gp_status
parse_trades_jsonc(const char *body, size_t len, gp_trades_page *out, gp_error *err)
{
	json_object *root;
	gp_status	st;
	size_t		vstart;
	size_t		vend;
	size_t		n;
	size_t		i;
	gp_trade   *trades = NULL;
	gpi_arena  *arena;
	gpi_span_cursor cur;

	memset(out, 0, sizeof(*out));
	gpi_error_clear(err);

	st = gpi_json_load(body, len, &root, &vstart, &vend, err);
	if (st != GP_OK)
		return st;
	if (!json_object_is_type(root, json_type_array))
	{
		st = gpi_wrong_top_level(root, "a JSON array of trades", err);
		if (root != NULL)
			json_object_put(root);
		return st;
	}

	n = json_object_array_length(root);

	/*
	 * One block for everything: the trade array, the raw texts (disjoint
	 * slices of the body, so at most len bytes together) and price/amount
	 * (JSON escapes only shrink when decoded; 48 bytes a trade covers real
	 * ones).  n <= len < INT_MAX, so nothing here overflows.  Should the
	 * estimate ever be short, the arena chains another block.
	 */
	arena = gpi_arena_new(len + n * (sizeof(gp_trade) + 48) + 256);
	if (arena == NULL)
		goto nomem;
	if (n > 0)
	{
		trades = gpi_arena_alloc(arena, n * sizeof(gp_trade));
		if (trades == NULL)
			goto nomem;
	}

	gpi_span_begin(&cur, body, vstart, vend);
	for (i = 0; i < n; i++)
	{
		json_object *el = json_object_array_get_idx(root, i);
		gp_trade   *t = &trades[i];

		if (!gpi_trade_from_json(el, arena, t))
			goto nomem;
		t->raw = gpi_raw_text(&cur, el, arena);
		if (t->raw == NULL)
			goto nomem;
		if (t->bad_reason != NULL)
			out->n_bad++;
	}

	json_object_put(root);
	out->n = n;
	out->trades = trades;
	out->priv = arena;
	return GP_OK;

nomem:
	gpi_arena_free(arena);
	json_object_put(root);
	memset(out, 0, sizeof(*out));
	gpi_error_set(err, "out of memory parsing %zu trades", n);
	return GP_ERR_JSON;
}

void
gp_trades_page_free(gp_trades_page *page)
{
	if (page == NULL)
		return;
	gpi_arena_free((gpi_arena *) page->priv);
	memset(page, 0, sizeof(*page));
}
