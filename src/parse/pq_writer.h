/*
 * pq_writer.h
 *	  A Parquet file writer in plain C (no PostgreSQL includes), for the S3
 *	  export: flat schemas of required or optional columns, PLAIN,
 *	  RLE_DICTIONARY and DELTA_BINARY_PACKED encodings, RLE definition
 *	  levels, ZSTD / SNAPPY / no compression, and min/max/null-count
 *	  statistics per column chunk.  The file is produced front to back
 *	  through a sink callback; at most one row group is held in memory.
 *
 * Values are given per row, column by column (pq_put_* then pq_end_row);
 * the writer keeps no pointer to them.  Errors (out of memory, a value of
 * the wrong kind, the sink failing) are returned, never raised, so the
 * caller decides how to report them.
 */
#ifndef GEMINI_PQ_WRITER_H
#define GEMINI_PQ_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a column holds, and so its Parquet physical and logical types. */
typedef enum pq_kind
{
	PQ_BOOLEAN,					/* BOOLEAN */
	PQ_INT32,					/* INT32 */
	PQ_INT64,					/* INT64 */
	PQ_FLOAT,					/* FLOAT */
	PQ_DOUBLE,					/* DOUBLE */
	PQ_STRING,					/* BYTE_ARRAY, STRING (UTF-8) */
	PQ_DECIMAL,					/* DECIMAL(p,s): INT64 when p <= 18, else FIXED_LEN_BYTE_ARRAY(16) */
	PQ_TIMESTAMP_US,			/* INT64, TIMESTAMP(MICROS, isAdjustedToUTC = true) */
	PQ_DATE						/* INT32, DATE (days since 1970-01-01) */
} pq_kind;

typedef enum pq_codec
{
	PQ_UNCOMPRESSED = 0,
	PQ_SNAPPY = 1,
	PQ_ZSTD = 6
} pq_codec;

typedef struct pq_column_def
{
	const char *name;			/* copied */
	pq_kind		kind;
	bool		nullable;
	int			precision;		/* PQ_DECIMAL: 1..38 */
	int			scale;			/* PQ_DECIMAL: 0..precision */
} pq_column_def;

typedef struct pq_options
{
	pq_codec	codec;
	int			zstd_level;
	size_t		row_group_bytes;	/* a row group is written once its values reach this */
	size_t		page_bytes;		/* target size of a data page's values */
	const char *created_by;
} pq_options;

/* Receives the file's bytes in order; returns false to stop the writer. */
typedef bool (*pq_sink) (void *arg, const uint8_t *data, size_t len);

typedef struct pq_writer pq_writer;

/* NULL when out of memory or the definitions are invalid (why: a static message). */
extern pq_writer *pq_writer_new(const pq_column_def *cols, int ncols, const pq_options *opt,
								pq_sink sink, void *sink_arg, const char **why);

/* One value of column col of the current row (columns in any order, each once). */
extern void pq_put_null(pq_writer *w, int col);
extern void pq_put_bool(pq_writer *w, int col, bool v);
extern void pq_put_i32(pq_writer *w, int col, int32_t v);	/* INT32, DATE */
extern void pq_put_i64(pq_writer *w, int col, int64_t v);	/* INT64, TIMESTAMP, DECIMAL p <= 18 (unscaled) */
extern void pq_put_double(pq_writer *w, int col, double v);	/* DOUBLE, FLOAT */
extern void pq_put_bytes(pq_writer *w, int col, const char *v, size_t len);	/* STRING */
extern void pq_put_i128(pq_writer *w, int col, __int128 v);	/* DECIMAL (unscaled), any precision */

/* The row is complete; may write a row group.  false: see pq_last_error. */
extern bool pq_end_row(pq_writer *w);

/* Write what is buffered and the footer.  false: see pq_last_error. */
extern bool pq_finish(pq_writer *w);

extern const char *pq_last_error(const pq_writer *w);

/* Bytes handed to the sink so far, and the values buffered for the next row group. */
extern uint64_t pq_bytes_written(const pq_writer *w);
extern uint64_t pq_bytes_buffered(const pq_writer *w);

extern void pq_writer_free(pq_writer *w);

/*
 * A decimal's text (as PostgreSQL's numeric_out writes it: -?digits[.digits])
 * as an unscaled integer at scale, never rounded.  Returns PQ_DEC_OK, or why
 * it cannot be: not a finite number (NaN, Infinity), more decimal places than
 * scale (other than trailing zeros), more digits than precision, malformed.
 */
typedef enum pq_dec_status
{
	PQ_DEC_OK = 0,
	PQ_DEC_NOT_FINITE,
	PQ_DEC_TOO_MANY_DECIMALS,
	PQ_DEC_TOO_MANY_DIGITS,
	PQ_DEC_MALFORMED
} pq_dec_status;

extern pq_dec_status pq_decimal_from_text(const char *s, int precision, int scale, __int128 *out);

/* ---------- the pieces, for the unit tests (pq_encode.c, pq_thrift.c) ---------- */

typedef struct pq_buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} pq_buf;

extern void pq_buf_put(pq_buf *b, const void *data, size_t n);
extern void pq_buf_byte(pq_buf *b, uint8_t v);
extern void pq_buf_varint(pq_buf *b, uint64_t v);
extern void pq_buf_free(pq_buf *b);

/* RLE / bit-packed hybrid of values of bit_width bits (0..32). */
extern void pq_rle_hybrid(pq_buf *b, const uint32_t *vals, size_t n, int bit_width);
/* DELTA_BINARY_PACKED of n int64 values (block 128, 4 miniblocks). */
extern void pq_delta_binary_packed(pq_buf *b, const int64_t *vals, size_t n);

/* Thrift compact protocol: a struct writer with its field-id stack. */
typedef struct pq_thrift
{
	pq_buf	   *b;
	int16_t		last[16];
	int			depth;
	int			codec;			/* the footer's ColumnMetaData needs it */
} pq_thrift;

#define TC_BOOL_TRUE	1
#define TC_BOOL_FALSE	2
#define TC_BYTE			3
#define TC_I16			4
#define TC_I32			5
#define TC_I64			6
#define TC_DOUBLE		7
#define TC_BINARY		8
#define TC_LIST			9
#define TC_STRUCT		12

extern void tc_init(pq_thrift *t, pq_buf *b);
extern void tc_i32(pq_thrift *t, int16_t id, int32_t v);
extern void tc_i64(pq_thrift *t, int16_t id, int64_t v);
extern void tc_i8(pq_thrift *t, int16_t id, int8_t v);
extern void tc_i16(pq_thrift *t, int16_t id, int16_t v);
extern void tc_bool(pq_thrift *t, int16_t id, bool v);
extern void tc_binary(pq_thrift *t, int16_t id, const void *data, size_t len);
extern void tc_struct_begin(pq_thrift *t, int16_t id);
extern void tc_struct_end(pq_thrift *t);	/* also ends a list element struct or the top level */
extern void tc_list_begin(pq_thrift *t, int16_t id, int elem_type, size_t n);
extern void tc_elem_struct_begin(pq_thrift *t);
extern void tc_elem_i32(pq_thrift *t, int32_t v);
extern void tc_elem_binary(pq_thrift *t, const void *data, size_t len);

#endif
