/*
 * book.c
 *	  Order book sides as sorted arrays of exact decimal levels.
 *
 * Why sorted arrays: nearly all changes land near the top of the book, so a
 * binary search plus a short memmove beats a tree, and the best level is
 * always element 0.  Prices are compared as decimals, exactly, so "302.75"
 * and "302.750" are one level (Gemini's new API pads with zeros).
 */
#include <stdlib.h>
#include <string.h>

#include "jobs/book.h"

/* Split a plain decimal into integer digits (no leading zeros) and fraction (no trailing zeros). */
static void
dec_parts(const char *s, const char **ip, size_t *il, const char **fp, size_t *fl)
{
	const char *dot;
	const char *end = s + strlen(s);

	while (*s == '0' && s[1] != '.' && s[1] != '\0')
		s++;
	dot = strchr(s, '.');
	*ip = s;
	*il = (size_t) ((dot ? dot : end) - s);
	if (*il == 1 && *s == '0')
		*il = 0;
	if (dot)
	{
		const char *f = dot + 1;
		size_t		n = (size_t) (end - f);

		while (n > 0 && f[n - 1] == '0')
			n--;
		*fp = f;
		*fl = n;
	}
	else
	{
		*fp = end;
		*fl = 0;
	}
}

int
dec_cmp(const char *a, const char *b)
{
	const char *ai,
			   *af,
			   *bi,
			   *bf;
	size_t		ail,
				afl,
				bil,
				bfl;
	int			c;

	/* Exponent forms do not occur on Gemini's websockets; compare them as numbers. */
	if (strpbrk(a, "eE") || strpbrk(b, "eE"))
	{
		double		x = strtod(a, NULL),
					y = strtod(b, NULL);

		return (x > y) - (x < y);
	}
	dec_parts(a, &ai, &ail, &af, &afl);
	dec_parts(b, &bi, &bil, &bf, &bfl);
	if (ail != bil)
		return ail < bil ? -1 : 1;
	c = memcmp(ai, bi, ail);
	if (c != 0)
		return c < 0 ? -1 : 1;
	for (size_t i = 0; i < afl || i < bfl; i++)
	{
		char		x = i < afl ? af[i] : '0';
		char		y = i < bfl ? bf[i] : '0';

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

bool
dec_is_zero(const char *a)
{
	for (; *a; a++)
		if (*a >= '1' && *a <= '9')
			return false;
	return true;
}

void
book_clear(Book *b)
{
	b->bids.n = 0;
	b->asks.n = 0;
	b->ready = false;
	b->top_changed = true;
	b->last_update_id = 0;
}

void
book_free(Book *b)
{
	free(b->bids.levels);
	free(b->asks.levels);
	memset(&b->bids, 0, sizeof(b->bids));
	memset(&b->asks, 0, sizeof(b->asks));
}

/* Index of price in side, or where it would go (*found says which). */
static size_t
find(const BookSide *side, bool is_bid, const char *price, bool *found)
{
	size_t		lo = 0,
				hi = side->n;

	*found = false;
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;
		int			c = dec_cmp(side->levels[mid].price, price);

		if (c == 0)
		{
			*found = true;
			return mid;
		}
		/* bids descending, asks ascending */
		if (is_bid ? c > 0 : c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool
book_set(Book *b, bool is_bid, const char *price, const char *size)
{
	BookSide   *side = is_bid ? &b->bids : &b->asks;
	bool		found;
	size_t		i;

	if (strlen(price) >= BOOK_TEXT || strlen(size) >= BOOK_TEXT)
		return false;
	i = find(side, is_bid, price, &found);
	if (dec_is_zero(size))
	{
		if (found)
		{
			memmove(&side->levels[i], &side->levels[i + 1], (side->n - i - 1) * sizeof(BookLevel));
			side->n--;
			if (i == 0)
				b->top_changed = true;
		}
		return true;
	}
	if (!found)
	{
		if (side->n == side->cap)
		{
			size_t		cap = side->cap ? side->cap * 2 : 256;
			BookLevel  *l = realloc(side->levels, cap * sizeof(BookLevel));

			if (l == NULL)
				return false;
			side->levels = l;
			side->cap = cap;
		}
		memmove(&side->levels[i + 1], &side->levels[i], (side->n - i) * sizeof(BookLevel));
		side->n++;
		strcpy(side->levels[i].price, price);
	}
	strcpy(side->levels[i].size, size);
	if (i == 0)
		b->top_changed = true;
	return true;
}

const BookLevel *
book_best(const Book *b, bool is_bid)
{
	const BookSide *side = is_bid ? &b->bids : &b->asks;

	return side->n ? &side->levels[0] : NULL;
}
