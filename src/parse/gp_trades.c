/*
 * gp_trades.c
 *	  A /v1/trades body -> gp_trades_page.
 *
 * The page is the unit the pipeline loads, so this is on the hot path: one
 * json-c parse, one array of gp_trade, one arena for every string (raw text,
 * prices, amounts), and no per-field allocation.  Element-level problems are
 * left to gp_trade_element.c and never fail the page; only a body that is
 * not a JSON array (or is an API error) does.
 */
#include <string.h>

#include "parse_internal.h"

gp_status
gp_parse_trades(const char *body, size_t len, gp_trades_page *out, gp_error *err)
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
