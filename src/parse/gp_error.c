/*
 * gp_error.c
 *	  Filling struct gp_error safely.
 *
 * Everything that lands in a gp_error may end up in a PostgreSQL log line or
 * error message, so copies are always NUL-terminated, never cut a UTF-8
 * character in half, and text taken from the wire can be sanitised.  Every
 * function accepts err == NULL so callers that do not care need no dummy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

void
gpi_error_clear(gp_error *err)
{
	if (err == NULL)
		return;
	err->message[0] = '\0';
	err->reason[0] = '\0';
	err->api_message[0] = '\0';
}

void
gpi_error_set(gp_error *err, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->message[0] = '\0';
	else if ((size_t) n >= sizeof(err->message))
	{
		/* vsnprintf may have cut a multi-byte character: redo on a boundary */
		char		tmp[sizeof(err->message)];

		memcpy(tmp, err->message, sizeof(tmp));
		gpi_copy_text(err->message, sizeof(err->message), tmp, strlen(tmp));
	}
}

/*
 * Length of the longest prefix of s[0..len) that does not end inside a
 * UTF-8 sequence.  The input was validated (or is ASCII), so looking back
 * at most 3 bytes for a lead byte is enough.
 */
static size_t
utf8_boundary(const char *s, size_t len)
{
	size_t		i = len;
	size_t		back = 0;

	while (i > 0 && back < 4)
	{
		unsigned char c = (unsigned char) s[i - 1];

		if (c < 0x80)
			return len;			/* ASCII: nothing is open */
		if ((c & 0xC0) == 0xC0)
		{
			/* lead byte at i-1: how long should its sequence be? */
			size_t		need = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : 2;

			return (len - (i - 1) >= need) ? len : i - 1;
		}
		i--;
		back++;
	}
	return len;
}

void
gpi_copy_text(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	size_t		n;
	const char *nul;

	if (dstsize == 0)
		return;
	nul = memchr(src, '\0', srclen);
	if (nul != NULL)
		srclen = (size_t) (nul - src);
	n = srclen < dstsize - 1 ? srclen : dstsize - 1;
	if (n < srclen)
		n = utf8_boundary(src, n);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
gpi_copy_sanitized(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	size_t		i;

	gpi_copy_text(dst, dstsize, src, srclen);
	for (i = 0; dst[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) dst[i];

		if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
			dst[i] = '?';
	}
}
