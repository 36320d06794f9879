/*
 * gp_symbol_details.c
 *	  A /v1/symbols/details/:symbol body -> gp_symbol_details.
 *
 * One body describes one symbol, so any problem fails the call (the caller
 * keeps the previous details).  tick_size and quote_increment arrive as
 * JSON numbers such as 1E-8: their literal text is kept so that numeric_in
 * sees exactly what Gemini sent.  Optional fields that are absent or JSON
 * null come back as NULL; present with a wrong type is GP_ERR_SHAPE, since
 * it would mean Gemini changed the format.
 */
#include <stddef.h>
#include <string.h>

#include "parse_internal.h"

typedef struct detail_field
{
	const char *key;
	size_t		offset;			/* of the const char * in gp_symbol_details */
	int			is_decimal;
} detail_field;

static const detail_field optional_fields[] = {
	{"base_currency", offsetof(gp_symbol_details, base_currency), 0},
	{"quote_currency", offsetof(gp_symbol_details, quote_currency), 0},
	{"tick_size", offsetof(gp_symbol_details, tick_size), 1},
	{"quote_increment", offsetof(gp_symbol_details, quote_increment), 1},
	{"min_order_size", offsetof(gp_symbol_details, min_order_size), 1},
	{"status", offsetof(gp_symbol_details, status), 0},
	{"product_type", offsetof(gp_symbol_details, product_type), 0},
	{"contract_type", offsetof(gp_symbol_details, contract_type), 0},
};

#define N_OPTIONAL (sizeof(optional_fields) / sizeof(optional_fields[0]))

/*
 * Read one optional field into *slot.  Returns GP_OK, GP_ERR_SHAPE (err
 * filled) or, when out of memory, GP_ERR_JSON.
 */
static gp_status
read_optional(json_object *root, const detail_field *f, gpi_arena *a,
			  const char **slot, gp_error *err)
{
	json_object *v;
	const char *s;
	size_t		len;

	*slot = NULL;
	if (!json_object_object_get_ex(root, f->key, &v) || v == NULL)
		return GP_OK;			/* absent or null */
	if (f->is_decimal)
	{
		switch (gpi_json_decimal(v, a, slot))
		{
			case GPI_FIELD_OK:
				return GP_OK;
			case GPI_FIELD_NOMEM:
				gpi_error_set(err, "out of memory parsing symbol details");
				return GP_ERR_JSON;
			default:
				gpi_error_set(err, "field \"%s\" is not a decimal", f->key);
				return GP_ERR_SHAPE;
		}
	}
	if (!gpi_json_string(v, &s, &len))
	{
		gpi_error_set(err, "field \"%s\" is not a string", f->key);
		return GP_ERR_SHAPE;
	}
	*slot = gpi_arena_strndup(a, s, len);
	if (*slot == NULL)
	{
		gpi_error_set(err, "out of memory parsing symbol details");
		return GP_ERR_JSON;
	}
	return GP_OK;
}

gp_status
gp_parse_symbol_details(const char *body, size_t len, gp_symbol_details *out, gp_error *err)
{
	json_object *root;
	json_object *v;
	gp_status	st;
	size_t		vstart;
	size_t		vend;
	size_t		i;
	const char *s;
	size_t		slen;
	gpi_arena  *arena = NULL;

	memset(out, 0, sizeof(*out));
	gpi_error_clear(err);

	st = gpi_json_load(body, len, &root, &vstart, &vend, err);
	if (st != GP_OK)
		return st;
	if (!json_object_is_type(root, json_type_object))
	{
		st = gpi_wrong_top_level(root, "a JSON object of symbol details", err);
		goto fail;
	}
	if (gpi_api_error_from_json(root, err))
	{
		st = GP_ERR_API;
		goto fail;
	}

	if (!json_object_object_get_ex(root, "symbol", &v))
	{
		gpi_error_set(err, "missing field \"symbol\"");
		st = GP_ERR_SHAPE;
		goto fail;
	}
	if (!gpi_json_string(v, &s, &slen) || slen == 0)
	{
		gpi_error_set(err, "field \"symbol\" is not a non-empty string");
		st = GP_ERR_SHAPE;
		goto fail;
	}

	/* raw (a slice of the body) plus every field (shorter than the body) */
	arena = gpi_arena_new(2 * len + 64);
	if (arena == NULL)
		goto nomem;
	out->symbol = gpi_arena_strndup(arena, s, slen);
	out->raw = gpi_arena_strndup(arena, body + vstart, vend - vstart);
	if (out->symbol == NULL || out->raw == NULL)
		goto nomem;

	for (i = 0; i < N_OPTIONAL; i++)
	{
		const detail_field *f = &optional_fields[i];
		const char **slot = (const char **) ((char *) out + f->offset);

		st = read_optional(root, f, arena, slot, err);
		if (st != GP_OK)
			goto fail;
	}

	json_object_put(root);
	out->priv = arena;
	return GP_OK;

nomem:
	gpi_error_set(err, "out of memory parsing symbol details");
	st = GP_ERR_JSON;
fail:
	gpi_arena_free(arena);
	if (root != NULL)
		json_object_put(root);
	memset(out, 0, sizeof(*out));
	return st;
}

void
gp_symbol_details_free(gp_symbol_details *d)
{
	if (d == NULL)
		return;
	gpi_arena_free((gpi_arena *) d->priv);
	memset(d, 0, sizeof(*d));
}
