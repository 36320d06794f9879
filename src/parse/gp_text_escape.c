/*
 * gp_text_escape.c
 *	  Any byte string -> text a PostgreSQL text column accepts, for display.
 *
 * Dead letters and quarantined frames must be stored whatever they hold,
 * but PostgreSQL refuses NUL in text and any byte sequence that is not
 * valid in the database encoding, and one refused row would fail the whole
 * insert.  So the bytes that would be refused are written as \xNN (two
 * upper-case hex digits) and everything else is copied unchanged.
 *
 * The escaping is one-way: a backslash already in the input is kept as it
 * is, so "\xFF" in the output may stand for the byte 0xFF or for the four
 * characters of the input.  That keeps ordinary text (JSON with its own
 * backslash escapes) byte-for-byte readable, which is what a person
 * looking at a dead letter needs; the exact bytes cannot be recovered.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static const char hexdigits[] = "0123456789ABCDEF";

/*
 * Bytes of output for in[0..len), or, when out is not NULL, also write
 * them there.  One function for both passes, so they cannot disagree.
 */
static size_t
escape_into(const char *in, size_t len, int utf8_ok, char *out)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t		i = 0;
	size_t		n = 0;

	while (i < len)
	{
		size_t		seq;

		if (p[i] != 0 && p[i] < 0x80)
			seq = 1;
		else if (p[i] == 0 || !utf8_ok)
			seq = 0;
		else
			seq = gpi_utf8_seq_len(in + i, len - i);

		if (seq == 0)
		{
			/* NUL, a byte of an ill-formed sequence, or any high byte in ASCII mode */
			if (out)
			{
				out[n] = '\\';
				out[n + 1] = 'x';
				out[n + 2] = hexdigits[p[i] >> 4];
				out[n + 3] = hexdigits[p[i] & 0x0F];
			}
			n += 4;
			i++;
			continue;
		}
		if (out)
			memcpy(out + n, in + i, seq);
		n += seq;
		i += seq;
	}
	return n;
}

char *
gp_text_escape(const char *in, size_t len, int utf8_ok, size_t *out_len)
{
	size_t		n;
	char	   *out;

	if (in == NULL)
		len = 0;
	/* the output is at most 4 bytes per input byte */
	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	n = escape_into(in, len, utf8_ok, NULL);
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	escape_into(in, len, utf8_ok, out);
	out[n] = '\0';
	if (out_len)
		*out_len = n;
	return out;
}
