/*
 * test_json_errors.c
 *	  Bodies that are not (complete, clean) JSON, through every parser, and
 *	  gp_extract_api_error.  These are what a cut connection, a proxy error
 *	  page or a fuzzer produces: each must be a clean GP_ERR_JSON with the
 *	  offset, never a crash or a partial result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini_parse.h"
#include "parse_internal.h"
#include "test_util.h"

/* Run body through all four parsers; each must return want, and free cleanly. */
static void
expect_all(const char *file, int line, const char *body, size_t len,
		   gp_status want, const char *want_in_message)
{
	gp_trades_page tp;
	gp_symbol_list sl;
	gp_symbol_details sd;
	gp_candles cd;
	gp_error	e;
	gp_status	st;
	const char *names[4] = {"trades", "symbol_list", "symbol_details", "candles"};
	int			k;

	for (k = 0; k < 4; k++)
	{
		memset(&e, 'x', sizeof(e));		/* must be overwritten */
		switch (k)
		{
			case 0:
				st = gp_parse_trades(body, len, &tp, &e);
				t_check(tp.n == 0 && tp.trades == NULL && tp.priv == NULL, file, line,
						"trades result not empty on error");
				gp_trades_page_free(&tp);
				break;
			case 1:
				st = gp_parse_symbol_list(body, len, &sl, &e);
				t_check(sl.n == 0 && sl.symbols == NULL, file, line, "symbols not empty");
				gp_symbol_list_free(&sl);
				break;
			case 2:
				st = gp_parse_symbol_details(body, len, &sd, &e);
				t_check(sd.symbol == NULL && sd.raw == NULL, file, line, "details not empty");
				gp_symbol_details_free(&sd);
				break;
			default:
				st = gp_parse_candles(body, len, &cd, &e);
				t_check(cd.n == 0 && cd.candles == NULL, file, line, "candles not empty");
				gp_candles_free(&cd);
				break;
		}
		t_check(st == want, file, line, "%s: status %d, want %d (%s)", names[k],
				(int) st, (int) want, e.message);
		t_check(memchr(e.message, '\0', sizeof(e.message)) != NULL, file, line,
				"%s: message not terminated", names[k]);
		if (want_in_message != NULL && memchr(e.message, '\0', sizeof(e.message)))
			t_check(strstr(e.message, want_in_message) != NULL, file, line,
					"%s: message \"%s\" lacks \"%s\"", names[k], e.message, want_in_message);
	}
}

#define EXPECT_ALL(body, len, want, msg) expect_all(__FILE__, __LINE__, body, len, want, msg)
#define EXPECT_JSON(body, msg) expect_all(__FILE__, __LINE__, body, strlen(body), GP_ERR_JSON, msg)

static void
test_not_json(void)
{
	char	   *deep;
	size_t		i;
	const size_t depth = 100000;

	EXPECT_ALL("", 0, GP_ERR_JSON, "empty body");
	EXPECT_ALL(NULL, 0, GP_ERR_JSON, "empty body");
	EXPECT_JSON("   \n\t\r ", "empty body");
	EXPECT_JSON("upstream unavailable", "offset 0");
	EXPECT_JSON("<html><body>502 Bad Gateway</body></html>", "offset 0");

	/* truncation reports where input ran out */
	EXPECT_JSON("[1,2", "offset 4");
	EXPECT_JSON("[{\"tid\":1,\"price\":\"36", "offset 21");
	EXPECT_JSON("{\"symbol\":", "offset 10");
	EXPECT_JSON("[", "offset 1");
	EXPECT_JSON("\"abc", "offset 4");
	EXPECT_JSON("tru", "offset 3");

	/* trailing garbage, in strict json-c and after a NUL byte */
	EXPECT_JSON("[] x", "offset 3");
	EXPECT_JSON("[]]", "offset 2");
	EXPECT_JSON("{}{}", "offset 2");
	EXPECT_JSON("[1] [2]", "offset 4");
	EXPECT_ALL("[]\0x", 4, GP_ERR_JSON, "offset 2");
	EXPECT_ALL("[]\0", 3, GP_ERR_JSON, "offset 2");
	EXPECT_ALL("\0[]", 3, GP_ERR_JSON, "offset 0");

	/* NUL bytes inside */
	EXPECT_ALL("[\"a\0b\"]", 7, GP_ERR_JSON, "offset 4");	/* json-c counts the NUL */
	EXPECT_ALL("[1,\0 2]", 7, GP_ERR_JSON, NULL);

	/*
	 * invalid UTF-8 (PostgreSQL would refuse it in a text column): a stray
	 * byte, overlong forms, a truncated sequence, a UTF-16 surrogate, a code
	 * point above U+10FFFF, a lone continuation byte; inside or outside
	 * strings
	 */
	EXPECT_JSON("[\"\xff\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[\"\xc0\xaf\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[\"\xe0\x80\xaf\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[\"ab\xe2\x82\"]", "invalid UTF-8 at offset 4");
	EXPECT_JSON("[\"\xed\xa0\x80\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[\"\x80\"]", "invalid UTF-8 at offset 2");
	EXPECT_JSON("[1]\xe2\x82", "invalid UTF-8 at offset 3");
	EXPECT_JSON("[\xc3\xa9]", "offset 1");
	EXPECT_JSON("\xef\xbb\xbf[]", NULL);	/* a BOM is not JSON either */

	/* non-strict json-c extensions are refused */
	EXPECT_JSON("[1,]", NULL);
	EXPECT_JSON("['a']", NULL);
	EXPECT_JSON("[01]", NULL);
	EXPECT_JSON("[1/*c*/]", NULL);
	EXPECT_JSON("[TRUE]", NULL);
	EXPECT_JSON("{a:1}", NULL);

	/* absurd nesting: refused quickly, no stack overflow */
	deep = malloc(2 * depth + 1);
	memset(deep, '[', depth);
	CHECK(deep != NULL);
	EXPECT_ALL(deep, depth, GP_ERR_JSON, "offset");
	for (i = 0; i < depth; i++)
		deep[depth + i] = ']';
	EXPECT_ALL(deep, 2 * depth, GP_ERR_JSON, "nesting");
	for (i = 0; i < depth; i++)
		deep[i] = (i % 2) ? '[' : '{';
	EXPECT_ALL(deep, depth, GP_ERR_JSON, NULL);
	free(deep);
	/* moderate nesting inside an element is fine */
	{
		gp_trades_page p;
		const char *b = "[{\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}]";

		CHECK(gp_parse_trades(b, strlen(b), &p, NULL) == GP_OK && p.n == 1 && p.n_bad == 1);
		gp_trades_page_free(&p);
	}
}

/* The validator directly (a private helper, hence parse_internal.h). */
static void
test_utf8_validator(void)
{
	static const char *const good[] = {
		"", "plain", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
		"\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "caf\xc3\xa9 \xe2\x82\xac"
	};
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x7f", "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xef\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\xfe"
	};
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(gpi_utf8_invalid_at(good[i], strlen(good[i])) == strlen(good[i]),
			   "valid UTF-8 %zu refused", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(gpi_utf8_invalid_at(bad[i], strlen(bad[i])) == 0,
			   "invalid UTF-8 %zu accepted", i);
	CHECK(gpi_utf8_invalid_at("ab\xc3\xa9\xc3", 5) == 4);
}

static void
test_valid_utf8(void)
{
	gp_trades_page p;
	gp_error	e;
	const char *body = "[{\"tid\":1,\"timestampms\":2,\"price\":\"1\",\"amount\":\"2\","
		"\"type\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"note\":\"\\ud83d\\ude00\"}]";

	/* real UTF-8 is fine; the unknown type is named in the reason */
	CHECK(gp_parse_trades(body, strlen(body), &p, &e) == GP_OK && p.n == 1);
	if (p.n == 1)
		CHECK_STR(p.trades[0].bad_reason, "unknown type \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	gp_trades_page_free(&p);
}

static void
test_extract_api_error(void)
{
	gp_error	e;
	const char *body;
	char		longbody[1024];
	size_t		n;

	body = "{\"result\":\"error\",\"reason\":\"InvalidSymbol\",\"message\":\"Received unsupported symbol 'nosuch'\"}";
	CHECK(gp_extract_api_error(body, strlen(body), &e) == 1);
	CHECK_STR(e.reason, "InvalidSymbol");
	CHECK_STR(e.api_message, "Received unsupported symbol 'nosuch'");
	CHECK(strstr(e.message, "InvalidSymbol") != NULL);

	/* not an API error: err is left alone */
	strcpy(e.reason, "keep");
	CHECK(gp_extract_api_error("", 0, &e) == 0);
	CHECK(gp_extract_api_error(NULL, 0, &e) == 0);
	CHECK(gp_extract_api_error("upstream unavailable", 20, &e) == 0);
	CHECK(gp_extract_api_error("[]", 2, &e) == 0);
	CHECK(gp_extract_api_error("{\"result\":\"ok\"}", 15, &e) == 0);
	CHECK(gp_extract_api_error("{\"result\":\"errors\"}", 19, &e) == 0);
	CHECK(gp_extract_api_error("{\"result\":true}", 15, &e) == 0);
	CHECK(gp_extract_api_error("{\"result\":\"error\"", 17, &e) == 0);	/* truncated */
	CHECK_STR(e.reason, "keep");

	/* reason and message are optional */
	body = "{\"result\":\"error\"}";
	CHECK(gp_extract_api_error(body, strlen(body), &e) == 1);
	CHECK_STR(e.reason, "");
	CHECK_STR(e.api_message, "");
	body = "{\"result\":\"error\",\"reason\":42,\"message\":null}";
	CHECK(gp_extract_api_error(body, strlen(body), &e) == 1);
	CHECK_STR(e.reason, "");
	CHECK(gp_extract_api_error(body, strlen(body), NULL) == 1);

	/* long values are truncated, on a UTF-8 boundary, and terminated */
	n = (size_t) snprintf(longbody, sizeof(longbody), "{\"result\":\"error\",\"reason\":\"");
	memset(longbody + n, 'r', 126);
	n += 126;
	n += (size_t) snprintf(longbody + n, sizeof(longbody) - n, "\xc3\xa9tail\",\"message\":\"");
	memset(longbody + n, 'm', 400);
	n += 400;
	n += (size_t) snprintf(longbody + n, sizeof(longbody) - n, "\"}");
	CHECK(gp_extract_api_error(longbody, n, &e) == 1);
	CHECK(strlen(e.reason) == 126);	/* the 2-byte e-acute does not fit in 127 */
	CHECK(strlen(e.api_message) == sizeof(e.api_message) - 1);
	CHECK(strlen(e.message) < sizeof(e.message));
}

void
test_json_errors(void)
{
	test_not_json();
	test_utf8_validator();
	test_valid_utf8();
	test_extract_api_error();
}
