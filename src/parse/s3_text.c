/*
 * s3_text.c
 *	  S3's XML fields, the AWS credentials file and SigV4's key encoding
 *	  (see s3_text.h).  No PostgreSQL includes: unit-tested on its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE			/* memmem */
#endif
#include <string.h>

#include "s3_text.h"

/* Decode one XML entity at s (s[0] == '&'); returns bytes consumed or 0. */
static size_t
xml_entity(const char *s, size_t n, char *out, size_t *outlen)
{
	static const struct
	{
		const char *name;
		char		c;
	}			named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
	{
		size_t		l = strlen(named[i].name);

		if (n >= l && memcmp(s, named[i].name, l) == 0)
		{
			out[0] = named[i].c;
			*outlen = 1;
			return l;
		}
	}
	/* &#NN; or &#xHH; for ASCII only: S3 escapes control characters in keys this way. */
	if (n >= 4 && s[1] == '#')
	{
		size_t		i = 2;
		unsigned	v = 0;
		bool		hex = s[2] == 'x';

		if (hex)
			i++;
		for (; i < n && i < 10 && s[i] != ';'; i++)
		{
			char		c = s[i];

			if (c >= '0' && c <= '9')
				v = v * (hex ? 16 : 10) + (unsigned) (c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned) (c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned) (c - 'A' + 10);
			else
				return 0;
		}
		if (i < n && s[i] == ';' && v > 0 && v < 128 && i > (hex ? 3u : 2u))
		{
			out[0] = (char) v;
			*outlen = 1;
			return i + 1;
		}
	}
	return 0;
}

int
s3x_next(const char *xml, size_t len, size_t *pos, const char *tag, char *out, size_t outsz)
{
	char		open[80],
				close[80];
	size_t		tl = strlen(tag);
	const char *p,
			   *end,
			   *start;
	size_t		o = 0;

	if (tl + 4 > sizeof(open) || *pos > len || outsz == 0)
		return -1;
	memcpy(open, "<", 1);
	memcpy(open + 1, tag, tl);
	memcpy(open + 1 + tl, ">", 2);
	memcpy(close, "</", 2);
	memcpy(close + 2, tag, tl);
	memcpy(close + 2 + tl, ">", 2);

	/* memmem: xml need not be NUL-terminated */
	p = memmem(xml + *pos, len - *pos, open, tl + 2);
	if (p == NULL)
		return 0;
	start = p + tl + 2;
	end = memmem(start, (size_t) (xml + len - start), close, tl + 3);
	if (end == NULL)
		return -1;
	for (const char *c = start; c < end;)
	{
		char		ch;
		size_t		used = 1,
					outlen = 1;

		ch = *c;
		if (ch == '&')
		{
			used = xml_entity(c, (size_t) (end - c), &ch, &outlen);
			if (used == 0)
				return -1;
		}
		else if (ch == '<')
			return -1;			/* a nested element: not one of ours */
		if (o + outlen >= outsz)
			return -1;
		out[o++] = ch;
		c += used;
	}
	out[o] = '\0';
	*pos = (size_t) (end - xml) + tl + 3;
	return 1;
}

/* Trim [*s, *e) of spaces and tabs. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

static bool
span_is(const char *s, const char *e, const char *word)
{
	size_t		l = strlen(word);

	return (size_t) (e - s) == l && memcmp(s, word, l) == 0;
}

int
s3_ini_value(const char *text, size_t len, const char *profile, const char *key, char *out, size_t outsz)
{
	const char *p = text,
			   *end = text + len;
	bool		in_profile = false;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl ? nl : end;
		const char *s = p,
				   *e = le;

		p = nl ? nl + 1 : end;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
		{
			const char *rb = memchr(s, ']', (size_t) (e - s));
			const char *ns = s + 1,
					   *ne = rb ? rb : e;

			trim(&ns, &ne);
			in_profile = rb != NULL && span_is(ns, ne, profile);
			continue;
		}
		if (in_profile)
		{
			const char *eq = memchr(s, '=', (size_t) (e - s));
			const char *ks = s,
					   *ke,
					   *vs,
					   *ve = e;

			if (eq == NULL)
				continue;
			ke = eq;
			vs = eq + 1;
			trim(&ks, &ke);
			trim(&vs, &ve);
			if (span_is(ks, ke, key))
			{
				size_t		n = (size_t) (ve - vs);

				if (n + 1 > outsz)
					return -1;
				memcpy(out, vs, n);
				out[n] = '\0';
				return 1;
			}
		}
	}
	return 0;
}

size_t
s3_uri_encode(const char *s, bool keep_slash, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		o = 0;

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash))
			out[o++] = (char) c;
		else
		{
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}
