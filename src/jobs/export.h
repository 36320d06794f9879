/*
 * export.h
 *	  Exports to S3: the writer interface every format implements (open,
 *	  write a row, close), the column shapes they share, and the hourly
 *	  export that the SQL functions and the pipeline call.
 *
 * A format turns rows into the bytes of one object and hands them to the
 * uploader (net/s3_upload.h), which streams them to S3 in bounded memory.
 * csv.gz and jsonl.gz (export_text.c) compress through export_gzip.c;
 * a Parquet writer joins as one more ExportFormat.
 */
#ifndef GEMINI_EXPORT_H
#define GEMINI_EXPORT_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "net/s3_upload.h"

/* How a column's values are written: fixed by its type when the export starts. */
typedef enum ExportKind
{
	EK_INT,						/* int2, int4, int8 */
	EK_BOOL,
	EK_FLOAT,					/* float4, float8: shortest exact text */
	EK_NUMERIC,					/* numeric without a usable precision: text */
	EK_DECIMAL,					/* numeric(p,s), 0 <= s <= p <= 38: DECIMAL(p,s) */
	EK_TIMESTAMPTZ,
	EK_TIMESTAMP,
	EK_TEXT,					/* text, varchar, bpchar, name */
	EK_OTHER					/* anything else: its output function, as text */
} ExportKind;

typedef struct ExportColumn
{
	char	   *name;
	Oid			typid;
	int32		typmod;
	bool		notnull;
	ExportKind	kind;
	int			precision;		/* EK_DECIMAL */
	int			scale;
	FmgrInfo	out;			/* output function, for EK_NUMERIC/EK_DECIMAL/EK_OTHER */
} ExportColumn;

/* Fill kind, precision, scale and the output function of a column. */
extern void export_column_init(ExportColumn *c, Oid typid, int32 typmod, bool notnull, const char *name);

typedef struct ExportWriter ExportWriter;

typedef struct ExportFormat
{
	const char *name;			/* as given to gemini_export_s3: csv.gz */
	const char *ext;			/* of the object keys */
	const char *content_type;
	void		(*open) (ExportWriter *w);
	void		(*write_row) (ExportWriter *w, Datum *values, bool *isnull);
	void		(*close) (ExportWriter *w);
	/* the object's size so far, compressed and still buffered (for splitting) */
	uint64		(*bytes) (ExportWriter *w);
} ExportFormat;

struct ExportWriter
{
	const ExportFormat *fmt;
	const ExportColumn *cols;
	int			ncols;
	S3Upload   *out;
	uint64		rows;
	StringInfoData line;		/* the row being formatted */
	void	   *state;			/* the format's own */
};

/* export_parquet.c: the parquet format, and a column's Parquet type */
extern const ExportFormat export_parquet_format;
#include "pq_writer.h"
extern pq_column_def export_parquet_column(const ExportColumn *c);

/* The format of this name; raises for an unknown one, listing the known. */
extern const ExportFormat *export_format_lookup(const char *name);

/* ---------- export_gzip.c: a gzip stream into an upload ---------- */
typedef struct GzOut GzOut;
extern GzOut *gz_open(S3Upload *out, int level);
extern void gz_write(GzOut *g, const char *data, size_t len);
extern void gz_close(GzOut *g);
/* Compressed bytes so far, plus those still pending at the ratio seen so far. */
extern uint64 gz_estimate(const GzOut *g);

/* ---------- export_value.c: values as text ---------- */
/* Epoch milliseconds (floor), as OpenCSVSerde reads TIMESTAMP. */
extern void export_append_epoch_ms(StringInfo buf, TimestampTz ts);
/* ts rounded down to a multiple of unit (USECS_PER_HOUR, USECS_PER_DAY), before 2000 too. */
extern TimestampTz export_floor(TimestampTz ts, int64 unit);
/* Microseconds since 1970-01-01 00:00 UTC of a finite timestamp. */
extern int64 export_unix_us(Timestamp ts);
/* YYYY-MM-DD HH:MM:SS[.ffffff] in UTC (java.sql.Timestamp's form). */
extern void export_append_timestamp(StringInfo buf, Timestamp ts);
/* A value's plain text (no quoting), for every kind; timestamps as above. */
extern void export_append_text(StringInfo buf, const ExportColumn *c, Datum v);

/* A DestReceiver that hands each row to receive (startup may be NULL). */
#include "tcop/dest.h"
extern void export_receiver_init(DestReceiver *d, bool (*receive) (TupleTableSlot *, DestReceiver *),
								 void (*startup) (DestReceiver *, int, TupleDesc));

/* ---------- export_api.c: the hourly export ---------- */
typedef struct ExportedObject
{
	char	   *key;
	TimestampTz hour;
	int64		rows;
	int64		bytes;
} ExportedObject;

/*
 * Export the whole UTC hours that [start, end) touches of table relid, in
 * format, to the configured bucket; run_id (0 = none) goes to
 * gemini.exports.  Returns a List of ExportedObject.
 */
extern List *export_hours(Oid relid, TimestampTz start, TimestampTz end, const char *format, int64 run_id);

#endif
