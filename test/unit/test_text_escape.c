/*
 * test_text_escape.c
 *	  gp_text_escape: any bytes -> text PostgreSQL stores, valid UTF-8 kept
 *	  as it is, NUL and ill-formed bytes as \xNN, ASCII-only when the
 *	  database encoding is not UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"
#include "test_util.h"

/* gp_text_escape(in, len, utf8_ok) compared with want; checks length and termination too. */
static void
expect(const char *in, size_t len, int utf8_ok, const char *want, int line)
{
	size_t		n = 12345;
	char	   *got = gp_text_escape(in, len, utf8_ok, &n);

	t_check_str(got, want, __FILE__, line, "gp_text_escape");
	if (got != NULL)
		t_check(n == strlen(want) && got[n] == '\0', __FILE__, line,
				"out_len %zu, want %zu", n, strlen(want));
	free(got);
}

#define EXPECT(in, utf8_ok, want) expect((in), sizeof(in) - 1, (utf8_ok), (want), __LINE__)

static void
test_cases(void)
{
	/* valid UTF-8 (2, 3 and 4-byte sequences, U+10FFFF) and ASCII controls: untouched */
	EXPECT("plain {\"a\":1}", 1, "plain {\"a\":1}");
	EXPECT("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xe6\x97\xa5 \xf4\x8f\xbf\xbf", 1,
		   "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xe6\x97\xa5 \xf4\x8f\xbf\xbf");
	EXPECT("tab\there\nnl\x01\x7f", 1, "tab\there\nnl\x01\x7f");
	/* a backslash stays as it is: one-way escaping */
	EXPECT("a\\b \\xFF \\u0000", 1, "a\\b \\xFF \\u0000");
	/* overlong forms: 2-byte C0 AF, 3-byte E0 80 AF */
	EXPECT("a\xc0\xaf" "b", 1, "a\\xC0\\xAFb");
	EXPECT("\xe0\x80\xaf", 1, "\\xE0\\x80\\xAF");
	/* a UTF-16 surrogate, a code point above U+10FFFF */
	EXPECT("x\xed\xa0\x80y", 1, "x\\xED\\xA0\\x80y");
	EXPECT("\xf4\x90\x80\x80", 1, "\\xF4\\x90\\x80\\x80");
	/* stray bytes, then valid text resumes right after */
	EXPECT("\xe2\x82\xac\xff\xe2\x82\xac", 1, "\xe2\x82\xac\\xFF\xe2\x82\xac");
	EXPECT("\x80\xbf" "a", 1, "\\x80\\xBFa");
	/* an invalid lead byte followed by a valid sequence: only the bad byte is escaped */
	EXPECT("\xc3\xc3\xa9", 1, "\\xC3\xc3\xa9");
	/* truncated sequences at the end */
	EXPECT("ok\xe2\x82", 1, "ok\\xE2\\x82");
	EXPECT("ok\xf0\x9f\x98", 1, "ok\\xF0\\x9F\\x98");
	EXPECT("ok\xc3", 1, "ok\\xC3");
	/* NUL in the middle and at the ends */
	EXPECT("a\0b", 1, "a\\x00b");
	EXPECT("\0\0", 1, "\\x00\\x00");
	EXPECT("\0", 0, "\\x00");
	/* ASCII-only mode: every byte >= 0x80 escaped, valid UTF-8 too */
	EXPECT("h\xc3\xa9" "\0\xff\\", 0, "h\\xC3\\xA9\\x00\\xFF\\");
	EXPECT("plain ascii", 0, "plain ascii");
	/* empty input, NULL with length 0 */
	EXPECT("", 1, "");
	expect(NULL, 0, 1, "", __LINE__);
	/* out_len may be NULL */
	{
		char	   *s = gp_text_escape("\xff", 1, 1, NULL);

		CHECK_STR(s, "\\xFF");
		free(s);
	}
	/* the length is honoured: nothing past len is read */
	expect("ab\xff", 2, 1, "ab", __LINE__);
}

static void
test_seq_len(void)
{
	CHECK(gpi_utf8_seq_len("a", 1) == 1);
	CHECK(gpi_utf8_seq_len("\0", 1) == 1);
	CHECK(gpi_utf8_seq_len("", 0) == 0);
	CHECK(gpi_utf8_seq_len("\xc3\xa9", 2) == 2);
	CHECK(gpi_utf8_seq_len("\xc3\xa9", 1) == 0);
	CHECK(gpi_utf8_seq_len("\xe2\x82\xac", 3) == 3);
	CHECK(gpi_utf8_seq_len("\xf0\x9d\x84\x9e", 4) == 4);
	CHECK(gpi_utf8_seq_len("\xf0\x9d\x84\x9e", 3) == 0);
	CHECK(gpi_utf8_seq_len("\xc0\xaf", 2) == 0);
	CHECK(gpi_utf8_seq_len("\xed\xa0\x80", 3) == 0);
	CHECK(gpi_utf8_seq_len("\xed\x9f\xbf", 3) == 3);	/* U+D7FF, just below the surrogates */
}

/*
 * Decode \xNN back to bytes (valid only for inputs without a backslash);
 * returns the decoded length, or (size_t) -1 on a malformed escape.
 */
static size_t
unescape(const char *s, size_t n, unsigned char *out)
{
	size_t		i = 0;
	size_t		k = 0;

	while (i < n)
	{
		if (s[i] == '\\')
		{
			unsigned	v;
			char		hex[3] = {0, 0, 0};

			if (i + 4 > n || s[i + 1] != 'x')
				return (size_t) -1;
			hex[0] = s[i + 2];
			hex[1] = s[i + 3];
			v = (unsigned) strtoul(hex, NULL, 16);
			out[k++] = (unsigned char) v;
			i += 4;
		}
		else
			out[k++] = (unsigned char) s[i++];
	}
	return k;
}

/* Properties over every 2-byte input and many random short ones. */
static void
check_one(const unsigned char *in, size_t len, int *bad)
{
	for (int mode = 0; mode <= 1; mode++)
	{
		size_t		n;
		char	   *out = gp_text_escape((const char *) in, len, mode, &n);
		unsigned char back[64];
		int			has_bs = memchr(in, '\\', len) != NULL;
		int			clean = memchr(in, 0, len) == NULL &&
			gpi_utf8_invalid_at((const char *) in, len) == len;

		if (out == NULL)
		{
			(*bad)++;
			continue;
		}
		/* storable: no NUL inside, valid UTF-8; pure ASCII in mode 0 */
		if (strlen(out) != n || gpi_utf8_invalid_at(out, n) != n)
			(*bad)++;
		if (mode == 0)
			for (size_t i = 0; i < n; i++)
				if ((unsigned char) out[i] >= 0x80)
				{
					(*bad)++;
					break;
				}
		/* valid text comes out unchanged in UTF-8 mode */
		if (mode == 1 && clean && (n != len || memcmp(out, in, len) != 0))
			(*bad)++;
		/* without backslashes in the input, the escapes decode back to it */
		if (!has_bs && (unescape(out, n, back) != len || memcmp(back, in, len) != 0))
			(*bad)++;
		free(out);
	}
}

static void
test_properties(void)
{
	unsigned char buf[16];
	int			bad = 0;
	uint32_t	seed = 12345;

	for (unsigned v = 0; v < 65536; v++)
	{
		buf[0] = (unsigned char) (v >> 8);
		buf[1] = (unsigned char) v;
		check_one(buf, 2, &bad);
	}
	CHECKF(bad == 0, "%d failures over all 2-byte inputs", bad);

	bad = 0;
	for (int r = 0; r < 20000; r++)
	{
		size_t		len = (size_t) (r % 16);

		for (size_t i = 0; i < len; i++)
		{
			seed = seed * 1103515245u + 12345u;
			/* bias towards bytes that start or continue UTF-8 sequences */
			buf[i] = (unsigned char) ((seed >> 16) & 1 ? 0x80 | (seed >> 8) : seed >> 24);
		}
		check_one(buf, len, &bad);
	}
	CHECKF(bad == 0, "%d failures over random inputs", bad);
}

void
test_text_escape(void)
{
	test_cases();
	test_seq_len();
	test_properties();
}
