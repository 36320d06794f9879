/*
 * gp_api_error.c
 *	  Recognising Gemini's error object {"result":"error","reason":...}.
 *
 * Gemini reports problems (unknown symbol, rate limit, maintenance) with
 * this object, sometimes with HTTP 200, so every endpoint parser checks for
 * it before deciding a body has the wrong shape, and the HTTP layer uses
 * gp_extract_api_error to describe non-2xx responses.
 */
#include <string.h>

#include "parse_internal.h"

/* Copy the string member key of obj into dst; "" when absent or not a string. */
static void
copy_member(json_object *obj, const char *key, char *dst, size_t dstsize)
{
	json_object *v;
	const char *s;
	size_t		len;

	dst[0] = '\0';
	if (json_object_object_get_ex(obj, key, &v) && gpi_json_string(v, &s, &len))
		gpi_copy_text(dst, dstsize, s, len);
}

int
gpi_api_error_from_json(json_object *root, gp_error *err)
{
	json_object *result;
	const char *s;
	size_t		len;

	if (!json_object_is_type(root, json_type_object))
		return 0;
	if (!json_object_object_get_ex(root, "result", &result))
		return 0;
	if (!gpi_json_string(result, &s, &len) || len != 5 || memcmp(s, "error", 5) != 0)
		return 0;
	if (err == NULL)
		return 1;

	copy_member(root, "reason", err->reason, sizeof(err->reason));
	copy_member(root, "message", err->api_message, sizeof(err->api_message));
	if (err->api_message[0] != '\0')
		gpi_error_set(err, "Gemini API error %s: %s",
					  err->reason[0] ? err->reason : "(no reason)", err->api_message);
	else
		gpi_error_set(err, "Gemini API error %s",
					  err->reason[0] ? err->reason : "(no reason)");
	return 1;
}

const char *
gpi_json_type_name(json_object *v)
{
	/* json-c represents JSON null as a NULL pointer */
	if (v == NULL)
		return "null";
	switch (json_object_get_type(v))
	{
		case json_type_null:
			return "null";
		case json_type_boolean:
			return "boolean";
		case json_type_double:
		case json_type_int:
			return "number";
		case json_type_object:
			return "object";
		case json_type_array:
			return "array";
		case json_type_string:
			return "string";
	}
	return "unknown";
}

gp_status
gpi_wrong_top_level(json_object *root, const char *what, gp_error *err)
{
	if (gpi_api_error_from_json(root, err))
		return GP_ERR_API;
	gpi_error_set(err, "expected %s, got a JSON %s", what, gpi_json_type_name(root));
	return GP_ERR_SHAPE;
}

int
gp_extract_api_error(const char *body, size_t len, gp_error *err)
{
	json_object *root;
	gp_error	scratch;
	int			found;

	/* a body that is not JSON at all must leave err untouched */
	if (gpi_json_load(body, len, &root, NULL, NULL, &scratch) != GP_OK)
		return 0;
	found = gpi_api_error_from_json(root, NULL);
	if (found && err != NULL)
	{
		gpi_error_clear(err);
		gpi_api_error_from_json(root, err);
	}
	if (root != NULL)
		json_object_put(root);
	return found;
}
