/*
 * fuzz_parse.c
 *	  libFuzzer target: every parser of src/parse on arbitrary bytes.
 *
 * Besides "does not crash, leak or hit undefined behaviour" (the sanitizers'
 * job), it checks the promises callers rely on, and abort()s when one is
 * broken so libFuzzer saves the input:
 *  - messages are NUL-terminated, results empty on failure;
 *  - a usable trade has decimal price/amount and a non-negative tid;
 *  - a trade's raw text, parsed again on its own, gives the same trade
 *    (this is what proves the raw-span scanner cut the body correctly);
 *  - a websocket message (gw_parse_v2, gw_parse_new) holds only exact
 *    decimals, non-negative ids and times, an upper-case symbol and the
 *    arrays its kind promises; a failed one is all zero;
 *  - the subscribe builders' output is JSON naming exactly the streams
 *    asked for, whatever the symbols were;
 *  - the Parquet writer, fed the input as rows of every kind (NULLs,
 *    decimals at any width, strings of any bytes): it never fails on valid
 *    calls, and its file is framed ("PAR1", footer length inside the file);
 *  - S3's XML fields and the AWS credentials file: what is found is
 *    NUL-terminated, fits, never holds '<', and the cursor only moves
 *    forward; a key's percent-encoding holds only unreserved bytes and %XX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gemini_parse.h"
#include "gemini_ws.h"
#include "s3_text.h"
#include "pq_writer.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static void
check_error(const gp_error *e)
{
	REQUIRE(memchr(e->message, '\0', sizeof(e->message)) != NULL);
	REQUIRE(memchr(e->reason, '\0', sizeof(e->reason)) != NULL);
	REQUIRE(memchr(e->api_message, '\0', sizeof(e->api_message)) != NULL);
}

/* A trade's raw text must parse back, alone, into the same trade. */
static void
check_raw_roundtrip(const gp_trade *t)
{
	size_t		rlen = strlen(t->raw);
	char	   *body = malloc(rlen + 2);
	gp_trades_page again;
	gp_error	e;
	const gp_trade *u;

	body[0] = '[';
	memcpy(body + 1, t->raw, rlen);
	body[rlen + 1] = ']';
	REQUIRE(gp_parse_trades(body, rlen + 2, &again, &e) == GP_OK);
	REQUIRE(again.n == 1);
	u = &again.trades[0];
	REQUIRE((u->bad_reason == NULL) == (t->bad_reason == NULL));
	if (t->bad_reason != NULL)
		REQUIRE(strcmp(u->bad_reason, t->bad_reason) == 0);
	REQUIRE(u->has_tid == t->has_tid);
	if (t->has_tid)
		REQUIRE(u->tid == t->tid);
	REQUIRE(strcmp(u->raw, t->raw) == 0);
	if (t->bad_reason == NULL)
	{
		REQUIRE(u->timestampms == t->timestampms);
		REQUIRE(strcmp(u->price, t->price) == 0);
		REQUIRE(strcmp(u->amount, t->amount) == 0);
		REQUIRE(u->side == t->side && u->broken == t->broken);
	}
	gp_trades_page_free(&again);
	free(body);
}

static void
fuzz_trades(const char *data, size_t size)
{
	gp_trades_page p;
	gp_error	e;
	size_t		i;
	size_t		bad = 0;

	if (gp_parse_trades(data, size, &p, &e) != GP_OK)
	{
		check_error(&e);
		REQUIRE(p.n == 0 && p.trades == NULL && p.priv == NULL);
		return;
	}
	for (i = 0; i < p.n; i++)
	{
		const gp_trade *t = &p.trades[i];

		REQUIRE(t->raw != NULL && t->raw[0] != '\0');
		if (t->bad_reason != NULL)
		{
			bad++;
			continue;
		}
		REQUIRE(t->has_tid && t->tid >= 0 && t->timestampms >= 0);
		REQUIRE(gp_is_decimal(t->price) && gp_is_decimal(t->amount));
		REQUIRE(t->broken >= -1 && t->broken <= 1);
		REQUIRE(strcmp(gp_side_name(t->side), "unknown") != 0);
	}
	REQUIRE(bad == p.n_bad);
	/* the round trip parses again: limit it to keep executions fast */
	for (i = 0; i < p.n && i < 16; i++)
		check_raw_roundtrip(&p.trades[i]);
	gp_trades_page_free(&p);
}

static void
fuzz_symbols(const char *data, size_t size)
{
	gp_symbol_list l;
	gp_symbol_details d;
	gp_error	e;
	size_t		i;

	if (gp_parse_symbol_list(data, size, &l, &e) == GP_OK)
	{
		for (i = 0; i < l.n; i++)
			REQUIRE(l.symbols[i] != NULL && l.symbols[i][0] != '\0');
		gp_symbol_list_free(&l);
	}
	else
	{
		check_error(&e);
		REQUIRE(l.n == 0 && l.symbols == NULL && l.priv == NULL);
	}

	if (gp_parse_symbol_details(data, size, &d, &e) == GP_OK)
	{
		REQUIRE(d.symbol != NULL && d.symbol[0] != '\0' && d.raw != NULL);
		REQUIRE(d.tick_size == NULL || gp_is_decimal(d.tick_size));
		REQUIRE(d.quote_increment == NULL || gp_is_decimal(d.quote_increment));
		REQUIRE(d.min_order_size == NULL || gp_is_decimal(d.min_order_size));
		gp_symbol_details_free(&d);
	}
	else
	{
		check_error(&e);
		REQUIRE(d.symbol == NULL && d.priv == NULL);
	}
}

static void
fuzz_candles(const char *data, size_t size)
{
	gp_candles	c;
	gp_error	e;
	size_t		i;

	if (gp_parse_candles(data, size, &c, &e) != GP_OK)
	{
		check_error(&e);
		REQUIRE(c.n == 0 && c.candles == NULL && c.priv == NULL);
		return;
	}
	for (i = 0; i < c.n; i++)
	{
		const gp_candle *k = &c.candles[i];

		REQUIRE(k->time_ms >= 0);
		REQUIRE(gp_is_decimal(k->open) && gp_is_decimal(k->high) &&
				gp_is_decimal(k->low) && gp_is_decimal(k->close) &&
				gp_is_decimal(k->volume));
	}
	gp_candles_free(&c);
}

static void
fuzz_scalars(const char *data, size_t size)
{
	gp_error	e;
	int64_t		v;
	char	   *s;

	memset(&e, 0, sizeof(e));
	if (gp_extract_api_error(data, size, &e))
		check_error(&e);
	gp_parse_int64_text(data, size, &v);

	/* gp_is_decimal takes a C string */
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	(void) gp_is_decimal(s);
	free(s);
}

static int
is_zero_message(const gw_message *m)
{
	gw_message	z;

	memset(&z, 0, sizeof(z));
	return memcmp(m, &z, sizeof(z)) == 0;
}

/* A fixed-size text field: NUL-terminated inside its array. */
#define REQUIRE_TERMINATED(field) REQUIRE(memchr((field), '\0', sizeof(field)) != NULL)

static void
check_ws_message(const gw_message *m)
{
	size_t		i;

	REQUIRE((unsigned) m->kind <= (unsigned) GW_IGNORED);
	REQUIRE_TERMINATED(m->symbol);
	REQUIRE_TERMINATED(m->timeframe);
	REQUIRE_TERMINATED(m->id);
	REQUIRE_TERMINATED(m->error);
	for (i = 0; m->symbol[i] != '\0'; i++)
		REQUIRE(!(m->symbol[i] >= 'a' && m->symbol[i] <= 'z') &&
				(unsigned char) m->symbol[i] > ' ' && m->symbol[i] != '@' &&
				m->symbol[i] != '"');
	REQUIRE((m->n_levels == 0) == (m->levels == NULL));
	REQUIRE((m->n_trades == 0) == (m->trades == NULL));
	REQUIRE((m->n_candles == 0) == (m->candles == NULL));
	REQUIRE(m->first_update_id >= 0 && m->last_update_id >= 0 && m->event_time_ns >= 0);

	for (i = 0; i < m->n_levels; i++)
	{
		REQUIRE(m->levels[i].is_bid == 0 || m->levels[i].is_bid == 1);
		REQUIRE(gp_is_decimal(m->levels[i].price) && gp_is_decimal(m->levels[i].size));
	}
	for (i = 0; i < m->n_trades; i++)
	{
		const gw_trade *t = &m->trades[i];

		REQUIRE(t->tid >= 0 && t->timestampms >= 0);
		REQUIRE(gp_is_decimal(t->price) && gp_is_decimal(t->amount));
		REQUIRE(strcmp(gp_side_name(t->side), "unknown") != 0);
	}
	for (i = 0; i < m->n_candles; i++)
	{
		const gp_candle *k = &m->candles[i];

		REQUIRE(k->time_ms >= 0);
		REQUIRE(gp_is_decimal(k->open) && gp_is_decimal(k->high) &&
				gp_is_decimal(k->low) && gp_is_decimal(k->close) &&
				gp_is_decimal(k->volume));
	}
	REQUIRE(m->bid == NULL || gp_is_decimal(m->bid));
	REQUIRE(m->bid_size == NULL || gp_is_decimal(m->bid_size));
	REQUIRE(m->ask == NULL || gp_is_decimal(m->ask));
	REQUIRE(m->ask_size == NULL || gp_is_decimal(m->ask_size));

	/* what each kind promises, and nothing of the others */
	switch (m->kind)
	{
		case GW_TRADE:
			REQUIRE(m->n_trades == 1 && m->symbol[0] != '\0' && m->n_levels == 0);
			break;
		case GW_BOOK_SNAPSHOT:
		case GW_BOOK_UPDATE:
			REQUIRE(m->symbol[0] != '\0' && m->n_candles == 0);
			REQUIRE(m->kind == GW_BOOK_SNAPSHOT || m->n_trades == 0);
			break;
		case GW_CANDLES:
			REQUIRE(m->symbol[0] != '\0' && m->timeframe[0] != '\0');
			REQUIRE(m->n_levels == 0 && m->n_trades == 0);
			break;
		case GW_TOP_OF_BOOK:
			REQUIRE(m->symbol[0] != '\0' && m->n_levels == 0 && m->n_trades == 0);
			break;
		case GW_HEARTBEAT:
		case GW_ACK:
		case GW_ERROR:
		case GW_IGNORED:
			REQUIRE(m->priv == NULL && m->n_levels == 0 && m->n_trades == 0 &&
					m->n_candles == 0);
			REQUIRE(m->kind == GW_ERROR || m->error[0] == '\0');
			break;
	}
	if (m->kind == GW_ERROR)
		REQUIRE(m->error[0] != '\0');
}

static void
fuzz_ws(const char *data, size_t size)
{
	gw_message	m;
	gp_error	e;
	int			api;

	for (api = 0; api < 2; api++)
	{
		gp_status	st = api ? gw_parse_new(data, size, &m, &e) : gw_parse_v2(data, size, &m, &e);

		if (st == GP_OK)
		{
			REQUIRE(e.message[0] == '\0');
			check_ws_message(&m);
		}
		else
		{
			REQUIRE(st == GP_ERR_JSON || st == GP_ERR_SHAPE);
			check_error(&e);
			REQUIRE(e.message[0] != '\0');
			REQUIRE(is_zero_message(&m));
		}
		gw_message_free(&m);
		gw_message_free(&m);
		REQUIRE(is_zero_message(&m));
	}
}

/* Symbols (and an id) cut out of the input, through both builders. */
#define FUZZ_MAX_SYMBOLS 8

static void
fuzz_subscribe(const char *data, size_t size)
{
	char	   *copy;
	const char *syms[FUZZ_MAX_SYMBOLS];
	size_t		n = 0;
	size_t		i;
	size_t		start;
	int			flags;
	char	   *out;
	json_object *o;
	json_object *v;

	if (size < 1 || size > 4096)
		return;
	flags = (unsigned char) data[0];
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	/* split on ',' into NUL-terminated pieces; the first is the id */
	start = 0;
	for (i = 0; i <= size - 1 && n < FUZZ_MAX_SYMBOLS; i++)
	{
		if (i == size - 1 || copy[i] == ',')
		{
			copy[i] = '\0';
			syms[n++] = copy + start;
			start = i + 1;
		}
	}

	out = gw_v2_subscribe(syms + 1, n - 1, flags & 1);
	if (out != NULL)
	{
		json_object *subs;

		REQUIRE(n > 1);
		o = json_tokener_parse(out);
		REQUIRE(o != NULL && json_object_object_get_ex(o, "subscriptions", &subs));
		REQUIRE(json_object_array_length(subs) == ((flags & 1) ? 2u : 1u));
		for (i = 0; i < json_object_array_length(subs); i++)
		{
			json_object *list;
			size_t		k;

			REQUIRE(json_object_object_get_ex(json_object_array_get_idx(subs, i), "symbols", &list));
			REQUIRE(json_object_array_length(list) == n - 1);
			for (k = 0; k < n - 1; k++)
			{
				const char *s = json_object_get_string(json_object_array_get_idx(list, k));
				size_t		j;

				REQUIRE(s != NULL && s[0] != '\0');
				for (j = 0; s[j] != '\0'; j++)
					REQUIRE(!(s[j] >= 'a' && s[j] <= 'z') && s[j] != '@' && s[j] != ' ');
			}
		}
		json_object_put(o);
		free(out);
	}

	out = gw_new_subscribe(syms[0], syms + 1, n - 1, flags & 2, flags & 4);
	if (out != NULL)
	{
		json_object *params;
		size_t		per = ((flags & 2) ? 1 : 0) + ((flags & 4) ? 1 : 0);

		REQUIRE(n > 1 && per > 0);
		o = json_tokener_parse(out);
		REQUIRE(o != NULL && json_object_object_get_ex(o, "id", &v));
		REQUIRE(strcmp(json_object_get_string(v), syms[0]) == 0);
		REQUIRE(json_object_object_get_ex(o, "params", &params));
		REQUIRE(json_object_array_length(params) == (n - 1) * per);
		for (i = 0; i < json_object_array_length(params); i++)
		{
			const char *s = json_object_get_string(json_object_array_get_idx(params, i));
			const char *at = strchr(s, '@');

			/* one symbol, then exactly one of our two stream suffixes */
			REQUIRE(at != NULL && at != s);
			REQUIRE(strcmp(at, "@trade") == 0 || strcmp(at, "@depth@100ms") == 0);
		}
		json_object_put(o);
		free(out);
	}
	free(copy);
}

/* S3 answers (as s3.c reads them) and the credentials file, on arbitrary bytes. */
static void
fuzz_s3_text(const char *buf, size_t size)
{
	static const char *const tags[] = {"Code", "Message", "UploadId", "Key", "IsTruncated",
	"NextContinuationToken", "ETag"};
	char		out[64];
	char	   *enc;
	char	   *str;

	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++)
	{
		size_t		pos = 0;
		int			rc;

		while ((rc = s3x_next(buf, size, &pos, tags[t], out, sizeof(out))) == 1)
		{
			REQUIRE(memchr(out, '\0', sizeof(out)) != NULL);
			REQUIRE(strchr(out, '<') == NULL);
			REQUIRE(pos <= size);
		}
		REQUIRE(rc == 0 || rc == -1);
	}
	if (s3_ini_value(buf, size, "default", "aws_secret_access_key", out, sizeof(out)) == 1)
		REQUIRE(memchr(out, '\0', sizeof(out)) != NULL && strchr(out, '\n') == NULL);
	/* the encoder works on C strings: the input up to its first NUL */
	str = strndup(buf, size);
	enc = malloc(strlen(str) * 3 + 1);
	REQUIRE(s3_uri_encode(str, true, enc) == strlen(enc));
	for (const char *c = enc; *c; c++)
		REQUIRE((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				strchr("-_.~/%", *c) != NULL);
	free(enc);
	free(str);
}

static bool
pq_to_buf(void *arg, const uint8_t *data, size_t len)
{
	pq_buf_put((pq_buf *) arg, data, len);
	return true;
}

/* The input as rows: each byte picks NULL or a value for the next column. */
static void
fuzz_parquet(const char *buf, size_t size)
{
	static const pq_column_def cols[] = {
		{"i", PQ_INT64, true, 0, 0}, {"d", PQ_DECIMAL, true, 38, 10}, {"e", PQ_DECIMAL, true, 12, 2},
		{"s", PQ_STRING, true, 0, 0}, {"b", PQ_BOOLEAN, true, 0, 0}, {"f", PQ_DOUBLE, true, 0, 0},
		{"t", PQ_TIMESTAMP_US, false, 0, 0}, {"n", PQ_INT32, false, 0, 0}};
	pq_options	opt = {(size % 3 == 0) ? PQ_ZSTD : (size % 3 == 1) ? PQ_SNAPPY : PQ_UNCOMPRESSED, 1, 512, 64, "fuzz"};
	pq_buf		out = {0};
	const char *why;
	pq_writer  *w = pq_writer_new(cols, 8, &opt, pq_to_buf, &out, &why);
	uint32_t	flen;

	REQUIRE(w != NULL);
	for (size_t i = 0; i + 8 <= size; i += 8)
	{
		int64_t		v;

		memcpy(&v, buf + i, 8);
		for (int c = 0; c < 8; c++)
		{
			bool		null = c < 6 && (buf[i + c] & 7) == 0;

			if (null)
				pq_put_null(w, c);
			else if (c == 0 || c == 6)
				pq_put_i64(w, c, v);
			else if (c == 1)
				pq_put_i128(w, c, (__int128) v * (v % 1000));
			else if (c == 2)
				pq_put_i64(w, c, v % 1000000000000LL);
			else if (c == 3)
				pq_put_bytes(w, c, buf + i, (size_t) (buf[i] & 7));
			else if (c == 4)
				pq_put_bool(w, c, v & 1);
			else if (c == 5)
			{
				double		d;

				memcpy(&d, buf + i, 8);
				pq_put_double(w, c, d);
			}
			else
				pq_put_i32(w, c, (int32_t) v);
		}
		REQUIRE(pq_end_row(w));
	}
	REQUIRE(pq_finish(w));
	REQUIRE(out.len >= 12 && memcmp(out.data, "PAR1", 4) == 0 && memcmp(out.data + out.len - 4, "PAR1", 4) == 0);
	memcpy(&flen, out.data + out.len - 8, 4);
	REQUIRE(flen > 0 && flen <= out.len - 12);
	pq_writer_free(w);
	pq_buf_free(&out);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * Copy into an exact-size buffer so ASan flags any read past len (the
	 * parsers must never rely on a terminating NUL).
	 */
	char	   *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	fuzz_trades(buf, size);
	fuzz_symbols(buf, size);
	fuzz_candles(buf, size);
	fuzz_scalars(buf, size);
	fuzz_ws(buf, size);
	fuzz_subscribe(buf, size);
	fuzz_s3_text(buf, size);
	fuzz_parquet(buf, size);
	free(buf);
	return 0;
}
