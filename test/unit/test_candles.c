/*
 * test_candles.c
 *	  gp_parse_candles on hand-made bodies: exact number text, shapes.
 */
#include <string.h>

#include "gemini_parse.h"
#include "test_util.h"

static gp_status
candles(const char *body, gp_candles *c, gp_error *e)
{
	return gp_parse_candles(body, strlen(body), c, e);
}

static void
test_good(void)
{
	gp_candles	c;
	gp_error	e;

	CHECK(candles("[[1710324000000,73402.61,73402.61,73268.24,73268.24,0.05445598],"
				  " [1710320400000, 68038, \"1E-8\", 1e-8, 7.0, 0]]", &c, &e) == GP_OK);
	CHECK(c.n == 2);
	if (c.n == 2)
	{
		CHECK_I64(c.candles[0].time_ms, INT64_C(1710324000000));
		CHECK_STR(c.candles[0].open, "73402.61");
		CHECK_STR(c.candles[0].high, "73402.61");
		CHECK_STR(c.candles[0].low, "73268.24");
		CHECK_STR(c.candles[0].close, "73268.24");
		CHECK_STR(c.candles[0].volume, "0.05445598");
		CHECK_I64(c.candles[1].time_ms, INT64_C(1710320400000));
		CHECK_STR(c.candles[1].open, "68038");
		CHECK_STR(c.candles[1].high, "1E-8");
		CHECK_STR(c.candles[1].low, "1e-8");
		CHECK_STR(c.candles[1].close, "7.0");
		CHECK_STR(c.candles[1].volume, "0");
	}
	gp_candles_free(&c);
	gp_candles_free(&c);

	CHECK(candles("[]", &c, &e) == GP_OK && c.n == 0 && c.candles == NULL);
	gp_candles_free(&c);

	/* time as a string of digits, like the other integers */
	CHECK(candles("[[\"1710324000000\",1,2,3,4,5]]", &c, &e) == GP_OK && c.n == 1);
	if (c.n == 1)
		CHECK_I64(c.candles[0].time_ms, INT64_C(1710324000000));
	gp_candles_free(&c);
}

static void
expect_shape(const char *file, int line, const char *body, const char *in_msg)
{
	gp_candles	c;
	gp_error	e;
	gp_status	st = candles(body, &c, &e);

	t_check(st == GP_ERR_SHAPE, file, line, "%s: status %d (%s)", body, (int) st, e.message);
	t_check(c.n == 0 && c.candles == NULL && c.priv == NULL, file, line, "result not empty");
	if (in_msg != NULL)
		t_check(strstr(e.message, in_msg) != NULL, file, line,
				"message \"%s\" lacks \"%s\"", e.message, in_msg);
	gp_candles_free(&c);
}

#define EXPECT_SHAPE(body, msg) expect_shape(__FILE__, __LINE__, body, msg)

static void
test_bad(void)
{
	gp_candles	c;
	gp_error	e;

	EXPECT_SHAPE("[[1,2,3,4,5,6],[1,2,3,4,5]]", "candle 1");
	EXPECT_SHAPE("[[1,2,3,4,5,6,7]]", "candle 0");
	EXPECT_SHAPE("[[]]", "candle 0");
	EXPECT_SHAPE("[{\"time\":1}]", "candle 0");
	EXPECT_SHAPE("[1]", "candle 0");
	EXPECT_SHAPE("[[1.5,2,3,4,5,6]]", "time");
	EXPECT_SHAPE("[[1e12,2,3,4,5,6]]", "time");
	EXPECT_SHAPE("[[-1,2,3,4,5,6]]", "negative");
	EXPECT_SHAPE("[[9223372036854775808,2,3,4,5,6]]", "out of range");
	EXPECT_SHAPE("[[null,2,3,4,5,6]]", "time");
	EXPECT_SHAPE("[[1,true,3,4,5,6]]", "open");
	EXPECT_SHAPE("[[1,2,\"x\",4,5,6]]", "high");
	EXPECT_SHAPE("[[1,2,3,null,5,6]]", "low");
	EXPECT_SHAPE("[[1,2,3,4,NaN,6]]", "close");
	EXPECT_SHAPE("[[1,2,3,4,5,[6]]]", "volume");
	EXPECT_SHAPE("[[1,2,3,4,5,99999999999999999999999]]", "volume");
	EXPECT_SHAPE("{\"candles\":[]}", "array");
	EXPECT_SHAPE("7", NULL);

	CHECK(candles("{\"result\":\"error\",\"reason\":\"InvalidSymbol\",\"message\":\"x\"}",
				  &c, &e) == GP_ERR_API);
	CHECK_STR(e.reason, "InvalidSymbol");
}

void
test_candles(void)
{
	test_good();
	test_bad();
}
