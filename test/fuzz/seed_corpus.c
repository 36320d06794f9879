/*
 * seed_corpus.c
 *	  Writes the fuzz seed corpus from the recorded fixtures.
 *
 * Usage: seed_corpus FIXTURES_DIR OUT_DIR
 *
 * Seeds are the REST bodies as Gemini sends them: the whole-file recordings,
 * each line of the symbol-details recording, the bodies inside the
 * conformance wrappers, every value of the documentation examples, and a
 * trades page rebuilt from the websocket trade recording.  A C program
 * (rather than a script) so the only tools needed are the compiler and
 * json-c that the tests already use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char *out_dir;
static int	n_seeds;

static void
write_seed(const char *data, size_t len)
{
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/seed_%03d", out_dir, n_seeds++);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len)
	{
		fprintf(stderr, "seed_corpus: cannot write %s\n", path);
		exit(1);
	}
	fclose(f);
}

static char *
read_file(const char *dir, const char *rel, size_t *len)
{
	char		path[1024];
	FILE	   *f;
	char	   *buf;
	long		n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		fprintf(stderr, "seed_corpus: cannot read %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (fread(buf, 1, (size_t) n, f) != (size_t) n)
		exit(1);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static void
seed_whole(const char *dir, const char *rel)
{
	size_t		len;
	char	   *b = read_file(dir, rel, &len);

	write_seed(b, len);
	free(b);
}

static void
seed_lines(const char *dir, const char *rel)
{
	size_t		len;
	char	   *b = read_file(dir, rel, &len);
	char	   *save = NULL;
	char	   *line;

	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		write_seed(line, strlen(line));
	free(b);
}

static void
seed_conformance(const char *dir, const char *rel)
{
	size_t		len;
	char	   *b = read_file(dir, rel, &len);
	json_object *root = json_tokener_parse(b);
	json_object *resp;
	json_object *body;

	if (json_object_object_get_ex(root, "response", &resp) &&
		json_object_object_get_ex(resp, "body", &body) &&
		json_object_get_string_len(body) > 0)
		write_seed(json_object_get_string(body), (size_t) json_object_get_string_len(body));
	json_object_put(root);
	free(b);
}

static void
seed_doc_examples(const char *dir, const char *rel)
{
	size_t		len;
	char	   *b = read_file(dir, rel, &len);
	json_object *root = json_tokener_parse(b);

	json_object_object_foreach(root, key, val)
	{
		const char *s = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);

		(void) key;
		write_seed(s, strlen(s));
	}
	json_object_put(root);
	free(b);
}

/* The websocket trades rewritten as one REST /v1/trades page. */
static void
seed_v2_trades(const char *dir, const char *rel)
{
	size_t		len;
	char	   *b = read_file(dir, rel, &len);
	json_object *page = json_object_new_array();
	char	   *save = NULL;
	char	   *line;
	const char *s;

	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		json_object *m = json_tokener_parse(line);
		json_object *t = json_object_new_object();
		json_object *v;

		if (json_object_object_get_ex(m, "event_id", &v))
			json_object_object_add(t, "tid", json_object_get(v));
		if (json_object_object_get_ex(m, "timestamp", &v))
			json_object_object_add(t, "timestampms", json_object_get(v));
		if (json_object_object_get_ex(m, "price", &v))
			json_object_object_add(t, "price", json_object_get(v));
		if (json_object_object_get_ex(m, "quantity", &v))
			json_object_object_add(t, "amount", json_object_get(v));
		json_object_object_add(t, "exchange", json_object_new_string("gemini"));
		if (json_object_object_get_ex(m, "side", &v))
			json_object_object_add(t, "type", json_object_get(v));
		json_object_array_add(page, t);
		json_object_put(m);
	}
	s = json_object_to_json_string_ext(page, JSON_C_TO_STRING_PLAIN);
	write_seed(s, strlen(s));
	json_object_put(page);
	free(b);
}

/*
 * Hand-made bodies for what the recordings lack: escapes and brackets
 * inside strings, nested unknown fields, odd whitespace, every field type
 * variant.  These are what exercise the raw-span scanner.
 */
static const char *const edge_seeds[] = {
	"[{\"tid\":1,\"timestampms\":2,\"price\":\"1.5\",\"amount\":\"2\",\"type\":\"buy\","
	"\"note\":\"a\\\"b\\\\c\\/d\\u00e9]},[\"},"
	"{\"tid\":\"2\",\"timestampms\":\"3\",\"price\":3.25,\"amount\":1E-8,\"type\":\"sell\","
	"\"broken\":true,\"x\":[{\"y\":[1,{\"z\":\"]\\\\\"}]}]}]",
	"\r\n[\t{ \"tid\" :\t5 ,\r\n \"timestampms\": 6, \"price\" : \"7\" , \"amount\":\"8\","
	" \"type\":\"auction\" } ,\n{\"tid\":9,\"type\":\"block\"}\n]\n",
	"[{\"tid\":-1,\"timestampms\":1.5,\"price\":{},\"amount\":[],\"type\":\"foo\",\"broken\":\"yes\"},"
	"null,1,\"s\",[],{},{\"tid\":9223372036854775808},{\"tid\":\"9223372036854775807\"}]",
	"[[1710324000000,73402.61,\"73402.61\",73268,1E-8,0],[\"1\",1,2,3,4,5]]",
	"{\"symbol\":\"BTCUSD\",\"tick_size\":null,\"quote_increment\":\"0.01\",\"min_order_size\":1,"
	"\"status\":\"open\",\"product_type\":\"spot\",\"contract_type\":\"vanilla\"}",
	"{\"result\":\"error\",\"reason\":\"InvalidSymbol\",\"message\":\"Received unsupported symbol 'nosuch'\"}",
	"[\"btcusd\",\"ethusd\",\"\\u0062tc\"]",
};

int
main(int argc, char **argv)
{
	const char *fx;

	if (argc != 3)
	{
		fprintf(stderr, "usage: seed_corpus FIXTURES_DIR OUT_DIR\n");
		return 2;
	}
	fx = argv[1];
	out_dir = argv[2];

	seed_whole(fx, "rest_v1_trades_btcusdt_2024-03-13_ccxt.json");
	seed_whole(fx, "rest_v1_symbols_2021-06-23.json");
	seed_whole(fx, "rest_v2_candles_btcusdt_1hr_2024-03-13_ccxt.json");
	seed_whole(fx, "rest_v1_pubticker_btcusdt_2024-03-13_ccxt.json");
	seed_whole(fx, "rest_v1_pubticker_btcgusdperp_2024-04-11_ccxt.json");
	seed_whole(fx, "rest_v1_pubticker_usdcusd_2024-04-11_ccxt.json");
	seed_lines(fx, "rest_v1_symbols_details_2021-06-23.jsonl");
	seed_conformance(fx, "official_conformance/not-found-404-empty-body.json");
	seed_conformance(fx, "official_conformance/rate-limited-429-retry-after.json");
	seed_conformance(fx, "official_conformance/server-error-500-unstructured.json");
	seed_doc_examples(fx, "docs_examples/rest_doc_examples.json");
	seed_v2_trades(fx, "v2_trade.jsonl");
	{
		size_t		i;

		for (i = 0; i < sizeof(edge_seeds) / sizeof(edge_seeds[0]); i++)
			write_seed(edge_seeds[i], strlen(edge_seeds[i]));
	}
	printf("seed_corpus: %d seeds in %s\n", n_seeds, out_dir);
	return 0;
}
