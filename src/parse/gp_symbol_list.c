/*
 * gp_symbol_list.c
 *	  A /v1/symbols body (["btcusd","ethusd",...]) -> gp_symbol_list.
 *
 * Unlike a trades page, the symbol list is all-or-nothing: it drives which
 * symbols are pulled, so a list with a non-string, empty or NUL-carrying
 * entry is refused whole (GP_ERR_SHAPE naming the index) rather than
 * silently shortened.
 */
#include <string.h>

#include "parse_internal.h"

gp_status
gp_parse_symbol_list(const char *body, size_t len, gp_symbol_list *out, gp_error *err)
{
	json_object *root;
	gp_status	st;
	size_t		n;
	size_t		i;
	const char **symbols = NULL;
	gpi_arena  *arena;

	memset(out, 0, sizeof(*out));
	gpi_error_clear(err);

	st = gpi_json_load(body, len, &root, NULL, NULL, err);
	if (st != GP_OK)
		return st;
	if (!json_object_is_type(root, json_type_array))
	{
		st = gpi_wrong_top_level(root, "a JSON array of symbols", err);
		if (root != NULL)
			json_object_put(root);
		return st;
	}

	n = json_object_array_length(root);
	/* the strings are shorter than the body; plus the pointer array */
	arena = gpi_arena_new(len + n * sizeof(char *) + 64);
	if (arena == NULL)
		goto nomem;
	if (n > 0)
	{
		symbols = gpi_arena_alloc(arena, n * sizeof(char *));
		if (symbols == NULL)
			goto nomem;
	}
	for (i = 0; i < n; i++)
	{
		const char *s;
		size_t		slen;

		if (!gpi_json_string(json_object_array_get_idx(root, i), &s, &slen) || slen == 0)
		{
			gpi_error_set(err, "symbol list element %zu is not a non-empty string", i);
			gpi_arena_free(arena);
			json_object_put(root);
			return GP_ERR_SHAPE;
		}
		symbols[i] = gpi_arena_strndup(arena, s, slen);
		if (symbols[i] == NULL)
			goto nomem;
	}

	json_object_put(root);
	out->n = n;
	out->symbols = symbols;
	out->priv = arena;
	return GP_OK;

nomem:
	gpi_arena_free(arena);
	json_object_put(root);
	gpi_error_set(err, "out of memory parsing %zu symbols", n);
	return GP_ERR_JSON;
}

void
gp_symbol_list_free(gp_symbol_list *list)
{
	if (list == NULL)
		return;
	gpi_arena_free((gpi_arena *) list->priv);
	memset(list, 0, sizeof(*list));
}
