/*
 * gp_json_fields.c
 *	  Typed, exact reads of single JSON values (integers, decimals, strings).
 *
 * This is where the exactness rules of gemini_parse.h are enforced against
 * json-c's habits:
 *  - json-c stores integer literals as int64/uint64 and *saturates* the ones
 *    beyond range without reporting an error (strict mode included), so the
 *    saturation values are treated as "out of range";
 *  - json-c keeps the literal text of a floating-point number as its
 *    serialisation (json_object_new_double_s), so json_object_get_string on
 *    a double returns e.g. "1E-8" untouched: that text, never the double, is
 *    what we keep;
 *  - a float literal is never accepted where an integer is expected, even
 *    when integral ("1e3"), because Gemini never sends one and silently
 *    accepting it would hide a change of format.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

int
gpi_json_string(json_object *v, const char **s, size_t *len)
{
	const char *p;
	int			n;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	p = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (p == NULL || n < 0)
		return 0;
	/* "\u0000" decodes to a NUL byte: such a string cannot be a C string */
	if (memchr(p, '\0', (size_t) n) != NULL)
		return 0;
	*s = p;
	*len = (size_t) n;
	return 1;
}

/*
 * A JSON integer number as int64.  json-c keeps values above INT64_MAX as
 * uint64 (and get_int64 then saturates to INT64_MAX), and clamps literals
 * beyond uint64 to UINT64_MAX and below INT64_MIN to INT64_MIN.
 */
static gpi_field_status
int_number(json_object *v, int64_t *out)
{
	int64_t		i = json_object_get_int64(v);

	if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t) INT64_MAX)
		return GPI_FIELD_RANGE;
	if (i == INT64_MIN)
		return GPI_FIELD_RANGE;
	*out = i;
	return GPI_FIELD_OK;
}

gpi_field_status
gpi_json_int64(json_object *v, int64_t *out)
{
	const char *s;
	size_t		len;

	if (json_object_is_type(v, json_type_int))
		return int_number(v, out);
	if (gpi_json_string(v, &s, &len))
	{
		switch (gpi_parse_int64(s, len, out))
		{
			case GPI_INT_OK:
				return GPI_FIELD_OK;
			case GPI_INT_RANGE:
				return GPI_FIELD_RANGE;
			case GPI_INT_SYNTAX:
				break;
		}
	}
	return GPI_FIELD_TYPE;
}

gpi_field_status
gpi_json_decimal(json_object *v, gpi_arena *a, const char **out)
{
	const char *s;
	size_t		len;
	const char *copy;
	char		num[32];

	if (json_object_is_type(v, json_type_string))
	{
		if (!gpi_json_string(v, &s, &len) || !gpi_is_decimal_n(s, len))
			return GPI_FIELD_TYPE;
	}
	else if (json_object_is_type(v, json_type_double))
	{
		/* the literal text, e.g. "1E-8"; NaN and Infinity fail the check */
		s = json_object_get_string(v);
		if (s == NULL)
			return GPI_FIELD_TYPE;
		len = strlen(s);
		if (!gpi_is_decimal_n(s, len))
			return GPI_FIELD_TYPE;
	}
	else if (json_object_is_type(v, json_type_int))
	{
		/*
		 * json-c keeps no literal text for integers, so print the stored
		 * value; it is exact unless the literal saturated.  (The only text
		 * that changes is "-0", which becomes the equal "0".)
		 */
		int64_t		i = json_object_get_int64(v);
		uint64_t	u = json_object_get_uint64(v);

		if (i == INT64_MIN || u == UINT64_MAX)
			return GPI_FIELD_RANGE;
		if (i == INT64_MAX && u > (uint64_t) INT64_MAX)
			snprintf(num, sizeof(num), "%" PRIu64, u);
		else
			snprintf(num, sizeof(num), "%" PRId64, i);
		s = num;
		len = strlen(num);
	}
	else
		return GPI_FIELD_TYPE;

	copy = gpi_arena_strndup(a, s, len);
	if (copy == NULL)
		return GPI_FIELD_NOMEM;
	*out = copy;
	return GPI_FIELD_OK;
}
