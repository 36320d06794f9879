/*
 * gp_trade_element.c
 *	  One element of a /v1/trades array -> gp_trade.
 *
 * A single odd trade must not stop a whole page from loading (the rest are
 * real trades the caller needs), so this never fails: whatever is wrong is
 * described in bad_reason and the caller quarantines that element.  All
 * fields are examined even after a problem is found, so tid is available
 * for the quarantine record whenever it is readable; the first problem in
 * field order tid, timestampms, price, amount, type, broken is the one
 * reported.
 */
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

static const char *const side_names[] = {"buy", "sell", "auction", "block"};

const char *
gp_side_name(gp_side side)
{
	if ((unsigned) side < sizeof(side_names) / sizeof(side_names[0]))
		return side_names[side];
	return "unknown";
}

/* Record the first problem only. */
static void
note(gp_trade *t, const char *reason)
{
	if (t->bad_reason == NULL)
		t->bad_reason = reason;
}

/*
 * Read a non-negative int64 member.  Messages are string literals: no
 * allocation for the common kinds of bad element.
 */
static int
read_id(json_object *obj, const char *key, int64_t *out, gp_trade *t,
		const char *missing, const char *not_int, const char *range,
		const char *negative)
{
	json_object *v;
	int64_t		val;

	if (!json_object_object_get_ex(obj, key, &v))
	{
		note(t, missing);
		return 0;
	}
	switch (gpi_json_int64(v, &val))
	{
		case GPI_FIELD_OK:
			break;
		case GPI_FIELD_RANGE:
			note(t, range);
			return 0;
		default:
			note(t, not_int);
			return 0;
	}
	if (val < 0)
	{
		note(t, negative);
		return 0;
	}
	*out = val;
	return 1;
}

/* Read a decimal member; returns 0 only when out of memory. */
static int
read_decimal(json_object *obj, const char *key, gpi_arena *a, const char **out,
			 gp_trade *t, const char *missing, const char *bad)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
	{
		note(t, missing);
		return 1;
	}
	switch (gpi_json_decimal(v, a, out))
	{
		case GPI_FIELD_OK:
			return 1;
		case GPI_FIELD_NOMEM:
			return 0;
		default:
			note(t, bad);
			return 1;
	}
}

/* "type" -> side; returns 0 only when out of memory. */
static int
read_side(json_object *obj, gpi_arena *a, gp_trade *t)
{
	json_object *v;
	const char *s;
	size_t		len;
	size_t		i;
	char		shown[40];
	char	   *msg;

	if (!json_object_object_get_ex(obj, "type", &v))
	{
		note(t, "missing field \"type\"");
		return 1;
	}
	if (!gpi_json_string(v, &s, &len))
	{
		note(t, "field \"type\" is not a string");
		return 1;
	}
	for (i = 0; i < sizeof(side_names) / sizeof(side_names[0]); i++)
	{
		if (len == strlen(side_names[i]) && memcmp(s, side_names[i], len) == 0)
		{
			t->side = (gp_side) i;
			return 1;
		}
	}
	if (t->bad_reason != NULL)
		return 1;				/* an earlier problem is reported anyway */

	/* name the value (shortened, sanitised) so a new trade type is obvious */
	gpi_copy_sanitized(shown, sizeof(shown), s, len);
	msg = gpi_arena_alloc(a, sizeof(shown) + 32);
	if (msg == NULL)
		return 0;
	snprintf(msg, sizeof(shown) + 32, "unknown type \"%s\"", shown);
	t->bad_reason = msg;
	return 1;
}

static void
read_broken(json_object *obj, gp_trade *t)
{
	json_object *v;

	t->broken = -1;
	if (!json_object_object_get_ex(obj, "broken", &v))
		return;
	if (!json_object_is_type(v, json_type_boolean))
	{
		note(t, "field \"broken\" is not a boolean");
		return;
	}
	t->broken = json_object_get_boolean(v) ? 1 : 0;
}

int
gpi_trade_from_json(json_object *el, gpi_arena *a, gp_trade *t)
{
	/* raw is set by the caller; everything else starts "unknown" */
	t->tid = 0;
	t->timestampms = 0;
	t->price = NULL;
	t->amount = NULL;
	t->side = GP_SIDE_BUY;
	t->broken = -1;
	t->bad_reason = NULL;
	t->has_tid = 0;

	if (!json_object_is_type(el, json_type_object))
	{
		t->bad_reason = "element is not an object";
		return 1;
	}

	t->has_tid = read_id(el, "tid", &t->tid, t,
						 "missing field \"tid\"",
						 "field \"tid\" is not an integer",
						 "field \"tid\" is out of range",
						 "field \"tid\" is negative");
	read_id(el, "timestampms", &t->timestampms, t,
			"missing field \"timestampms\"",
			"field \"timestampms\" is not an integer",
			"field \"timestampms\" is out of range",
			"field \"timestampms\" is negative");
	if (!read_decimal(el, "price", a, &t->price, t,
					  "missing field \"price\"",
					  "field \"price\" is not a decimal"))
		return 0;
	if (!read_decimal(el, "amount", a, &t->amount, t,
					  "missing field \"amount\"",
					  "field \"amount\" is not a decimal"))
		return 0;
	if (!read_side(el, a, t))
		return 0;
	read_broken(el, t);
	return 1;
}
