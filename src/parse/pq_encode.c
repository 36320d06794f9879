/*
 * pq_encode.c
 *	  Parquet's value encodings that are more than a copy: the RLE /
 *	  bit-packed hybrid (definition levels and dictionary indices) and
 *	  DELTA_BINARY_PACKED (integer and timestamp columns that do not fit a
 *	  dictionary: sorted times and ids shrink to a few bits a value).
 *	  See parquet-format's Encodings.md.
 */
#include <string.h>

#include "pq_writer.h"

/* Append n values of width bits each, least significant bit first. */
static void
bitpack(pq_buf *b, const uint64_t *vals, size_t n, int width)
{
	uint64_t	acc = 0;
	int			nbits = 0;

	for (size_t i = 0; i < n; i++)
	{
		uint64_t	v = vals[i];
		int			left = width;

		while (left > 0)
		{
			int			take = left < 64 - nbits ? left : 64 - nbits;
			uint64_t	part = take == 64 ? v : (v & ((UINT64_C(1) << take) - 1));

			acc |= part << nbits;
			nbits += take;
			left -= take;
			v = take == 64 ? 0 : v >> take;
			if (nbits == 64)
			{
				pq_buf_put(b, &acc, 8);		/* little-endian machines only (x86_64, arm64) */
				acc = 0;
				nbits = 0;
			}
		}
	}
	/* whole bytes only: n * width is a multiple of 8 for every caller */
	pq_buf_put(b, &acc, (size_t) (nbits + 7) / 8);
}

static size_t
run_length(const uint32_t *vals, size_t i, size_t n)
{
	size_t		j = i + 1;

	while (j < n && vals[j] == vals[i])
		j++;
	return j - i;
}

void
pq_rle_hybrid(pq_buf *b, const uint32_t *vals, size_t n, int bit_width)
{
	size_t		i = 0;
	int			vbytes = (bit_width + 7) / 8;

	while (i < n)
	{
		size_t		r = run_length(vals, i, n);

		if (r >= 8 || bit_width == 0)
		{
			/* an RLE run: (count << 1), then the value in ceil(width / 8) bytes */
			uint32_t	v = vals[i];

			if (bit_width == 0)
				r = n - i;
			pq_buf_varint(b, (uint64_t) r << 1);
			for (int k = 0; k < vbytes; k++)
				pq_buf_byte(b, (uint8_t) (v >> (8 * k)));
			i += r;
		}
		else
		{
			/* bit-packed groups of 8 until a long run starts (at most 63 groups per header) */
			uint64_t	group[8 * 63];
			size_t		start = i,
						groups = 0;

			while (i < n && groups < 63)
			{
				if (groups > 0 && run_length(vals, i, n) >= 8)
					break;
				i += 8;
				groups++;
			}
			for (size_t k = 0; k < groups * 8; k++)
				group[k] = start + k < n ? vals[start + k] : 0;	/* padding is ignored by readers */
			pq_buf_varint(b, ((uint64_t) groups << 1) | 1);
			bitpack(b, group, groups * 8, bit_width);
			if (i > n)
				i = n;
		}
	}
}

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static int
bits_needed(uint64_t v)
{
	return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

#define DELTA_BLOCK 128
#define DELTA_MINIBLOCKS 4
#define DELTA_MINI (DELTA_BLOCK / DELTA_MINIBLOCKS)

void
pq_delta_binary_packed(pq_buf *b, const int64_t *vals, size_t n)
{
	pq_buf_varint(b, DELTA_BLOCK);
	pq_buf_varint(b, DELTA_MINIBLOCKS);
	pq_buf_varint(b, n);
	pq_buf_varint(b, zigzag(n > 0 ? vals[0] : 0));
	/* deltas wrap around in 64 bits, as readers undo them */
	for (size_t start = 1; start < n; start += DELTA_BLOCK)
	{
		size_t		cnt = n - start < DELTA_BLOCK ? n - start : DELTA_BLOCK;
		int64_t		deltas[DELTA_BLOCK];
		int64_t		min = INT64_MAX;
		uint64_t	rel[DELTA_BLOCK];
		uint8_t		widths[DELTA_MINIBLOCKS];

		for (size_t k = 0; k < cnt; k++)
		{
			deltas[k] = (int64_t) ((uint64_t) vals[start + k] - (uint64_t) vals[start + k - 1]);
			if (deltas[k] < min)
				min = deltas[k];
		}
		for (size_t k = 0; k < DELTA_BLOCK; k++)
			rel[k] = k < cnt ? (uint64_t) deltas[k] - (uint64_t) min : 0;
		for (int m = 0; m < DELTA_MINIBLOCKS; m++)
		{
			uint64_t	mx = 0;

			for (int k = 0; k < DELTA_MINI; k++)
				mx |= rel[m * DELTA_MINI + k];
			widths[m] = (uint8_t) ((size_t) m * DELTA_MINI < cnt ? bits_needed(mx) : 0);
		}
		pq_buf_varint(b, zigzag(min));
		pq_buf_put(b, widths, DELTA_MINIBLOCKS);
		for (int m = 0; m < DELTA_MINIBLOCKS; m++)
			if ((size_t) m * DELTA_MINI < cnt)
				bitpack(b, rel + m * DELTA_MINI, DELTA_MINI, widths[m]);
	}
}

pq_dec_status
pq_decimal_from_text(const char *s, int precision, int scale, __int128 *out)
{
	bool		neg = false;
	const char *p = s;
	const char *dot;
	int			intdigits = 0,
				fracdigits = 0,
				digits;
	__int128	v = 0;

	*out = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p == 'N' || *p == 'I' || *p == 'n' || *p == 'i')
		return PQ_DEC_NOT_FINITE;
	while (*p == '0' && p[1] >= '0' && p[1] <= '9')
		p++;				/* leading zeros count for nothing */
	dot = p;
	while (*dot >= '0' && *dot <= '9')
		dot++;
	intdigits = (int) (dot - p);
	if (intdigits == 0 && *dot != '.')
		return PQ_DEC_MALFORMED;
	if (*dot == '.')
	{
		const char *f = dot + 1;
		const char *last = f;

		while (*f >= '0' && *f <= '9')
		{
			if (*f != '0')
				last = f + 1;
			f++;
		}
		if (*f != '\0' || (f == dot + 1 && intdigits == 0))
			return PQ_DEC_MALFORMED;
		fracdigits = (int) (last - (dot + 1));	/* without trailing zeros */
	}
	else if (*dot != '\0')
		return PQ_DEC_MALFORMED;
	if (fracdigits > scale)
		return PQ_DEC_TOO_MANY_DECIMALS;
	/* a lone 0 before the point is not a digit of the value */
	digits = (intdigits == 1 && *p == '0' ? 0 : intdigits) + scale;
	if (digits > precision)
		return PQ_DEC_TOO_MANY_DIGITS;
	for (const char *c = p; c < dot; c++)
		v = v * 10 + (*c - '0');
	for (int k = 0; k < scale; k++)
		v = v * 10 + (k < fracdigits ? dot[1 + k] - '0' : 0);
	*out = neg ? -v : v;
	return PQ_DEC_OK;
}
