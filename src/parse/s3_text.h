/*
 * s3_text.h
 *	  The text S3 and the AWS tools speak, read and written without
 *	  PostgreSQL: fields of S3's XML answers, the AWS shared credentials
 *	  file, and the percent-encoding SigV4 wants for object keys.  Plain C,
 *	  so the unit tests and fuzzers can run it alone.
 */
#ifndef GEMINI_S3_TEXT_H
#define GEMINI_S3_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Find the next <tag>...</tag> in xml[*pos, len), copy its text with XML
 * entities decoded into out (NUL-terminated) and move *pos past it.
 * Returns 1 when found, 0 when there is none, -1 when it is found but
 * does not fit in outsz or is malformed (unterminated, bad entity).
 * S3's answers are flat enough that a tag search is exact: the elements
 * read here (Code, Message, UploadId, Key, IsTruncated,
 * NextContinuationToken, ETag) never nest in themselves.
 */
extern int	s3x_next(const char *xml, size_t len, size_t *pos, const char *tag,
					 char *out, size_t outsz);

/*
 * The value of key in [profile] of an AWS shared credentials (INI) file:
 * "key = value" lines, '#' and ';' comments, whitespace around names and
 * values ignored.  Returns 1 found, 0 not found, -1 when the value does
 * not fit in outsz.
 */
extern int	s3_ini_value(const char *text, size_t len, const char *profile,
						 const char *key, char *out, size_t outsz);

/*
 * Percent-encode s as SigV4's canonical URI wants it (and S3 checks it):
 * every byte outside A-Z a-z 0-9 - _ . ~ is %XX (uppercase), and '/' is
 * kept when keep_slash.  out must hold 3 * strlen(s) + 1 bytes.  Returns
 * the length written.
 */
extern size_t s3_uri_encode(const char *s, bool keep_slash, char *out);

#endif
