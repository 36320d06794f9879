/*
 * gw_common.c
 *	  What the two websocket parsers (gw_v2.c, gw_new.c) and the subscribe
 *	  builders (gw_subscribe.c) share: frame loading, the message's arena,
 *	  typed required members with uniform error messages, symbols, sides,
 *	  price levels, and gw_message_free.
 *
 * The typed reads are thin wrappers over gp_json_fields.c (int64 from a
 * JSON number or a string of digits, exact decimal text): the wrappers only
 * add "missing field" handling and the message naming the field, so every
 * websocket parser reports problems the same way.
 */
#include <stdint.h>
#include <string.h>

#include "parse_internal.h"

int
gpi_ws_symbol_ok(const char *s, size_t len)
{
	size_t		i;

	if (s == NULL || len == 0 || len > GPI_WS_SYMBOL_MAX)
		return 0;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

gp_status
gpi_ws_begin(const char *frame, size_t len, gw_message *msg,
			 json_object **root, gp_error *err)
{
	gp_status	st;

	memset(msg, 0, sizeof(*msg));
	gpi_error_clear(err);
	*root = NULL;

	st = gpi_json_load(frame, len, root, NULL, NULL, err);
	if (st != GP_OK)
		return st;
	if (!json_object_is_type(*root, json_type_object))
	{
		gpi_error_set(err, "expected a JSON object, got a JSON %s",
					  gpi_json_type_name(*root));
		if (*root != NULL)
			json_object_put(*root);
		*root = NULL;
		return GP_ERR_SHAPE;
	}
	return GP_OK;
}

gp_status
gpi_ws_arena(gw_message *msg, size_t len, size_t extra, gp_error *err)
{
	/*
	 * Decimal texts are slices of the frame (at most len bytes together,
	 * JSON escapes only shrink when decoded), each copied with a NUL and
	 * rounded up to the arena's alignment; real texts ("0.02", plus quotes
	 * and a comma in the frame) need well under 3 * len.  The arrays come
	 * in extra.  A short estimate only costs the arena another block.
	 */
	if (extra > SIZE_MAX - 64 || len > (SIZE_MAX - 64 - extra) / 3)
		return gpi_ws_nomem(err);	/* would wrap around: cannot happen on 64 bits */
	msg->priv = gpi_arena_new(3 * len + extra + 64);
	if (msg->priv == NULL)
		return gpi_ws_nomem(err);
	return GP_OK;
}

gp_status
gpi_ws_fail(gw_message *msg, json_object *root, gp_status st)
{
	gpi_arena_free((gpi_arena *) msg->priv);
	if (root != NULL)
		json_object_put(root);
	memset(msg, 0, sizeof(*msg));
	return st;
}

gp_status
gpi_ws_nomem(gp_error *err)
{
	gpi_error_set(err, "out of memory parsing a websocket frame");
	return GP_ERR_JSON;
}

int
gpi_ws_is_string(json_object *v, const char *lit)
{
	const char *s;
	size_t		len;

	return gpi_json_string(v, &s, &len) && len == strlen(lit) && memcmp(s, lit, len) == 0;
}

gp_status
gpi_ws_get_int64(json_object *obj, const char *key, const char *what,
				 int64_t *out, gp_error *err)
{
	json_object *v;
	int64_t		val;

	if (!json_object_object_get_ex(obj, key, &v))
	{
		gpi_error_set(err, "%s: missing field \"%s\"", what, key);
		return GP_ERR_SHAPE;
	}
	switch (gpi_json_int64(v, &val))
	{
		case GPI_FIELD_OK:
			break;
		case GPI_FIELD_RANGE:
			gpi_error_set(err, "%s: field \"%s\" is out of range", what, key);
			return GP_ERR_SHAPE;
		default:
			gpi_error_set(err, "%s: field \"%s\" is not an integer", what, key);
			return GP_ERR_SHAPE;
	}
	if (val < 0)
	{
		gpi_error_set(err, "%s: field \"%s\" is negative", what, key);
		return GP_ERR_SHAPE;
	}
	*out = val;
	return GP_OK;
}

gp_status
gpi_ws_get_decimal(json_object *obj, const char *key, const char *what,
				   gpi_arena *a, const char **out, gp_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
	{
		gpi_error_set(err, "%s: missing field \"%s\"", what, key);
		return GP_ERR_SHAPE;
	}
	switch (gpi_json_decimal(v, a, out))
	{
		case GPI_FIELD_OK:
			return GP_OK;
		case GPI_FIELD_NOMEM:
			return gpi_ws_nomem(err);
		default:
			gpi_error_set(err, "%s: field \"%s\" is not a decimal", what, key);
			return GP_ERR_SHAPE;
	}
}

gp_status
gpi_ws_get_array(json_object *obj, const char *key, const char *what,
				 json_object **arr, gp_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
	{
		gpi_error_set(err, "%s: missing field \"%s\"", what, key);
		return GP_ERR_SHAPE;
	}
	if (!json_object_is_type(v, json_type_array))
	{
		gpi_error_set(err, "%s: field \"%s\" is not an array", what, key);
		return GP_ERR_SHAPE;
	}
	*arr = v;
	return GP_OK;
}

/* Copy an accepted symbol into dst, upper-cased. */
void
gpi_ws_copy_upper(char *dst, const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		dst[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
	}
	dst[len] = '\0';
}

gp_status
gpi_ws_get_symbol(json_object *obj, const char *key, char *dst, gp_error *err)
{
	json_object *v;
	const char *s;
	size_t		len;

	dst[0] = '\0';
	if (!json_object_object_get_ex(obj, key, &v))
	{
		gpi_error_set(err, "missing field \"%s\"", key);
		return GP_ERR_SHAPE;
	}
	if (!gpi_json_string(v, &s, &len))
	{
		gpi_error_set(err, "field \"%s\" is not a string", key);
		return GP_ERR_SHAPE;
	}
	if (!gpi_ws_symbol_ok(s, len))
	{
		char		shown[40];

		gpi_copy_sanitized(shown, sizeof(shown), s, len);
		gpi_error_set(err, "field \"%s\" is not a valid symbol: \"%s\"", key, shown);
		return GP_ERR_SHAPE;
	}
	gpi_ws_copy_upper(dst, s, len);
	return GP_OK;
}

void
gpi_ws_try_symbol(json_object *obj, const char *key, char *dst)
{
	json_object *v;
	const char *s;
	size_t		len;

	dst[0] = '\0';
	if (json_object_object_get_ex(obj, key, &v) && gpi_json_string(v, &s, &len) &&
		gpi_ws_symbol_ok(s, len))
		gpi_ws_copy_upper(dst, s, len);
}

int
gpi_ws_side(const char *s, size_t len, gp_side *out)
{
	int			i;

	/* the names live in gp_trade_element.c, behind gp_side_name */
	for (i = GP_SIDE_BUY; i <= GP_SIDE_BLOCK; i++)
	{
		const char *name = gp_side_name((gp_side) i);

		if (strlen(name) == len && memcmp(name, s, len) == 0)
		{
			*out = (gp_side) i;
			return 1;
		}
	}
	return 0;
}

gp_status
gpi_ws_levels(json_object *arr, const char *key, int is_bid,
			  gpi_arena *a, gw_level *out, gp_error *err)
{
	size_t		n = json_object_array_length(arr);
	size_t		width = is_bid < 0 ? 3 : 2;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		json_object *el = json_object_array_get_idx(arr, i);
		gw_level   *l = &out[i];
		size_t		k = 0;

		if (!json_object_is_type(el, json_type_array) ||
			json_object_array_length(el) != width)
		{
			gpi_error_set(err, "%s[%zu] is not an array of %zu values", key, i, width);
			return GP_ERR_SHAPE;
		}
		if (is_bid < 0)
		{
			json_object *side = json_object_array_get_idx(el, k++);

			if (gpi_ws_is_string(side, "buy"))
				l->is_bid = 1;
			else if (gpi_ws_is_string(side, "sell"))
				l->is_bid = 0;
			else
			{
				gpi_error_set(err, "%s[%zu]: side is not \"buy\" or \"sell\"", key, i);
				return GP_ERR_SHAPE;
			}
		}
		else
			l->is_bid = is_bid;

		switch (gpi_json_decimal(json_object_array_get_idx(el, k), a, &l->price))
		{
			case GPI_FIELD_OK:
				break;
			case GPI_FIELD_NOMEM:
				return gpi_ws_nomem(err);
			default:
				gpi_error_set(err, "%s[%zu]: price is not a decimal", key, i);
				return GP_ERR_SHAPE;
		}
		switch (gpi_json_decimal(json_object_array_get_idx(el, k + 1), a, &l->size))
		{
			case GPI_FIELD_OK:
				break;
			case GPI_FIELD_NOMEM:
				return gpi_ws_nomem(err);
			default:
				gpi_error_set(err, "%s[%zu]: size is not a decimal", key, i);
				return GP_ERR_SHAPE;
		}
	}
	return GP_OK;
}

int
gpi_ws_api_error(json_object *root, gw_message *msg)
{
	gp_error	api;
	gp_error	text;
	const char *reason;

	if (!gpi_api_error_from_json(root, &api))
		return 0;
	reason = api.reason[0] != '\0' ? api.reason : "(no reason)";
	if (api.api_message[0] != '\0')
		gpi_error_set(&text, "%s: %s", reason, api.api_message);
	else
		gpi_error_set(&text, "%s", reason);
	msg->kind = GW_ERROR;
	gpi_copy_text(msg->error, sizeof(msg->error), text.message, strlen(text.message));
	return 1;
}

void
gw_message_free(gw_message *msg)
{
	if (msg == NULL)
		return;
	gpi_arena_free((gpi_arena *) msg->priv);
	memset(msg, 0, sizeof(*msg));
}

int
gpi_same_text(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}
