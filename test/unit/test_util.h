/*
 * test_util.h
 *	  The unit tests' own tiny assertion kit and fixture helpers.
 *
 * No external framework: a check is one call that counts a pass or prints
 * "file:line: message" and counts a failure, so one run reports every
 * failing check rather than stopping at the first, and the closing line
 * "unit: N passed, M failed" is what CI reads.
 */
#ifndef GP_TEST_UTIL_H
#define GP_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define T_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define T_PRINTF(fmt, args)
#endif

extern int	t_passed;
extern int	t_failed;

/* Count one check; on failure print file:line and the printf message. */
int			t_check(int ok, const char *file, int line, const char *fmt,...) T_PRINTF(4, 5);
int			t_check_str(const char *got, const char *want, const char *file, int line, const char *expr);
int			t_check_i64(int64_t got, int64_t want, const char *file, int line, const char *expr);

#define CHECK(cond) t_check((cond) != 0, __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) t_check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want) t_check_str((got), (want), __FILE__, __LINE__, #got)
#define CHECK_I64(got, want) t_check_i64((int64_t) (got), (int64_t) (want), __FILE__, __LINE__, #got)

/* Directory of test/fixtures (argv[1], $GP_FIXTURES or ../fixtures). */
extern const char *t_fixtures_dir;

/*
 * Whole file fixtures/<rel> in a malloc'd buffer (NUL-terminated, *len set
 * to the byte count), or NULL after counting a failed check.
 */
char	   *t_read_fixture(const char *rel, size_t *len);

/* Test groups, one per file. */
void		test_numbers(void);
void		test_trades(void);
void		test_json_errors(void);
void		test_symbols(void);
void		test_candles(void);
void		test_fixtures(void);
void		test_jsonc(void);
void		test_text_escape(void);

#endif							/* GP_TEST_UTIL_H */
