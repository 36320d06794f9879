/*
 * test_util.c
 *	  Counters, check reporting and fixture loading for the unit tests.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

int			t_passed = 0;
int			t_failed = 0;
const char *t_fixtures_dir = "../fixtures";

int
t_check(int ok, const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	if (ok)
	{
		t_passed++;
		return 1;
	}
	t_failed++;
	fprintf(stdout, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return 0;
}

int
t_check_str(const char *got, const char *want, const char *file, int line, const char *expr)
{
	int			ok;

	if (got == NULL || want == NULL)
		ok = (got == want);
	else
		ok = strcmp(got, want) == 0;
	return t_check(ok, file, line, "%s is \"%s\", want \"%s\"", expr,
				   got ? got : "(null)", want ? want : "(null)");
}

int
t_check_i64(int64_t got, int64_t want, const char *file, int line, const char *expr)
{
	return t_check(got == want, file, line, "%s is %" PRId64 ", want %" PRId64,
				   expr, got, want);
}

char *
t_read_fixture(const char *rel, size_t *len)
{
	char		path[1024];
	FILE	   *f;
	char	   *buf = NULL;
	size_t		cap = 0;
	size_t		n = 0;

	snprintf(path, sizeof(path), "%s/%s", t_fixtures_dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		t_check(0, __FILE__, __LINE__, "cannot open fixture %s", path);
		return NULL;
	}
	for (;;)
	{
		size_t		got;

		if (cap - n < 4096)
		{
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}
