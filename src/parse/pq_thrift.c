/*
 * pq_thrift.c
 *	  The byte buffer of the Parquet writer and the Thrift compact protocol
 *	  that Parquet's page headers and footer are written in (see
 *	  parquet-format's parquet.thrift and Thrift's compact protocol spec).
 *	  Only what a writer needs: structs, lists, integers, booleans, binary.
 */
#include <stdlib.h>
#include <string.h>

#include "pq_writer.h"

void
pq_buf_put(pq_buf *b, const void *data, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap)
	{
		size_t		cap = b->cap ? b->cap * 2 : 4096;
		uint8_t    *nd;

		while (cap < b->len + n)
			cap *= 2;
		nd = realloc(b->data, cap);
		if (nd == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

void
pq_buf_byte(pq_buf *b, uint8_t v)
{
	pq_buf_put(b, &v, 1);
}

void
pq_buf_varint(pq_buf *b, uint64_t v)
{
	uint8_t		tmp[10];
	int			n = 0;

	do
	{
		uint8_t		c = v & 0x7f;

		v >>= 7;
		tmp[n++] = c | (v ? 0x80 : 0);
	} while (v);
	pq_buf_put(b, tmp, n);
}

void
pq_buf_free(pq_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static uint64_t
zigzag64(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

void
tc_init(pq_thrift *t, pq_buf *b)
{
	memset(t, 0, sizeof(*t));
	t->b = b;
}

/* A field header: the id as a delta from the previous one when it fits in 4 bits. */
static void
tc_field(pq_thrift *t, int16_t id, int type)
{
	int			delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15)
		pq_buf_byte(t->b, (uint8_t) ((delta << 4) | type));
	else
	{
		pq_buf_byte(t->b, (uint8_t) type);
		pq_buf_varint(t->b, zigzag64(id));
	}
	t->last[t->depth] = id;
}

void
tc_i32(pq_thrift *t, int16_t id, int32_t v)
{
	tc_field(t, id, TC_I32);
	pq_buf_varint(t->b, zigzag64(v));
}

void
tc_i64(pq_thrift *t, int16_t id, int64_t v)
{
	tc_field(t, id, TC_I64);
	pq_buf_varint(t->b, zigzag64(v));
}

void
tc_i16(pq_thrift *t, int16_t id, int16_t v)
{
	tc_field(t, id, TC_I16);
	pq_buf_varint(t->b, zigzag64(v));
}

void
tc_i8(pq_thrift *t, int16_t id, int8_t v)
{
	tc_field(t, id, TC_BYTE);
	pq_buf_byte(t->b, (uint8_t) v);
}

void
tc_bool(pq_thrift *t, int16_t id, bool v)
{
	tc_field(t, id, v ? TC_BOOL_TRUE : TC_BOOL_FALSE);
}

void
tc_binary(pq_thrift *t, int16_t id, const void *data, size_t len)
{
	tc_field(t, id, TC_BINARY);
	pq_buf_varint(t->b, len);
	pq_buf_put(t->b, data, len);
}

void
tc_struct_begin(pq_thrift *t, int16_t id)
{
	tc_field(t, id, TC_STRUCT);
	tc_elem_struct_begin(t);
}

void
tc_elem_struct_begin(pq_thrift *t)
{
	if (t->depth + 1 >= (int) (sizeof(t->last) / sizeof(t->last[0])))
	{
		t->b->oom = true;		/* deeper than any Parquet structure: a bug */
		return;
	}
	t->depth++;
	t->last[t->depth] = 0;
}

void
tc_struct_end(pq_thrift *t)
{
	pq_buf_byte(t->b, 0);		/* stop */
	if (t->depth > 0)
		t->depth--;
}

void
tc_list_begin(pq_thrift *t, int16_t id, int elem_type, size_t n)
{
	tc_field(t, id, TC_LIST);
	if (n < 15)
		pq_buf_byte(t->b, (uint8_t) ((n << 4) | elem_type));
	else
	{
		pq_buf_byte(t->b, (uint8_t) (0xf0 | elem_type));
		pq_buf_varint(t->b, n);
	}
}

void
tc_elem_i32(pq_thrift *t, int32_t v)
{
	pq_buf_varint(t->b, zigzag64(v));
}

void
tc_elem_binary(pq_thrift *t, const void *data, size_t len)
{
	pq_buf_varint(t->b, len);
	pq_buf_put(t->b, data, len);
}
