/*
 * gp_arena.c
 *	  The bump allocator that owns the memory of a parse result.
 *
 * A page of 500 trades would otherwise need thousands of small mallocs (one
 * per price, amount, raw text...).  Instead each result gets one block sized
 * from the body length, strings are bumped out of it, and the whole result
 * is released with one walk over the block list.  If the estimate was short
 * a further block is chained on; memory is never moved, so every pointer
 * handed out stays valid until gpi_arena_free.
 *
 * Why a spare block is kept: freeing a chunk of 64 kB or more makes glibc
 * consolidate its free lists and give the top of the heap back to the
 * kernel.  Right after a page, that top is the whole freed json-c tree
 * (hundreds of kB), so the next page faults it all in again; on this
 * project's VMs that doubled the time of a 500-trade page (1.7 ms instead
 * of 0.75 ms).  So the first block of the last large arena freed is kept,
 * one per thread, and reused by the next large arena: steady-state parsing
 * then never does a large free.  Builds with a sanitizer, or with
 * -DGPI_NO_SPARE (the valgrind build of the unit tests), free everything,
 * so that a use after gp_*_free is still caught.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* Strictest alignment of anything we place in an arena. */
typedef union gpi_align
{
	int64_t		i;
	double		d;
	void	   *p;
} gpi_align;

#define GPI_ALIGN (sizeof(gpi_align))

/* Extra blocks: a header followed by the usable bytes. */
typedef struct gpi_block
{
	struct gpi_block *next;
	gpi_align	data[];			/* the usable bytes */
} gpi_block;

struct gpi_arena
{
	size_t		first_size;		/* usable bytes of the first block */
	char	   *cur;			/* next free byte in the current block */
	char	   *end;			/* end of the current block */
	size_t		last_size;		/* size of the newest block, for doubling */
	gpi_block  *extra;			/* blocks added after the first */
	gpi_align	first[];		/* the first block follows the header */
};

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define GPI_NO_SPARE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GPI_NO_SPARE)
#define GPI_NO_SPARE 1
#endif
#if !defined(__GNUC__) && !defined(GPI_NO_SPARE)
#define GPI_NO_SPARE 1			/* no portable thread-local storage in C99 */
#endif

/*
 * Arenas whose first block is at least this big use and feed the spare;
 * smaller ones are cheap to malloc and free (below glibc's 64 kB trigger).
 */
#define GPI_SPARE_MIN ((size_t) 16 * 1024)
/* Blocks larger than this are given back rather than held forever. */
#define GPI_SPARE_MAX ((size_t) 4 * 1024 * 1024)

#ifndef GPI_NO_SPARE
static __thread gpi_arena *spare;
#endif

static size_t
round_up(size_t n)
{
	return (n + GPI_ALIGN - 1) & ~(GPI_ALIGN - 1);
}

gpi_arena *
gpi_arena_new(size_t first_size)
{
	gpi_arena  *a;

	first_size = round_up(first_size < 64 ? 64 : first_size);
	if (first_size > SIZE_MAX - sizeof(gpi_arena))
		return NULL;
#ifndef GPI_NO_SPARE
	if (spare != NULL && first_size >= GPI_SPARE_MIN)
	{
		a = spare;
		spare = NULL;
		if (a->first_size >= first_size)
		{
			a->cur = (char *) a->first;
			a->end = a->cur + a->first_size;
			a->last_size = a->first_size;
			a->extra = NULL;
			return a;
		}
		free(a);				/* too small for this body: a bigger one replaces it */
	}
#endif
	a = malloc(sizeof(gpi_arena) + first_size);
	if (a == NULL)
		return NULL;
	a->first_size = first_size;
	a->cur = (char *) a->first;
	a->end = a->cur + first_size;
	a->last_size = first_size;
	a->extra = NULL;
	return a;
}

void *
gpi_arena_alloc(gpi_arena *a, size_t size)
{
	char	   *p;
	size_t		want = round_up(size == 0 ? 1 : size);

	if (want < size)
		return NULL;			/* size near SIZE_MAX wrapped around */

	/* cur is always kept aligned, so the fast path is a compare and a bump */
	if ((size_t) (a->end - a->cur) < want)
	{
		gpi_block  *b;
		size_t		bsize = a->last_size * 2;

		if (bsize < want)
			bsize = want;
		if (bsize > SIZE_MAX - sizeof(gpi_block))
			return NULL;
		b = malloc(sizeof(gpi_block) + bsize);
		if (b == NULL)
			return NULL;
		b->next = a->extra;
		a->extra = b;
		a->cur = (char *) b->data;
		a->end = a->cur + bsize;
		a->last_size = bsize;
	}
	p = a->cur;
	a->cur += want;
	return p;
}

char *
gpi_arena_strndup(gpi_arena *a, const char *s, size_t len)
{
	char	   *p;

	if (len == SIZE_MAX)
		return NULL;
	p = gpi_arena_alloc(a, len + 1);
	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
gpi_arena_free(gpi_arena *a)
{
	gpi_block  *b;

	if (a == NULL)
		return;
	b = a->extra;
	while (b != NULL)
	{
		gpi_block  *next = b->next;

		free(b);
		b = next;
	}
#ifndef GPI_NO_SPARE
	if (spare == NULL && a->first_size >= GPI_SPARE_MIN && a->first_size <= GPI_SPARE_MAX)
	{
		spare = a;
		return;
	}
#endif
	free(a);
}
