/*
 * test_jsonc.c
 *	  The json-c 0.16 behaviours the parse layer is built on, pinned down so
 *	  that a json-c upgrade that changes one of them fails here, by name,
 *	  rather than silently corrupting prices or ids.
 */
#include <string.h>

#include <json-c/json.h>

#include "gemini_parse.h"
#include "parse_internal.h"
#include "test_util.h"

/* Parse s strictly with json-c; NULL on error. */
static json_object *
strict_parse(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int) strlen(s));
	if (json_tokener_get_error(tok) != json_tokener_success)
		o = NULL;
	json_tokener_free(tok);
	return o;
}

void
test_jsonc(void)
{
	json_object *o;
	int64_t		v;
	gpi_arena  *a = gpi_arena_new(256);
	const char *text = NULL;

	/* a double keeps its literal text as its string form */
	o = strict_parse("[1E-8, 7.0, 0.10, 73402.61, 1e+10, -0.0]");
	CHECK(o != NULL);
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 0)), "1E-8");
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 1)), "7.0");
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 2)), "0.10");
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 3)), "73402.61");
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 4)), "1e+10");
	CHECK_STR(json_object_get_string(json_object_array_get_idx(o, 5)), "-0.0");
	CHECK(gpi_json_decimal(json_object_array_get_idx(o, 0), a, &text) == GPI_FIELD_OK);
	CHECK_STR(text, "1E-8");
	json_object_put(o);

	/*
	 * integers beyond range are saturated without any error, even in strict
	 * mode: our reader must report them as out of range
	 */
	o = strict_parse("[18446744073709551616, -9223372036854775809, 9223372036854775808,"
					 " 9223372036854775807, 2840140831246421]");
	CHECK(o != NULL);
	CHECK(json_object_get_uint64(json_object_array_get_idx(o, 0)) == UINT64_MAX);
	CHECK(json_object_get_int64(json_object_array_get_idx(o, 1)) == INT64_MIN);
	CHECK(gpi_json_int64(json_object_array_get_idx(o, 0), &v) == GPI_FIELD_RANGE);
	CHECK(gpi_json_int64(json_object_array_get_idx(o, 1), &v) == GPI_FIELD_RANGE);
	CHECK(gpi_json_int64(json_object_array_get_idx(o, 2), &v) == GPI_FIELD_RANGE);
	CHECK(gpi_json_int64(json_object_array_get_idx(o, 3), &v) == GPI_FIELD_OK && v == INT64_MAX);
	CHECK(gpi_json_int64(json_object_array_get_idx(o, 4), &v) == GPI_FIELD_OK &&
		  v == INT64_C(2840140831246421));
	CHECK(gpi_json_decimal(json_object_array_get_idx(o, 0), a, &text) == GPI_FIELD_RANGE);
	CHECK(gpi_json_decimal(json_object_array_get_idx(o, 2), a, &text) == GPI_FIELD_OK);
	CHECK_STR(text, "9223372036854775808");
	json_object_put(o);

	/* strict mode refuses the extensions, but still takes NaN (we refuse it later) */
	CHECK(strict_parse("[1,]") == NULL);
	CHECK(strict_parse("[01]") == NULL);
	CHECK(strict_parse("['a']") == NULL);
	o = strict_parse("[NaN]");
	CHECK(o != NULL);
	CHECK(gpi_json_decimal(json_object_array_get_idx(o, 0), a, &text) == GPI_FIELD_TYPE);
	json_object_put(o);

	/* JSON null is a NULL json_object that object_get_ex still reports present */
	o = strict_parse("{\"broken\":null}");
	{
		json_object *v2 = (json_object *) 1;

		CHECK(json_object_object_get_ex(o, "broken", &v2) && v2 == NULL);
	}
	json_object_put(o);

	gpi_arena_free(a);
}
