/*
 * gw_subscribe.c
 *	  The subscribe frames the client sends, built with json-c so that
 *	  quoting and escaping are json-c's, never hand-made.
 *
 *	 v2:	  {"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD",...]},
 *			   {"name":"candles_1m","symbols":[...]}]}
 *	 new API: {"id":"<id>","method":"subscribe","params":["btcusd@trade","btcusd@depth@100ms",...]}
 *
 * Symbols are trimmed of surrounding blanks (as Gemini's SDKs do), must
 * then be symbols by gpi_ws_symbol_ok (letters, digits, '-', '_', '.';
 * so no '@' can forge another stream name), and are upper-cased for v2 and
 * lower-cased for the new API.  The id must be valid UTF-8 of at most 31
 * bytes: longer would not fit gw_message.id when the ack echoes it back.
 * Any invalid argument, an empty symbol list, or no stream at all gives
 * NULL, as does running out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

#define STREAM_TRADE "@trade"
#define STREAM_DEPTH "@depth@100ms"

/*
 * sym trimmed, checked and case-mapped into buf (GPI_WS_SYMBOL_MAX + 1
 * bytes); returns its length, 0 when sym is not a usable symbol.
 */
static size_t
norm_symbol(const char *sym, int upper, char *buf)
{
	size_t		len;
	size_t		i;

	if (sym == NULL)
		return 0;
	while (*sym == ' ' || *sym == '\t' || *sym == '\r' || *sym == '\n')
		sym++;
	len = strlen(sym);
	while (len > 0 && (sym[len - 1] == ' ' || sym[len - 1] == '\t' ||
					   sym[len - 1] == '\r' || sym[len - 1] == '\n'))
		len--;
	if (!gpi_ws_symbol_ok(sym, len))
		return 0;
	for (i = 0; i < len; i++)
	{
		char		c = sym[i];

		if (upper && c >= 'a' && c <= 'z')
			c = (char) (c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		buf[i] = c;
	}
	buf[len] = '\0';
	return len;
}

/* Add val (owned) to obj under key; on failure val is released.  0 on failure. */
static int
add_member(json_object *obj, const char *key, json_object *val)
{
	if (val == NULL)
		return 0;
	if (json_object_object_add(obj, key, val) != 0)
	{
		json_object_put(val);
		return 0;
	}
	return 1;
}

/* Append val (owned) to arr; on failure val is released.  0 on failure. */
static int
add_element(json_object *arr, json_object *val)
{
	if (val == NULL)
		return 0;
	if (json_object_array_add(arr, val) != 0)
	{
		json_object_put(val);
		return 0;
	}
	return 1;
}

/* malloc'd compact text of root, which is released; NULL on failure. */
static char *
finish(json_object *root, int ok)
{
	char	   *out = NULL;

	if (ok)
	{
		const char *text = json_object_to_json_string_ext(root,
														  JSON_C_TO_STRING_PLAIN |
														  JSON_C_TO_STRING_NOSLASHESCAPE);

		if (text != NULL)
			out = strdup(text);
	}
	json_object_put(root);
	return out;
}

/* {"name":name,"symbols":[...upper case...]} appended to subs; 0 on failure. */
static int
add_v2_subscription(json_object *subs, const char *name,
					const char *const *symbols, size_t n)
{
	json_object *sub = json_object_new_object();
	json_object *list = json_object_new_array();
	char		buf[GPI_WS_SYMBOL_MAX + 1];
	size_t		i;
	int			ok;

	ok = sub != NULL && list != NULL &&
		add_member(sub, "name", json_object_new_string(name));
	for (i = 0; ok && i < n; i++)
	{
		size_t		len = norm_symbol(symbols[i], 1, buf);

		ok = len > 0 && add_element(list, json_object_new_string_len(buf, (int) len));
	}
	if (ok)
	{
		ok = add_member(sub, "symbols", list);
		list = NULL;			/* owned by sub now, or released */
	}
	if (list != NULL)
		json_object_put(list);
	if (!ok)
	{
		if (sub != NULL)
			json_object_put(sub);
		return 0;
	}
	return add_element(subs, sub);
}

char *
gw_v2_subscribe(const char *const *symbols, size_t n, int with_candles_1m)
{
	json_object *root;
	json_object *subs;
	int			ok;

	if (symbols == NULL || n == 0)
		return NULL;
	root = json_object_new_object();
	if (root == NULL)
		return NULL;
	subs = json_object_new_array();
	ok = add_member(root, "type", json_object_new_string("subscribe"));
	if (ok)
		ok = add_member(root, "subscriptions", subs);	/* root owns subs now */
	else if (subs != NULL)
		json_object_put(subs);
	ok = ok && add_v2_subscription(subs, "l2", symbols, n) &&
		(!with_candles_1m || add_v2_subscription(subs, "candles_1m", symbols, n));
	return finish(root, ok);
}

char *
gw_new_subscribe(const char *id, const char *const *symbols, size_t n,
				 int trades, int depth)
{
	json_object *root;
	json_object *params;
	char		stream[GPI_WS_SYMBOL_MAX + sizeof(STREAM_DEPTH) + sizeof(STREAM_TRADE)];
	size_t		idlen;
	size_t		i;
	int			ok;

	if (id == NULL || symbols == NULL || n == 0 || (!trades && !depth))
		return NULL;
	idlen = strlen(id);
	if (idlen == 0 || idlen > GPI_WS_SYMBOL_MAX || gpi_utf8_invalid_at(id, idlen) < idlen)
		return NULL;

	root = json_object_new_object();
	if (root == NULL)
		return NULL;
	params = json_object_new_array();
	ok = add_member(root, "id", json_object_new_string_len(id, (int) idlen)) &&
		add_member(root, "method", json_object_new_string("subscribe"));
	if (ok)
		ok = add_member(root, "params", params);	/* root owns params now */
	else if (params != NULL)
		json_object_put(params);
	for (i = 0; ok && i < n; i++)
	{
		size_t		len = norm_symbol(symbols[i], 0, stream);

		ok = len > 0;
		if (ok && trades)
		{
			memcpy(stream + len, STREAM_TRADE, sizeof(STREAM_TRADE));
			ok = add_element(params, json_object_new_string(stream));
		}
		if (ok && depth)
		{
			memcpy(stream + len, STREAM_DEPTH, sizeof(STREAM_DEPTH));
			ok = add_element(params, json_object_new_string(stream));
		}
	}
	return finish(root, ok);
}
