/*
 * gp_json_load.c
 *	  Turning a response body into a json-c tree, or a precise GP_ERR_JSON.
 *
 * Every endpoint parser starts here, so all the distrust of the input lives
 * in one place: empty bodies, truncated bodies (a connection cut mid-page),
 * trailing garbage, NUL bytes, invalid UTF-8 and absurd nesting.  json-c is
 * run with a tokener rather than json_tokener_parse() because only the
 * tokener tells us *where* parsing stopped, which is what makes a
 * "truncated at offset 812" message possible.  UTF-8 is checked first, by
 * gp_utf8.c, because json-c's own check is too lenient for PostgreSQL.
 */
#include <limits.h>
#include <string.h>

#include "parse_internal.h"

/* JSON's own whitespace (RFC 8259): nothing else may surround the value. */
static int
is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

gp_status
gpi_json_load(const char *body, size_t len, json_object **root,
			  size_t *value_start, size_t *value_end, gp_error *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t		start = 0;
	size_t		parse_end;
	size_t		i;
	size_t		bad;

	*root = NULL;
	if (body == NULL)
		len = 0;
	while (start < len && is_json_ws(body[start]))
		start++;
	if (start == len)
	{
		gpi_error_set(err, "empty body");
		return GP_ERR_JSON;
	}
	if (len > (size_t) INT_MAX - 1)
	{
		/* json_tokener_parse_ex takes an int length */
		gpi_error_set(err, "body too large (%zu bytes)", len);
		return GP_ERR_JSON;
	}

	bad = gpi_utf8_invalid_at(body, len);
	if (bad < len)
	{
		gpi_error_set(err, "invalid JSON: invalid UTF-8 at offset %zu", bad);
		return GP_ERR_JSON;
	}

	tok = json_tokener_new_ex(GPI_JSON_MAX_DEPTH);
	if (tok == NULL)
	{
		gpi_error_set(err, "out of memory");
		return GP_ERR_JSON;
	}
	/* strict: no trailing commas, single quotes, comments, leading zeros... */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

	obj = json_tokener_parse_ex(tok, body, (int) len);
	jerr = json_tokener_get_error(tok);
	parse_end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && parse_end == len)
	{
		/*
		 * All input consumed but the value is still open.  For a bare
		 * top-level number ("123") that is only because json-c cannot know
		 * the number ended; a terminating NUL tells it.  A truly truncated
		 * body ("[1,2") turns into "unexpected end of data" here.
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	else if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;	/* defensive: cannot happen */
	if (jerr != json_tokener_success)
	{
		gpi_error_set(err, "invalid JSON: %s at offset %zu",
					  json_tokener_error_desc(jerr), parse_end);
		if (obj != NULL)
			json_object_put(obj);
		json_tokener_free(tok);
		return GP_ERR_JSON;
	}
	json_tokener_free(tok);

	/*
	 * Strict mode already refuses most trailing data, but json-c treats a
	 * NUL byte as the end of input, so "[...]\0garbage" would otherwise be
	 * accepted: check the rest ourselves.
	 */
	i = parse_end;
	while (i < len && is_json_ws(body[i]))
		i++;
	if (i < len)
	{
		gpi_error_set(err, "invalid JSON: unexpected data after the value at offset %zu", i);
		if (obj != NULL)
			json_object_put(obj);
		return GP_ERR_JSON;
	}

	/* the value's own bytes, without the surrounding whitespace */
	i = parse_end;
	while (i > start && is_json_ws(body[i - 1]))
		i--;
	*root = obj;
	if (value_start != NULL)
		*value_start = start;
	if (value_end != NULL)
		*value_end = i;
	return GP_OK;
}
