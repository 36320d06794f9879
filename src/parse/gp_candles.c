/*
 * gp_candles.c
 *	  A /v2/candles body ([[time,open,high,low,close,volume],...]) -> gp_candles.
 *
 * Candles are derived data that can be re-fetched whole, so unlike trades a
 * malformed element fails the body (GP_ERR_SHAPE naming the index) instead
 * of being quarantined.  OHLCV arrive as JSON numbers (73402.61, 1E-8 or
 * 68038); their literal text is kept.  Decimal strings are accepted too,
 * since that is how Gemini sends decimals everywhere else.
 */
#include <string.h>

#include "parse_internal.h"

#define CANDLE_WIDTH 6

static const char *const column_names[CANDLE_WIDTH] = {
	"time", "open", "high", "low", "close", "volume"
};

/* Fill c from element el (index i, for messages); GP_OK or an error. */
static gp_status
candle_from_json(json_object *el, size_t i, gpi_arena *a, gp_candle *c, gp_error *err)
{
	const char **cols[CANDLE_WIDTH];
	size_t		k;
	int64_t		t;

	if (!json_object_is_type(el, json_type_array) ||
		json_object_array_length(el) != CANDLE_WIDTH)
	{
		gpi_error_set(err, "candle %zu is not an array of %d values", i, CANDLE_WIDTH);
		return GP_ERR_SHAPE;
	}

	switch (gpi_json_int64(json_object_array_get_idx(el, 0), &t))
	{
		case GPI_FIELD_OK:
			break;
		case GPI_FIELD_RANGE:
			gpi_error_set(err, "candle %zu: time is out of range", i);
			return GP_ERR_SHAPE;
		default:
			gpi_error_set(err, "candle %zu: time is not an integer", i);
			return GP_ERR_SHAPE;
	}
	if (t < 0)
	{
		gpi_error_set(err, "candle %zu: time is negative", i);
		return GP_ERR_SHAPE;
	}
	c->time_ms = t;

	cols[0] = NULL;			/* time, read above */
	cols[1] = &c->open;
	cols[2] = &c->high;
	cols[3] = &c->low;
	cols[4] = &c->close;
	cols[5] = &c->volume;
	for (k = 1; k < CANDLE_WIDTH; k++)
	{
		switch (gpi_json_decimal(json_object_array_get_idx(el, k), a, cols[k]))
		{
			case GPI_FIELD_OK:
				break;
			case GPI_FIELD_NOMEM:
				gpi_error_set(err, "out of memory parsing candles");
				return GP_ERR_JSON;
			default:
				gpi_error_set(err, "candle %zu: %s is not a decimal", i, column_names[k]);
				return GP_ERR_SHAPE;
		}
	}
	return GP_OK;
}

gp_status
gp_parse_candles(const char *body, size_t len, gp_candles *out, gp_error *err)
{
	json_object *root;
	gp_status	st;
	size_t		n;
	size_t		i;
	gp_candle  *candles = NULL;
	gpi_arena  *arena = NULL;

	memset(out, 0, sizeof(*out));
	gpi_error_clear(err);

	st = gpi_json_load(body, len, &root, NULL, NULL, err);
	if (st != GP_OK)
		return st;
	if (!json_object_is_type(root, json_type_array))
	{
		st = gpi_wrong_top_level(root, "a JSON array of candles", err);
		goto fail;
	}

	n = json_object_array_length(root);
	/* texts are shorter than the body (n <= len, no overflow) */
	arena = gpi_arena_new(len + n * (sizeof(gp_candle) + CANDLE_WIDTH) + 64);
	if (arena == NULL)
	{
		gpi_error_set(err, "out of memory parsing candles");
		st = GP_ERR_JSON;
		goto fail;
	}
	if (n > 0)
	{
		candles = gpi_arena_alloc(arena, n * sizeof(gp_candle));
		if (candles == NULL)
		{
			gpi_error_set(err, "out of memory parsing candles");
			st = GP_ERR_JSON;
			goto fail;
		}
	}
	for (i = 0; i < n; i++)
	{
		st = candle_from_json(json_object_array_get_idx(root, i), i, arena, &candles[i], err);
		if (st != GP_OK)
			goto fail;
	}

	json_object_put(root);
	out->n = n;
	out->candles = candles;
	out->priv = arena;
	return GP_OK;

fail:
	gpi_arena_free(arena);
	if (root != NULL)
		json_object_put(root);
	memset(out, 0, sizeof(*out));
	return st;
}

void
gp_candles_free(gp_candles *c)
{
	if (c == NULL)
		return;
	gpi_arena_free((gpi_arena *) c->priv);
	memset(c, 0, sizeof(*c));
}
