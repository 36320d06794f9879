/*
 * gp_utf8.c
 *	  Strict UTF-8 validation of a body before json-c sees it.
 *
 * Every string we hand out (raw texts above all) goes into PostgreSQL text
 * columns, and PostgreSQL rejects invalid UTF-8 with an error that would
 * fail the whole page's insert.  json-c's own JSON_TOKENER_VALIDATE_UTF8
 * only counts continuation bytes: it lets overlong forms (C0 AF) and UTF-16
 * surrogates (ED A0 80) through, which PostgreSQL refuses.  So the body is
 * checked here against the well-formed byte sequences of Unicode (Table 3-7
 * of the standard), and json-c runs without its check.
 */
#include "parse_internal.h"

/*
 * Whether body is pure ASCII.  Gemini bodies always are, and one OR over the
 * bytes (which the compiler vectorises) is far cheaper than walking them.
 */
static int
is_ascii(const char *s, size_t len)
{
	unsigned char acc = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		acc |= (unsigned char) s[i];
	return acc < 0x80;
}

/* Is b a continuation byte within [lo, hi]? */
static int
cont(unsigned char b, unsigned char lo, unsigned char hi)
{
	return b >= lo && b <= hi;
}

size_t
gpi_utf8_seq_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	unsigned char c;
	size_t		need;
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		k;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;			/* no overlong 3-byte forms */
		else if (c == 0xED)
			hi = 0x9F;			/* no UTF-16 surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		need = 3;
		if (c == 0xF0)
			lo = 0x90;			/* no overlong 4-byte forms */
		else if (c == 0xF4)
			hi = 0x8F;			/* nothing above U+10FFFF */
	}
	else
		return 0;				/* C0, C1, F5..FF, or a stray continuation */

	if (len <= need)
		return 0;				/* truncated sequence */
	if (!cont(p[1], lo, hi))
		return 0;
	for (k = 2; k <= need; k++)
		if (!cont(p[k], 0x80, 0xBF))
			return 0;
	return need + 1;
}

size_t
gpi_utf8_invalid_at(const char *s, size_t len)
{
	size_t		i = 0;

	if (is_ascii(s, len))
		return len;
	while (i < len)
	{
		size_t		n;

		if ((unsigned char) s[i] < 0x80)
		{
			i++;
			continue;
		}
		n = gpi_utf8_seq_len(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}
