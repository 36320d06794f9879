/*
 * book.h
 *	  In-memory order books, one per streamed symbol, kept from the
 *	  snapshot plus changes.  Plain C (no PostgreSQL), exact decimal text.
 */
#ifndef GEMINI_BOOK_H
#define GEMINI_BOOK_H

#include <stdbool.h>
#include <stddef.h>

#define BOOK_TEXT 48

typedef struct BookLevel
{
	char		price[BOOK_TEXT];
	char		size[BOOK_TEXT];
} BookLevel;

typedef struct BookSide
{
	BookLevel  *levels;			/* best first */
	size_t		n;
	size_t		cap;
} BookSide;

typedef struct Book
{
	char		symbol[32];
	BookSide	bids;			/* descending */
	BookSide	asks;			/* ascending */
	bool		ready;			/* a snapshot has been applied */
	bool		top_changed;	/* best bid or ask changed since last cleared */
	long long	last_update_id; /* new API u of the last applied frame */
} Book;

/* Exact comparison of two non-negative decimal texts: <0, 0, >0. */
extern int	dec_cmp(const char *a, const char *b);
extern bool dec_is_zero(const char *a);

extern void book_clear(Book *b);
extern void book_free(Book *b);
/* Set the absolute size at a price ("0" removes it).  False if out of memory or text too long. */
extern bool book_set(Book *b, bool is_bid, const char *price, const char *size);
extern const BookLevel *book_best(const Book *b, bool is_bid);

#endif
