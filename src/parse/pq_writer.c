/*
 * pq_writer.c
 *	  The Parquet writer (see pq_writer.h): buffers one row group column by
 *	  column, then writes each column chunk (a dictionary page when the
 *	  column's values fit one, data pages of about page_bytes, each page
 *	  compressed on its own), and at the end the footer: FileMetaData in
 *	  Thrift's compact protocol, its length, and "PAR1".
 *
 * Encodings per column chunk: a dictionary (RLE_DICTIONARY) whenever the
 * chunk has at most 65,535 distinct values taking at most 1 MB, and no more
 * distinct values than half its values (symbols, sides, sources; prices
 * and amounts of a busy hour); else, for integers, dates, timestamps and
 * INT64 decimals, DELTA_BINARY_PACKED or PLAIN, whichever compresses the
 * chunk's first page smaller; else PLAIN.
 * Definition levels (optional columns only) are RLE with bit width 1.
 * Statistics: min, max (as the type orders them: signed integers and
 * decimals, unsigned bytes for strings; NaN is left out) and null count,
 * with TypeDefinedOrder declared so readers trust them.
 */
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zstd.h>

#include "pq_writer.h"

/* parquet.thrift's enums */
enum
{
	PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_FLOAT = 4, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6, PT_FLBA = 7
};
enum
{
	ENC_PLAIN = 0, ENC_RLE = 3, ENC_DELTA_BINARY_PACKED = 5, ENC_RLE_DICTIONARY = 8
};
enum
{
	PAGE_DATA = 0, PAGE_DICTIONARY = 2
};

#define DICT_MAX_VALUES	65535
#define DICT_MAX_BYTES	(1024 * 1024)

typedef struct pq_col
{
	pq_column_def def;
	int			ptype;
	int			width;			/* bytes per value when fixed; 0 for strings */
	/* the row group's values, PLAIN layout (strings: 4-byte length + bytes) */
	pq_buf		vals;
	size_t	   *offs;			/* strings: where each value starts in vals */
	size_t		offs_cap;
	size_t		nvals;			/* non-null values */
	uint8_t    *defs;			/* per row: 1 value, 0 null (optional columns) */
	size_t		defs_cap;
	size_t		nnull;
	bool		set;			/* a value was given for the current row */
	uint8_t		cur_def;		/* ... and was it a value (1) or NULL (0) */
	/* statistics of the row group */
	bool		has_minmax;
	uint8_t    *min,
			   *max;			/* PLAIN bytes of the value (strings: without the length) */
	size_t		minlen,
				maxlen,
				mmcap;
} pq_col;

typedef struct pq_chunk_meta
{
	int64_t		num_values;
	int64_t		uncompressed;
	int64_t		compressed;
	int64_t		data_page_offset;
	int64_t		dict_page_offset;	/* -1: none */
	int64_t		start;
	int			encoding;
	int64_t		nnull;
	bool		has_minmax;
	uint8_t    *min,
			   *max;
	size_t		minlen,
				maxlen;
} pq_chunk_meta;

typedef struct pq_rg_meta
{
	int64_t		num_rows;
	int64_t		total_bytes;
	int64_t		compressed;
	int64_t		file_offset;
	pq_chunk_meta *chunks;
} pq_rg_meta;

struct pq_writer
{
	pq_options	opt;
	pq_col	   *cols;
	int			ncols;
	pq_sink		sink;
	void	   *sink_arg;
	uint64_t	pos;			/* bytes written to the sink */
	size_t		rows;			/* in the buffered row group */
	int64_t		total_rows;
	size_t		buffered;		/* bytes of values buffered */
	pq_rg_meta *rgs;
	int			nrgs,
				rgcap;
	const char *error;
	bool		failed;
	ZSTD_CCtx  *zctx;
	pq_buf		scratch;		/* a page being built */
	pq_buf		comp;			/* its compressed form */
	pq_buf		header;
};

/* ---------- small helpers ---------- */

static bool
fail(pq_writer *w, const char *why)
{
	if (!w->failed)
	{
		w->failed = true;
		w->error = why;
	}
	return false;
}

static bool
emit(pq_writer *w, const uint8_t *data, size_t len)
{
	if (w->failed)
		return false;
	if (len > 0 && !w->sink(w->sink_arg, data, len))
		return fail(w, "the output failed");
	w->pos += len;
	return true;
}

static bool
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	{
		size_t		nc = *cap ? *cap * 2 : 1024;
		void	   *np;

		while (nc < need)
			nc *= 2;
		np = realloc(*p, nc * elem);
		if (np == NULL)
			return false;
		*p = np;
		*cap = nc;
	}
	return true;
}

static int
physical_type(const pq_column_def *d, int *width)
{
	switch (d->kind)
	{
		case PQ_BOOLEAN:
			*width = 1;
			return PT_BOOLEAN;
		case PQ_INT32:
		case PQ_DATE:
			*width = 4;
			return PT_INT32;
		case PQ_INT64:
		case PQ_TIMESTAMP_US:
			*width = 8;
			return PT_INT64;
		case PQ_FLOAT:
			*width = 4;
			return PT_FLOAT;
		case PQ_DOUBLE:
			*width = 8;
			return PT_DOUBLE;
		case PQ_STRING:
			*width = 0;
			return PT_BYTE_ARRAY;
		case PQ_DECIMAL:
			*width = d->precision <= 18 ? 8 : 16;
			return d->precision <= 18 ? PT_INT64 : PT_FLBA;
	}
	*width = 0;
	return -1;
}

/* ---------- creation ---------- */

pq_writer *
pq_writer_new(const pq_column_def *cols, int ncols, const pq_options *opt,
			  pq_sink sink, void *sink_arg, const char **why)
{
	pq_writer  *w = calloc(1, sizeof(pq_writer));
	static const uint8_t magic[4] = {'P', 'A', 'R', '1'};

	*why = NULL;
	if (w == NULL)
	{
		*why = "out of memory";
		return NULL;
	}
	w->opt = *opt;
	if (w->opt.page_bytes == 0)
		w->opt.page_bytes = 1024 * 1024;
	if (w->opt.row_group_bytes == 0)
		w->opt.row_group_bytes = 128 * 1024 * 1024;
	w->sink = sink;
	w->sink_arg = sink_arg;
	w->ncols = ncols;
	w->cols = calloc(ncols > 0 ? ncols : 1, sizeof(pq_col));
	if (w->cols == NULL)
	{
		*why = "out of memory";
		pq_writer_free(w);
		return NULL;
	}
	for (int i = 0; i < ncols; i++)
	{
		pq_col	   *c = &w->cols[i];

		c->def = cols[i];
		c->def.name = strdup(cols[i].name);
		c->ptype = physical_type(&cols[i], &c->width);
		if (c->def.name == NULL || c->ptype < 0 ||
			(cols[i].kind == PQ_DECIMAL && (cols[i].precision < 1 || cols[i].precision > 38 ||
											cols[i].scale < 0 || cols[i].scale > cols[i].precision)))
		{
			*why = c->def.name == NULL ? "out of memory" : "invalid column definition";
			pq_writer_free(w);
			return NULL;
		}
	}
	if (w->opt.codec == PQ_ZSTD && (w->zctx = ZSTD_createCCtx()) == NULL)
	{
		*why = "out of memory";
		pq_writer_free(w);
		return NULL;
	}
	if (!emit(w, magic, 4))
	{
		*why = w->error;
		pq_writer_free(w);
		return NULL;
	}
	return w;
}

/* ---------- buffering values ---------- */

static int
cmp_value(const pq_col *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	switch (c->ptype)
	{
		case PT_BOOLEAN:
			return (int) a[0] - (int) b[0];
		case PT_INT32:
			{
				int32_t		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return x < y ? -1 : x > y;
			}
		case PT_INT64:
			{
				int64_t		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return x < y ? -1 : x > y;
			}
		case PT_FLOAT:
			{
				float		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return x < y ? -1 : x > y;
			}
		case PT_DOUBLE:
			{
				double		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return x < y ? -1 : x > y;
			}
		case PT_FLBA:
			/* big-endian two's complement: the sign byte decides first */
			if ((a[0] ^ b[0]) & 0x80)
				return (a[0] & 0x80) ? -1 : 1;
			return memcmp(a, b, 16);
		default:
			{
				size_t		n = alen < blen ? alen : blen;
				int			r = memcmp(a, b, n);

				return r != 0 ? r : (alen < blen ? -1 : alen > blen);
			}
	}
}

static bool
set_bound(uint8_t **dst, size_t *dstlen, const uint8_t *v, size_t len)
{
	uint8_t    *n = realloc(*dst, len ? len : 1);

	if (n == NULL)
		return false;
	memcpy(n, v, len);
	*dst = n;
	*dstlen = len;
	return true;
}

/* A value (PLAIN bytes, strings without their length) of column col in this row. */
static void
put_value(pq_writer *w, int col, const void *v, size_t len)
{
	pq_col	   *c;

	if (w->failed)
		return;
	if (col < 0 || col >= w->ncols || w->cols[col].set)
	{
		fail(w, "a value for a column that does not exist or already has one in this row");
		return;
	}
	c = &w->cols[col];
	c->set = true;
	c->cur_def = 1;
	if (c->ptype == PT_BYTE_ARRAY)
	{
		uint32_t	l = (uint32_t) len;

		if (len > UINT32_MAX - 4 || !grow((void **) &c->offs, &c->offs_cap, c->nvals + 1, sizeof(size_t)))
		{
			fail(w, len > UINT32_MAX - 4 ? "a string longer than 4 GB" : "out of memory");
			return;
		}
		c->offs[c->nvals] = c->vals.len;
		pq_buf_put(&c->vals, &l, 4);
		w->buffered += 4;
	}
	pq_buf_put(&c->vals, v, len);
	if (c->vals.oom)
	{
		fail(w, "out of memory");
		return;
	}
	w->buffered += len;
	c->nvals++;
	/* statistics; NaN orders nowhere and is left out, as the spec asks */
	if ((c->ptype == PT_DOUBLE && len == 8 && ((const double *) v)[0] != ((const double *) v)[0]) ||
		(c->ptype == PT_FLOAT && len == 4 && ((const float *) v)[0] != ((const float *) v)[0]))
		return;
	if (!c->has_minmax)
	{
		if (!set_bound(&c->min, &c->minlen, v, len) || !set_bound(&c->max, &c->maxlen, v, len))
		{
			fail(w, "out of memory");
			return;
		}
		c->has_minmax = true;
	}
	else if (cmp_value(c, v, len, c->min, c->minlen) < 0)
	{
		if (!set_bound(&c->min, &c->minlen, v, len))
			fail(w, "out of memory");
	}
	else if (cmp_value(c, v, len, c->max, c->maxlen) > 0)
	{
		if (!set_bound(&c->max, &c->maxlen, v, len))
			fail(w, "out of memory");
	}
}

/*
 * Column col of this writer, or NULL (the writer failed) when there is no
 * such column; checked before its definition is looked at.
 */
static const pq_col *
column(pq_writer *w, int col)
{
	if (col < 0 || col >= w->ncols)
	{
		fail(w, "no such column");
		return NULL;
	}
	return &w->cols[col];
}

/* Is ok true?  Else the value was of the wrong kind for its column. */
static bool
kind_is(pq_writer *w, bool ok)
{
	if (!ok)
		return fail(w, "a value of the wrong kind for its column");
	return true;
}

void
pq_put_null(pq_writer *w, int col)
{
	if (column(w, col) == NULL)
		return;
	if (!w->cols[col].def.nullable)
	{
		fail(w, "NULL in a column that is not nullable");
		return;
	}
	if (w->cols[col].set)
	{
		fail(w, "a column given twice in one row");
		return;
	}
	w->cols[col].set = true;
	w->cols[col].cur_def = 0;
	w->cols[col].nnull++;
}

void
pq_put_bool(pq_writer *w, int col, bool v)
{
	const pq_col *c;
	uint8_t		b = v ? 1 : 0;

	if ((c = column(w, col)) != NULL && kind_is(w, c->def.kind == PQ_BOOLEAN))
		put_value(w, col, &b, 1);
}

void
pq_put_i32(pq_writer *w, int col, int32_t v)
{
	const pq_col *c;
	if ((c = column(w, col)) != NULL && kind_is(w, c->ptype == PT_INT32))
		put_value(w, col, &v, 4);
}

void
pq_put_i64(pq_writer *w, int col, int64_t v)
{
	const pq_col *c;
	if ((c = column(w, col)) != NULL && kind_is(w, c->ptype == PT_INT64 || c->ptype == PT_FLBA))
	{
		if (c->ptype == PT_FLBA)
			pq_put_i128(w, col, (__int128) v);
		else
			put_value(w, col, &v, 8);
	}
}

void
pq_put_double(pq_writer *w, int col, double v)
{
	const pq_col *c;
	if ((c = column(w, col)) == NULL || !kind_is(w, c->ptype == PT_DOUBLE || c->ptype == PT_FLOAT))
		return;
	if (c->ptype == PT_FLOAT)
	{
		float		f = (float) v;

		put_value(w, col, &f, 4);
	}
	else
		put_value(w, col, &v, 8);
}

void
pq_put_bytes(pq_writer *w, int col, const char *v, size_t len)
{
	const pq_col *c;
	if ((c = column(w, col)) != NULL && kind_is(w, c->ptype == PT_BYTE_ARRAY))
		put_value(w, col, v, len);
}

void
pq_put_i128(pq_writer *w, int col, __int128 v)
{
	const pq_col *c;
	uint8_t		be[16];
	unsigned __int128 u = (unsigned __int128) v;

	if ((c = column(w, col)) == NULL || !kind_is(w, c->def.kind == PQ_DECIMAL))
		return;
	if (w->cols[col].ptype == PT_INT64)
	{
		int64_t		s = (int64_t) v;

		if ((__int128) s != v)
		{
			fail(w, "a decimal wider than its column");
			return;
		}
		put_value(w, col, &s, 8);
		return;
	}
	for (int i = 15; i >= 0; i--)
	{
		be[i] = (uint8_t) (u & 0xff);
		u >>= 8;
	}
	put_value(w, col, be, 16);
}

/* ---------- writing a row group ---------- */

/* Compress src into w->comp (or point at src); returns the bytes to write. */
static const pq_buf *
compress_page(pq_writer *w, const pq_buf *src)
{
	w->comp.len = 0;
	if (w->opt.codec == PQ_UNCOMPRESSED)
		return src;
	if (w->opt.codec == PQ_ZSTD)
	{
		size_t		bound = ZSTD_compressBound(src->len);
		size_t		n;

		if (!grow((void **) &w->comp.data, &w->comp.cap, bound, 1))
		{
			fail(w, "out of memory");
			return src;
		}
		n = ZSTD_compressCCtx(w->zctx, w->comp.data, bound, src->data, src->len,
							  w->opt.zstd_level > 0 ? w->opt.zstd_level : 1);
		if (ZSTD_isError(n))
		{
			fail(w, "zstd compression failed");
			return src;
		}
		w->comp.len = n;
	}
	else
	{
		size_t		bound = snappy_max_compressed_length(src->len);
		size_t		n = bound;

		if (!grow((void **) &w->comp.data, &w->comp.cap, bound, 1))
		{
			fail(w, "out of memory");
			return src;
		}
		if (snappy_compress((const char *) src->data, src->len, (char *) w->comp.data, &n) != SNAPPY_OK)
		{
			fail(w, "snappy compression failed");
			return src;
		}
		w->comp.len = n;
	}
	return &w->comp;
}

/* Write one page (header + body) of the chunk being written. */
static void
write_page(pq_writer *w, pq_chunk_meta *m, int page_type, int32_t num_values, int encoding)
{
	const pq_buf *body = compress_page(w, &w->scratch);
	pq_thrift	t;

	if (w->failed)
		return;
	if (w->scratch.len > INT32_MAX || body->len > INT32_MAX)
	{
		fail(w, "a page larger than 2 GB");
		return;
	}
	w->header.len = 0;
	tc_init(&t, &w->header);
	tc_i32(&t, 1, page_type);
	tc_i32(&t, 2, (int32_t) w->scratch.len);
	tc_i32(&t, 3, (int32_t) body->len);
	if (page_type == PAGE_DICTIONARY)
	{
		tc_struct_begin(&t, 7);
		tc_i32(&t, 1, num_values);
		tc_i32(&t, 2, ENC_PLAIN);
		tc_struct_end(&t);
	}
	else
	{
		tc_struct_begin(&t, 5);
		tc_i32(&t, 1, num_values);
		tc_i32(&t, 2, encoding);
		tc_i32(&t, 3, ENC_RLE);
		tc_i32(&t, 4, ENC_RLE);
		tc_struct_end(&t);
	}
	tc_struct_end(&t);
	if (w->header.oom)
	{
		fail(w, "out of memory");
		return;
	}
	if (page_type == PAGE_DICTIONARY)
		m->dict_page_offset = (int64_t) w->pos;
	else if (m->data_page_offset < 0)
		m->data_page_offset = (int64_t) w->pos;
	m->uncompressed += (int64_t) (w->header.len + w->scratch.len);
	m->compressed += (int64_t) (w->header.len + body->len);
	emit(w, w->header.data, w->header.len);
	emit(w, body->data, body->len);
}

/* A value's PLAIN bytes (strings without the length) in the buffer. */
static const uint8_t *
value_at(const pq_col *c, size_t i, size_t *len)
{
	if (c->ptype == PT_BYTE_ARRAY)
	{
		uint32_t	l;

		memcpy(&l, c->vals.data + c->offs[i], 4);
		*len = l;
		return c->vals.data + c->offs[i] + 4;
	}
	*len = (size_t) c->width;
	return c->vals.data + i * (size_t) c->width;
}

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/*
 * Build the chunk's dictionary: idx[i] the entry of value i.  false when it
 * would be too large (then the chunk is not dictionary-encoded).
 */
static bool
build_dictionary(pq_writer *w, pq_col *c, uint32_t *idx, uint32_t **entries_out, size_t *nentries)
{
	size_t		tabsize = 1;
	uint32_t   *tab;				/* entry + 1, 0 = empty */
	uint32_t   *entries;			/* value index of each entry */
	size_t		n = 0,
				bytes = 0;

	while (tabsize < 2 * (c->nvals < DICT_MAX_VALUES ? c->nvals : DICT_MAX_VALUES) + 2)
		tabsize <<= 1;
	tab = calloc(tabsize, sizeof(uint32_t));
	entries = malloc(sizeof(uint32_t) * (DICT_MAX_VALUES + 1));
	if (tab == NULL || entries == NULL)
	{
		free(tab);
		free(entries);
		fail(w, "out of memory");
		return false;
	}
	for (size_t i = 0; i < c->nvals; i++)
	{
		size_t		len;
		const uint8_t *v = value_at(c, i, &len);
		size_t		slot = hash_bytes(v, len) & (tabsize - 1);

		for (;;)
		{
			if (tab[slot] == 0)
			{
				/*
				 * Too many distinct values: past half the values (a dictionary
				 * of nearly unique ones only adds the indices: timestamps, ids),
				 * or past what a dictionary page holds.
				 */
				if (n == DICT_MAX_VALUES || n > c->nvals / 2 || bytes + len + 4 > DICT_MAX_BYTES)
				{
					free(tab);
					free(entries);
					return false;
				}
				entries[n] = (uint32_t) i;
				tab[slot] = (uint32_t) ++n;
				bytes += len + (c->ptype == PT_BYTE_ARRAY ? 4 : 0);
				idx[i] = (uint32_t) (n - 1);
				break;
			}
			else
			{
				size_t		elen;
				const uint8_t *e = value_at(c, entries[tab[slot] - 1], &elen);

				if (elen == len && memcmp(e, v, len) == 0)
				{
					idx[i] = tab[slot] - 1;
					break;
				}
			}
			slot = (slot + 1) & (tabsize - 1);
		}
	}
	free(tab);
	*entries_out = entries;
	*nentries = n;
	return true;
}

/* The definition levels of rows [r0, r1) into scratch, with their 4-byte length. */
static void
put_levels(pq_writer *w, const pq_col *c, size_t r0, size_t r1)
{
	pq_buf		lv = {0};
	uint32_t   *tmp = malloc(sizeof(uint32_t) * (r1 - r0 + 1));
	uint32_t	len;

	if (tmp == NULL)
	{
		fail(w, "out of memory");
		return;
	}
	for (size_t r = r0; r < r1; r++)
		tmp[r - r0] = c->defs[r];
	pq_rle_hybrid(&lv, tmp, r1 - r0, 1);
	free(tmp);
	len = (uint32_t) lv.len;
	pq_buf_put(&w->scratch, &len, 4);
	pq_buf_put(&w->scratch, lv.data, lv.len);
	if (lv.oom)
		fail(w, "out of memory");
	pq_buf_free(&lv);
}

static int
bit_width_for(size_t n)
{
	int			bw = 0;

	while (n > 1 && ((size_t) 1 << bw) < n)
		bw++;
	return bw < 1 ? 1 : bw;
}

/* The values [v0, v1) of the chunk, in its encoding, into scratch. */
static void
put_values(pq_writer *w, const pq_col *c, int encoding, const uint32_t *idx, size_t ndict,
		   size_t v0, size_t v1)
{
	/* a page of NULLs only has no values (and a chunk of them no buffer at all) */
	if (v1 == v0 && encoding != ENC_RLE_DICTIONARY && encoding != ENC_DELTA_BINARY_PACKED)
		return;
	if (encoding == ENC_RLE_DICTIONARY)
	{
		int			bw = bit_width_for(ndict);

		pq_buf_byte(&w->scratch, (uint8_t) bw);
		pq_rle_hybrid(&w->scratch, idx + v0, v1 - v0, bw);
	}
	else if (encoding == ENC_DELTA_BINARY_PACKED)
	{
		int64_t    *tmp = malloc(sizeof(int64_t) * (v1 - v0 + 1));

		if (tmp == NULL)
		{
			fail(w, "out of memory");
			return;
		}
		for (size_t i = v0; i < v1; i++)
		{
			if (c->width == 4)
			{
				int32_t		x;

				memcpy(&x, c->vals.data + i * 4, 4);
				tmp[i - v0] = x;
			}
			else
				memcpy(&tmp[i - v0], c->vals.data + i * 8, 8);
		}
		pq_delta_binary_packed(&w->scratch, tmp, v1 - v0);
		free(tmp);
	}
	else if (c->ptype == PT_BOOLEAN)
	{
		/* PLAIN booleans are bit-packed, least significant bit first */
		uint8_t		acc = 0;
		int			nb = 0;

		for (size_t i = v0; i < v1; i++)
		{
			acc |= (uint8_t) ((c->vals.data[i] & 1) << nb);
			if (++nb == 8)
			{
				pq_buf_byte(&w->scratch, acc);
				acc = 0;
				nb = 0;
			}
		}
		if (nb > 0)
			pq_buf_byte(&w->scratch, acc);
	}
	else if (c->ptype == PT_BYTE_ARRAY)
	{
		size_t		start = c->offs[v0];
		size_t		end = v1 < c->nvals ? c->offs[v1] : c->vals.len;

		pq_buf_put(&w->scratch, c->vals.data + start, end - start);
	}
	else
		pq_buf_put(&w->scratch, c->vals.data + v0 * (size_t) c->width, (v1 - v0) * (size_t) c->width);
}

/* Bytes value i takes in its PLAIN form, to size pages. */
static size_t
plain_size(const pq_col *c, size_t i)
{
	size_t		len;

	if (c->ptype != PT_BYTE_ARRAY)
		return c->width ? (size_t) c->width : 1;
	(void) value_at(c, i, &len);
	return len + 4;
}

/* Compressed size of the values [0, n) in an encoding (for choosing it). */
static size_t
trial_size(pq_writer *w, const pq_col *c, int encoding, size_t n)
{
	const pq_buf *out;

	w->scratch.len = 0;
	put_values(w, c, encoding, NULL, 0, 0, n);
	out = compress_page(w, &w->scratch);
	return out->len;
}

/*
 * DELTA_BINARY_PACKED shrinks sorted or slowly moving values (ids, times,
 * prices) to a few bits; values that jump at random (amounts) compress
 * better PLAIN.  Try both on the first page's worth of values.
 */
static int
choose_int_encoding(pq_writer *w, const pq_col *c)
{
	size_t		n = c->nvals < w->opt.page_bytes / (size_t) c->width ? c->nvals : w->opt.page_bytes / (size_t) c->width;
	size_t		delta,
				plain;

	if (n == 0)
		return ENC_DELTA_BINARY_PACKED;
	delta = trial_size(w, c, ENC_DELTA_BINARY_PACKED, n);
	plain = trial_size(w, c, ENC_PLAIN, n);
	return plain < delta ? ENC_PLAIN : ENC_DELTA_BINARY_PACKED;
}

static void
write_chunk(pq_writer *w, pq_col *c, pq_chunk_meta *m)
{
	uint32_t   *idx = NULL;
	uint32_t   *entries = NULL;
	size_t		ndict = 0;
	int			encoding = ENC_PLAIN;
	size_t		rows = w->rows;
	size_t		r = 0,
				v = 0;

	memset(m, 0, sizeof(*m));
	m->start = (int64_t) w->pos;
	m->data_page_offset = -1;
	m->dict_page_offset = -1;
	m->num_values = (int64_t) rows;
	m->nnull = (int64_t) c->nnull;
	if (c->nvals > 0 && c->ptype != PT_BOOLEAN)
	{
		idx = malloc(sizeof(uint32_t) * c->nvals);
		if (idx == NULL)
		{
			fail(w, "out of memory");
			return;
		}
		if (build_dictionary(w, c, idx, &entries, &ndict))
			encoding = ENC_RLE_DICTIONARY;
	}
	/* integers, dates, times and INT64 decimals: whichever of DELTA and PLAIN compresses better */
	if (encoding != ENC_RLE_DICTIONARY && (c->ptype == PT_INT32 || c->ptype == PT_INT64))
		encoding = choose_int_encoding(w, c);
	m->encoding = encoding;

	if (encoding == ENC_RLE_DICTIONARY)
	{
		w->scratch.len = 0;
		for (size_t e = 0; e < ndict; e++)
		{
			size_t		len;
			const uint8_t *val = value_at(c, entries[e], &len);

			if (c->ptype == PT_BYTE_ARRAY)
			{
				uint32_t	l = (uint32_t) len;

				pq_buf_put(&w->scratch, &l, 4);
			}
			pq_buf_put(&w->scratch, val, len);
		}
		write_page(w, m, PAGE_DICTIONARY, (int32_t) ndict, ENC_PLAIN);
	}
	/* data pages: rows [r, r1) holding values [v, v1), about page_bytes of PLAIN values each */
	while (!w->failed && r < rows)
	{
		size_t		r1 = r,
					v1 = v,
					bytes = 0;

		while (r1 < rows && (bytes < w->opt.page_bytes || r1 == r))
		{
			if (!c->def.nullable || c->defs[r1])
			{
				bytes += plain_size(c, v1);
				v1++;
			}
			r1++;
		}
		w->scratch.len = 0;
		if (c->def.nullable)
			put_levels(w, c, r, r1);
		put_values(w, c, encoding, idx, ndict, v, v1);
		if (w->scratch.oom)
			fail(w, "out of memory");
		write_page(w, m, PAGE_DATA, (int32_t) (r1 - r), encoding);
		r = r1;
		v = v1;
	}
	m->has_minmax = c->has_minmax;
	if (c->has_minmax)
	{
		/* the chunk's metadata keeps the bounds: hand them over */
		m->min = c->min;
		m->max = c->max;
		m->minlen = c->minlen;
		m->maxlen = c->maxlen;
		c->min = c->max = NULL;
		c->mmcap = 0;
	}
	free(idx);
	free(entries);
}

static bool
flush_row_group(pq_writer *w)
{
	pq_rg_meta *rg;

	if (w->failed)
		return false;
	if (w->rows == 0)
		return true;
	if (w->nrgs == w->rgcap)
	{
		size_t		cap = (size_t) w->rgcap;

		if (!grow((void **) &w->rgs, &cap, (size_t) w->nrgs + 1, sizeof(pq_rg_meta)))
			return fail(w, "out of memory");
		w->rgcap = (int) cap;
	}
	rg = &w->rgs[w->nrgs++];
	memset(rg, 0, sizeof(*rg));
	rg->chunks = calloc(w->ncols > 0 ? w->ncols : 1, sizeof(pq_chunk_meta));
	if (rg->chunks == NULL)
		return fail(w, "out of memory");
	rg->num_rows = (int64_t) w->rows;
	rg->file_offset = (int64_t) w->pos;
	for (int i = 0; i < w->ncols && !w->failed; i++)
	{
		pq_col	   *c = &w->cols[i];

		write_chunk(w, c, &rg->chunks[i]);
		rg->total_bytes += rg->chunks[i].uncompressed;
		rg->compressed += rg->chunks[i].compressed;
		/* reset the column for the next row group (buffers kept for reuse) */
		c->vals.len = 0;
		c->nvals = 0;
		c->nnull = 0;
		c->has_minmax = false;
	}
	w->total_rows += (int64_t) w->rows;
	w->rows = 0;
	w->buffered = 0;
	return !w->failed;
}

bool
pq_end_row(pq_writer *w)
{
	if (w->failed)
		return false;
	for (int i = 0; i < w->ncols; i++)
	{
		pq_col	   *c = &w->cols[i];

		if (!c->set)
			return fail(w, "a row without a value for every column");
		if (c->def.nullable)
		{
			if (!grow((void **) &c->defs, &c->defs_cap, w->rows + 1, 1))
				return fail(w, "out of memory");
			c->defs[w->rows] = c->cur_def;
		}
		c->set = false;
	}
	w->rows++;
	if (w->buffered >= w->opt.row_group_bytes)
		return flush_row_group(w);
	return true;
}

/* ---------- the footer ---------- */

static void
write_schema_element(pq_thrift *t, const pq_col *c)
{
	const pq_column_def *d = &c->def;

	tc_elem_struct_begin(t);
	tc_i32(t, 1, c->ptype);
	if (c->ptype == PT_FLBA)
		tc_i32(t, 2, 16);
	tc_i32(t, 3, d->nullable ? 1 : 0);	/* OPTIONAL : REQUIRED */
	tc_binary(t, 4, d->name, strlen(d->name));
	/* converted_type (6) for older readers, then the logical type (10) */
	switch (d->kind)
	{
		case PQ_STRING:
			tc_i32(t, 6, 0);	/* UTF8 */
			tc_struct_begin(t, 10);
			tc_struct_begin(t, 1);	/* STRING */
			tc_struct_end(t);
			tc_struct_end(t);
			break;
		case PQ_DECIMAL:
			tc_i32(t, 6, 5);	/* DECIMAL */
			tc_i32(t, 7, d->scale);
			tc_i32(t, 8, d->precision);
			tc_struct_begin(t, 10);
			tc_struct_begin(t, 5);	/* DECIMAL */
			tc_i32(t, 1, d->scale);
			tc_i32(t, 2, d->precision);
			tc_struct_end(t);
			tc_struct_end(t);
			break;
		case PQ_DATE:
			tc_i32(t, 6, 6);	/* DATE */
			tc_struct_begin(t, 10);
			tc_struct_begin(t, 6);	/* DATE */
			tc_struct_end(t);
			tc_struct_end(t);
			break;
		case PQ_TIMESTAMP_US:
			tc_i32(t, 6, 10);	/* TIMESTAMP_MICROS */
			tc_struct_begin(t, 10);
			tc_struct_begin(t, 8);	/* TIMESTAMP */
			tc_bool(t, 1, true);	/* isAdjustedToUTC */
			tc_struct_begin(t, 2);	/* unit */
			tc_struct_begin(t, 2);	/* MICROS */
			tc_struct_end(t);
			tc_struct_end(t);
			tc_struct_end(t);
			tc_struct_end(t);
			break;
		default:
			break;
	}
	tc_struct_end(t);
}

static void
write_chunk_meta(pq_thrift *t, const pq_col *c, const pq_chunk_meta *m)
{
	tc_elem_struct_begin(t);	/* ColumnChunk */
	tc_i64(t, 2, m->start);
	tc_struct_begin(t, 3);		/* ColumnMetaData */
	tc_i32(t, 1, c->ptype);
	if (m->encoding == ENC_RLE_DICTIONARY)
	{
		tc_list_begin(t, 2, TC_I32, 3);
		tc_elem_i32(t, ENC_PLAIN);
		tc_elem_i32(t, ENC_RLE_DICTIONARY);
		tc_elem_i32(t, ENC_RLE);
	}
	else
	{
		tc_list_begin(t, 2, TC_I32, 2);
		tc_elem_i32(t, m->encoding);
		tc_elem_i32(t, ENC_RLE);
	}
	tc_list_begin(t, 3, TC_BINARY, 1);
	tc_elem_binary(t, c->def.name, strlen(c->def.name));
	tc_i32(t, 4, t->codec);
	tc_i64(t, 5, m->num_values);
	tc_i64(t, 6, m->uncompressed);
	tc_i64(t, 7, m->compressed);
	tc_i64(t, 9, m->data_page_offset);
	if (m->dict_page_offset >= 0)
		tc_i64(t, 11, m->dict_page_offset);
	tc_struct_begin(t, 12);		/* Statistics */
	tc_i64(t, 3, m->nnull);
	if (m->has_minmax)
	{
		tc_binary(t, 5, m->max, m->maxlen);
		tc_binary(t, 6, m->min, m->minlen);
	}
	tc_struct_end(t);
	tc_struct_end(t);			/* ColumnMetaData */
	tc_struct_end(t);			/* ColumnChunk */
}

bool
pq_finish(pq_writer *w)
{
	pq_buf		f = {0};
	pq_thrift	t;
	uint32_t	flen;
	static const uint8_t magic[4] = {'P', 'A', 'R', '1'};
	const char *by = w->opt.created_by ? w->opt.created_by : "gemini_etl";

	if (w->failed)
		return false;
	/* the last row group; a file of no rows has none (its schema is in the footer) */
	if (w->rows > 0 && !flush_row_group(w))
		return false;
	tc_init(&t, &f);
	t.codec = (int) w->opt.codec;
	tc_i32(&t, 1, 1);			/* version */
	tc_list_begin(&t, 2, TC_STRUCT, (size_t) w->ncols + 1);
	tc_elem_struct_begin(&t);	/* the root */
	tc_binary(&t, 4, "schema", 6);
	tc_i32(&t, 5, w->ncols);
	tc_struct_end(&t);
	for (int i = 0; i < w->ncols; i++)
		write_schema_element(&t, &w->cols[i]);
	tc_i64(&t, 3, w->total_rows);
	tc_list_begin(&t, 4, TC_STRUCT, (size_t) w->nrgs);
	for (int g = 0; g < w->nrgs; g++)
	{
		pq_rg_meta *rg = &w->rgs[g];

		tc_elem_struct_begin(&t);
		tc_list_begin(&t, 1, TC_STRUCT, (size_t) w->ncols);
		for (int i = 0; i < w->ncols; i++)
			write_chunk_meta(&t, &w->cols[i], &rg->chunks[i]);
		tc_i64(&t, 2, rg->total_bytes);
		tc_i64(&t, 3, rg->num_rows);
		tc_i64(&t, 5, rg->file_offset);
		tc_i64(&t, 6, rg->compressed);
		tc_i16(&t, 7, (int16_t) g);
		tc_struct_end(&t);
	}
	tc_binary(&t, 6, by, strlen(by));
	/* column_orders: TypeDefinedOrder for every column, so min/max are trusted */
	tc_list_begin(&t, 7, TC_STRUCT, (size_t) w->ncols);
	for (int i = 0; i < w->ncols; i++)
	{
		tc_elem_struct_begin(&t);
		tc_struct_begin(&t, 1);
		tc_struct_end(&t);
		tc_struct_end(&t);
	}
	tc_struct_end(&t);			/* FileMetaData */
	if (f.oom || f.len > UINT32_MAX)
	{
		pq_buf_free(&f);
		return fail(w, "out of memory");
	}
	flen = (uint32_t) f.len;
	emit(w, f.data, f.len);
	emit(w, (const uint8_t *) &flen, 4);
	emit(w, magic, 4);
	pq_buf_free(&f);
	return !w->failed;
}

const char *
pq_last_error(const pq_writer *w)
{
	return w->error ? w->error : "no error";
}

uint64_t
pq_bytes_written(const pq_writer *w)
{
	return w->pos;
}

uint64_t
pq_bytes_buffered(const pq_writer *w)
{
	return w->buffered;
}

void
pq_writer_free(pq_writer *w)
{
	if (w == NULL)
		return;
	for (int i = 0; w->cols && i < w->ncols; i++)
	{
		pq_col	   *c = &w->cols[i];

		free((void *) c->def.name);
		pq_buf_free(&c->vals);
		free(c->offs);
		free(c->defs);
		free(c->min);
		free(c->max);
	}
	for (int g = 0; g < w->nrgs; g++)
	{
		for (int i = 0; w->rgs[g].chunks && i < w->ncols; i++)
		{
			free(w->rgs[g].chunks[i].min);
			free(w->rgs[g].chunks[i].max);
		}
		free(w->rgs[g].chunks);
	}
	free(w->rgs);
	free(w->cols);
	if (w->zctx)
		ZSTD_freeCCtx(w->zctx);
	pq_buf_free(&w->scratch);
	pq_buf_free(&w->comp);
	pq_buf_free(&w->header);
	free(w);
}
