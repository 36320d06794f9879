/*
 * test_numbers.c
 *	  gp_parse_int64_text and gp_is_decimal: the strictness that keeps ids
 *	  exact and guarantees numeric_in will accept every decimal we pass on.
 */
#include <string.h>

#include "gemini_parse.h"
#include "test_util.h"

/* gp_parse_int64_text on a C string */
static int
int_ok(const char *s, int64_t *v)
{
	return gp_parse_int64_text(s, strlen(s), v);
}

static void
test_int64_text(void)
{
	int64_t		v = 0;
	static const char *const bad[] = {
		"", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "--1", "1-", "abc",
		"9223372036854775808", "-9223372036854775809", "18446744073709551616",
		"99999999999999999999", "00000000000000000001", "1,000", "\t1", "١"
	};
	size_t		i;

	CHECK(int_ok("0", &v) && v == 0);
	CHECK(int_ok("-0", &v) && v == 0);
	CHECK(int_ok("2840140831246421", &v) && v == INT64_C(2840140831246421));
	CHECK(int_ok("9223372036854775807", &v) && v == INT64_MAX);
	CHECK(int_ok("-9223372036854775808", &v) && v == INT64_MIN);
	CHECK(int_ok("-1", &v) && v == -1);
	/* leading zeros are plain digits as long as there are at most 19 */
	CHECK(int_ok("0000000000000000042", &v) && v == 42);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!int_ok(bad[i], &v), "gp_parse_int64_text accepted \"%s\"", bad[i]);

	/* the length is honoured: no reading past it, embedded NUL refused */
	CHECK(gp_parse_int64_text("12345", 3, &v) && v == 123);
	CHECK(!gp_parse_int64_text("12\0" "3", 4, &v));
	CHECK(!gp_parse_int64_text(NULL, 0, &v));
	/* out may be NULL for a pure syntax check */
	CHECK(gp_parse_int64_text("7", 1, NULL));
}

static void
test_decimal(void)
{
	static const char *const good[] = {
		"0", "-1.5", "3610.85", "1E-8", "1e+10", "1e-10", ".5", "5.", "-.5",
		"0.00028921", "73268.24", "5.e3", "-0", "1E1000", "1e-1000",
		"123456789012345678901234567890.123456789012345678901234567890"
	};
	static const char *const bad[] = {
		"", "abc", "1.2.3", "NaN", "nan", "Infinity", "-Infinity", "inf",
		" 1", "1 ", "0x10", "--1", "+1", ".", "-", "-.", "e5", "1e", "1e+",
		"1e1.5", "1,5", "1_000", "1e1001", "1e-1001", ".e1", "1..2", "\t1"
	};
	char		longnum[1100];
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECKF(gp_is_decimal(good[i]), "gp_is_decimal refused \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(!gp_is_decimal(bad[i]), "gp_is_decimal accepted \"%s\"", bad[i]);
	CHECK(!gp_is_decimal(NULL));

	/* 1000 characters is the documented cap; 1001 is refused */
	memset(longnum, '1', 1000);
	longnum[1000] = '\0';
	CHECK(gp_is_decimal(longnum));
	longnum[1000] = '1';
	longnum[1001] = '\0';
	CHECK(!gp_is_decimal(longnum));
}

static void
test_side_names(void)
{
	CHECK_STR(gp_side_name(GP_SIDE_BUY), "buy");
	CHECK_STR(gp_side_name(GP_SIDE_SELL), "sell");
	CHECK_STR(gp_side_name(GP_SIDE_AUCTION), "auction");
	CHECK_STR(gp_side_name(GP_SIDE_BLOCK), "block");
	CHECK_STR(gp_side_name((gp_side) 42), "unknown");
}

void
test_numbers(void)
{
	test_int64_text();
	test_decimal();
	test_side_names();
}
