/*
 * gp_spans.c
 *	  Finding each top-level array element's exact bytes, for "raw".
 *
 * Every trade keeps its JSON text so a bad element can be quarantined as it
 * was received.  Asking json-c to re-serialise 500 objects per page would
 * cost about as much as parsing them again, and would not even give the
 * bytes that were sent.  Since json-c has already validated the body, a
 * small scanner that only tracks strings and bracket depth is enough to cut
 * the array into elements.  It never reads outside [pos, end) and gives up
 * (leaving the caller to json-c's serialisation) on anything unexpected.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
gpi_span_begin(gpi_span_cursor *c, const char *body, size_t start, size_t end)
{
	c->body = body;
	c->end = end;
	c->pos = start + 1;
	c->done = (start >= end || body[start] != '[');
}

int
gpi_span_next(gpi_span_cursor *c, size_t *el_start, size_t *el_len)
{
	const char *b = c->body;
	size_t		pos = c->pos;
	size_t		start;
	size_t		stop;
	int			depth = 0;

	if (c->done)
		return 0;
	while (pos < c->end && is_ws(b[pos]))
		pos++;
	/* after an element we stand on its ',' (or on the closing ']') */
	if (pos < c->end && b[pos] == ',')
	{
		pos++;
		while (pos < c->end && is_ws(b[pos]))
			pos++;
	}
	if (pos >= c->end || b[pos] == ']')
	{
		c->done = 1;
		return 0;
	}

	start = pos;
	while (pos < c->end)
	{
		char		ch = b[pos];

		if (ch == '"')
		{
			/* skip the string, honouring backslash escapes */
			pos++;
			while (pos < c->end && b[pos] != '"')
				pos += (b[pos] == '\\') ? 2 : 1;
			if (pos >= c->end)
				break;
		}
		else if (ch == '[' || ch == '{')
			depth++;
		else if (ch == ']' || ch == '}')
		{
			if (depth == 0)
				break;			/* the array's own closing bracket */
			depth--;
		}
		else if (ch == ',' && depth == 0)
			break;
		pos++;
	}
	if (pos >= c->end)
	{
		c->done = 1;			/* ran off the end: not what json-c accepted */
		return 0;
	}

	stop = pos;
	while (stop > start && is_ws(b[stop - 1]))
		stop--;
	if (stop == start)
	{
		c->done = 1;
		return 0;
	}
	c->pos = pos;
	*el_start = start;
	*el_len = stop - start;
	return 1;
}

const char *
gpi_raw_text(gpi_span_cursor *c, json_object *v, gpi_arena *a)
{
	size_t		start;
	size_t		len;
	const char *s;

	if (gpi_span_next(c, &start, &len))
		return gpi_arena_strndup(a, c->body + start, len);

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/*
	 * json-c accepted the array, so the scanner should always cut it: in a
	 * fuzz build, make a scanner bug a crash instead of a silent fallback.
	 */
	abort();
#endif

	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		s = "null";
	return gpi_arena_strndup(a, s, strlen(s));
}
