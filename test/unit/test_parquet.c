/*
 * test_parquet.c
 *	  The Parquet writer's pieces against decoders written here from
 *	  parquet-format's Encodings.md (RLE / bit-packed hybrid,
 *	  DELTA_BINARY_PACKED), Thrift compact bytes worked out by hand, and a
 *	  whole file's frame (magic, footer length).  That the files read back
 *	  right is checked by DuckDB and hyparquet in test/t/parquet.t.
 */
#include <stdlib.h>
#include <string.h>

#include "pq_writer.h"
#include "test_util.h"

void		test_parquet(void);

static uint64_t
get_varint(const uint8_t *p, size_t *pos)
{
	uint64_t	v = 0;
	int			shift = 0;

	for (;;)
	{
		uint8_t		c = p[(*pos)++];

		v |= (uint64_t) (c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
	}
}

static uint64_t
get_bits(const uint8_t *p, size_t bitpos, int width)
{
	uint64_t	v = 0;

	for (int k = 0; k < width; k++)
		if (p[(bitpos + k) / 8] & (1 << ((bitpos + k) % 8)))
			v |= (uint64_t) 1 << k;
	return v;
}

/* Decode n values of the RLE / bit-packed hybrid. */
static void
rle_decode(const uint8_t *p, size_t len, int width, uint32_t *out, size_t n)
{
	size_t		pos = 0,
				got = 0;

	while (got < n && pos < len)
	{
		uint64_t	h = get_varint(p, &pos);

		if (h & 1)
		{
			size_t		cnt = (h >> 1) * 8;

			for (size_t k = 0; k < cnt; k++)
			{
				uint32_t	v = (uint32_t) get_bits(p + pos, k * width, width);

				if (got < n)
					out[got++] = v;
			}
			pos += cnt * width / 8;
		}
		else
		{
			size_t		cnt = h >> 1;
			uint32_t	v = 0;

			for (int k = 0; k < (width + 7) / 8; k++)
				v |= (uint32_t) p[pos++] << (8 * k);
			for (size_t k = 0; k < cnt && got < n; k++)
				out[got++] = v;
		}
	}
}

static int64_t
unzigzag(uint64_t v)
{
	return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

static size_t
delta_decode(const uint8_t *p, int64_t *out)
{
	size_t		pos = 0;
	uint64_t	block = get_varint(p, &pos);
	uint64_t	minis = get_varint(p, &pos);
	uint64_t	total = get_varint(p, &pos);
	int64_t		prev = unzigzag(get_varint(p, &pos));
	size_t		got = 0;

	if (total == 0)
		return 0;
	out[got++] = prev;
	while (got < total)
	{
		int64_t		min = unzigzag(get_varint(p, &pos));
		uint8_t		widths[16];
		size_t		per = block / minis;

		memcpy(widths, p + pos, minis);
		pos += minis;
		for (size_t m = 0; m < minis && got < total; m++)
		{
			for (size_t k = 0; k < per; k++)
			{
				uint64_t	d = get_bits(p + pos, k * widths[m], widths[m]);

				if (got < total)
				{
					prev = (int64_t) ((uint64_t) prev + (uint64_t) min + d);
					out[got++] = prev;
				}
			}
			pos += per * widths[m] / 8;
		}
	}
	return got;
}

static void
test_rle(void)
{
	static const size_t sizes[] = {0, 1, 7, 8, 9, 100, 1000, 5000};

	srand(7);
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
	{
		for (int width = 1; width <= 20; width += 3)
		{
			size_t		n = sizes[si];
			uint32_t   *in = malloc(sizeof(uint32_t) * (n + 1));
			uint32_t   *out = calloc(n + 1, sizeof(uint32_t));
			pq_buf		b = {0};
			bool		ok = true;

			for (size_t i = 0; i < n; i++)	/* runs and noise mixed */
				in[i] = (i / 13) % 3 == 0 ? 5 % (1u << width) : (uint32_t) rand() % (1u << width);
			pq_rle_hybrid(&b, in, n, width);
			rle_decode(b.data, b.len, width, out, n);
			for (size_t i = 0; i < n; i++)
				ok = ok && in[i] == out[i];
			CHECKF(ok && !b.oom, "RLE hybrid round trip, n=%zu width=%d", n, width);
			pq_buf_free(&b);
			free(in);
			free(out);
		}
	}
	/* a long run is one RLE run: header (1000 << 1) as a varint, then the value byte */
	{
		uint32_t	v[1000];
		pq_buf		b = {0};

		for (int i = 0; i < 1000; i++)
			v[i] = 1;
		pq_rle_hybrid(&b, v, 1000, 1);
		CHECK_I64(b.len, 3);
		CHECK(b.data[0] == 0xd0 && b.data[1] == 0x0f && b.data[2] == 1);
		pq_buf_free(&b);
	}
}

static void
test_delta(void)
{
	static const size_t sizes[] = {0, 1, 2, 127, 128, 129, 300, 4097};

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
	{
		size_t		n = sizes[si];
		int64_t    *in = malloc(sizeof(int64_t) * (n + 1));
		int64_t    *out = calloc(n + 1, sizeof(int64_t));
		pq_buf		b = {0};
		bool		ok = true;

		for (size_t i = 0; i < n; i++)
			in[i] = i % 50 == 7 ? (i % 2 ? INT64_MAX : INT64_MIN) : (int64_t) (1700000000000000 + i * 86 - (i % 5) * 3);
		pq_delta_binary_packed(&b, in, n);
		CHECK_I64(delta_decode(b.data, out), n);
		for (size_t i = 0; i < n; i++)
			ok = ok && in[i] == out[i];
		CHECKF(ok, "DELTA_BINARY_PACKED round trip, n=%zu (with INT64_MIN/MAX jumps)", n);
		pq_buf_free(&b);
		free(in);
		free(out);
	}
}

static void
test_thrift(void)
{
	pq_buf		b = {0};
	pq_thrift	t;
	static const uint8_t want[] = {
		0x15, 0x00,				/* field 1 i32 0 */
		0x15, 0xc0, 0x84, 0x3d, /* field 2 i32 500000 (zigzag 1000000) */
		0x1c,					/* field 3 struct */
		0x15, 0x02,				/* field 1 i32 1 */
		0x00,					/* stop */
		0x19, 0x25, 0x00, 0x10,	/* field 4 list<i32> [0, 8] */
		0x28, 0x02, 'h', 'i',	/* field 6 binary "hi" */
		0x03, 0x2c, 0x05,		/* field 22, delta 16: long form (type, zigzag id 44), byte 5 */
		0x00};

	tc_init(&t, &b);
	tc_i32(&t, 1, 0);
	tc_i32(&t, 2, 500000);
	tc_struct_begin(&t, 3);
	tc_i32(&t, 1, 1);
	tc_struct_end(&t);
	tc_list_begin(&t, 4, TC_I32, 2);
	tc_elem_i32(&t, 0);
	tc_elem_i32(&t, 8);
	tc_binary(&t, 6, "hi", 2);
	tc_i8(&t, 22, 5);
	tc_struct_end(&t);
	CHECK_I64(b.len, sizeof(want));
	CHECK(b.len == sizeof(want) && memcmp(b.data, want, sizeof(want)) == 0);
	pq_buf_free(&b);
}

static bool
to_buf(void *arg, const uint8_t *data, size_t len)
{
	pq_buf_put((pq_buf *) arg, data, len);
	return true;
}

static bool
refuse(void *arg, const uint8_t *data, size_t len)
{
	(void) arg;
	(void) data;
	(void) len;
	return false;
}

static void
test_file_frame(void)
{
	pq_column_def cols[] = {
		{"id", PQ_INT64, false, 0, 0}, {"px", PQ_DECIMAL, true, 38, 18}, {"s", PQ_STRING, true, 0, 0},
		{"ok", PQ_BOOLEAN, false, 0, 0}, {"t", PQ_TIMESTAMP_US, false, 0, 0}};
	pq_options	opt = {PQ_ZSTD, 1, 4096, 1024, "gemini_etl test"};
	pq_buf		out = {0};
	const char *why;
	pq_writer  *w = pq_writer_new(cols, 5, &opt, to_buf, &out, &why);
	uint32_t	flen;

	CHECK(w != NULL);
	if (w == NULL)
		return;
	for (int i = 0; i < 1000; i++)
	{
		pq_put_i64(w, 0, i);
		if (i % 7 == 0)
			pq_put_null(w, 1);
		else
			pq_put_i128(w, 1, (__int128) i * 1000000000000000000LL * (i % 2 ? -1 : 1));
		if (i % 5 == 0)
			pq_put_null(w, 2);
		else
			pq_put_bytes(w, 2, i % 2 ? "BTCUSD" : "ETHUSD", 6);
		pq_put_bool(w, 3, i % 3 == 0);
		pq_put_i64(w, 4, 1700000000000000LL + i);
		CHECK(pq_end_row(w) || !"end_row");
	}
	CHECK(pq_finish(w));
	CHECK(out.len > 12 && memcmp(out.data, "PAR1", 4) == 0 && memcmp(out.data + out.len - 4, "PAR1", 4) == 0);
	memcpy(&flen, out.data + out.len - 8, 4);
	CHECK(flen > 0 && flen < out.len - 12);
	CHECK_I64(pq_bytes_written(w), out.len);
	pq_writer_free(w);
	pq_buf_free(&out);

	/* errors are returned, not raised */
	w = pq_writer_new(cols, 5, &opt, to_buf, &out, &why);
	pq_put_null(w, 0);
	CHECK(!pq_end_row(w));
	pq_writer_free(w);
	pq_buf_free(&out);
	w = pq_writer_new(cols, 5, &opt, to_buf, &out, &why);
	pq_put_i64(w, 0, 1);
	CHECK(!pq_end_row(w));
	CHECK_STR(pq_last_error(w), "a row without a value for every column");
	pq_writer_free(w);
	pq_buf_free(&out);
	/* a column that does not exist is refused before its definition is read */
	w = pq_writer_new(cols, 5, &opt, to_buf, &out, &why);
	pq_put_i64(w, 99, 1);
	pq_put_null(w, -1);
	CHECK_STR(pq_last_error(w), "no such column");
	pq_writer_free(w);
	pq_buf_free(&out);
	CHECK(pq_writer_new(cols, 5, &opt, refuse, NULL, &why) == NULL);
	CHECK_STR(why, "the output failed");
	cols[1].precision = 39;
	CHECK(pq_writer_new(cols, 5, &opt, to_buf, &out, &why) == NULL);
	CHECK_STR(why, "invalid column definition");
}

static void
test_decimal(void)
{
	__int128	v;

	CHECK_I64(pq_decimal_from_text("60000.01", 18, 8, &v), PQ_DEC_OK);
	CHECK(v == (__int128) 6000001000000LL);
	CHECK_I64(pq_decimal_from_text("-0.00000001", 18, 8, &v), PQ_DEC_OK);
	CHECK(v == -1);
	CHECK_I64(pq_decimal_from_text("1.50000", 3, 1, &v), PQ_DEC_OK);	/* trailing zeros are not decimals */
	CHECK(v == 15);
	CHECK_I64(pq_decimal_from_text("0", 1, 0, &v), PQ_DEC_OK);
	CHECK(v == 0);
	CHECK_I64(pq_decimal_from_text("0.5", 1, 1, &v), PQ_DEC_OK);
	CHECK(v == 5);
	CHECK_I64(pq_decimal_from_text("00012", 2, 0, &v), PQ_DEC_OK);
	CHECK(v == 12);
	/* 38 digits: the edge of DECIMAL(38,18) */
	{
		__int128	nines = 0;

		for (int k = 0; k < 38; k++)
			nines = nines * 10 + 9;
		CHECK_I64(pq_decimal_from_text("99999999999999999999.999999999999999999", 38, 18, &v), PQ_DEC_OK);
		CHECK(v == nines);
		CHECK_I64(pq_decimal_from_text("-99999999999999999999.999999999999999999", 38, 18, &v), PQ_DEC_OK);
		CHECK(v == -nines);
	}
	CHECK_I64(pq_decimal_from_text("100000000000000000000", 38, 18, &v), PQ_DEC_TOO_MANY_DIGITS);
	CHECK_I64(pq_decimal_from_text("0.0000000000000000001", 38, 18, &v), PQ_DEC_TOO_MANY_DECIMALS);
	CHECK_I64(pq_decimal_from_text("NaN", 38, 18, &v), PQ_DEC_NOT_FINITE);
	CHECK_I64(pq_decimal_from_text("-Infinity", 38, 18, &v), PQ_DEC_NOT_FINITE);
	CHECK_I64(pq_decimal_from_text("1.2.3", 38, 18, &v), PQ_DEC_MALFORMED);
	CHECK_I64(pq_decimal_from_text("", 38, 18, &v), PQ_DEC_MALFORMED);
	CHECK_I64(pq_decimal_from_text(".", 38, 18, &v), PQ_DEC_MALFORMED);
	CHECK_I64(pq_decimal_from_text("12a", 38, 18, &v), PQ_DEC_MALFORMED);
}

void
test_parquet(void)
{
	test_decimal();
	test_rle();
	test_delta();
	test_thrift();
	test_file_frame();
}
