/*
 * export_parquet.c
 *	  The parquet format behind the export writer interface: maps each
 *	  column to a Parquet type and hands the values of every row to the
 *	  PostgreSQL-free writer (src/parse/pq_writer.c), whose bytes go to the
 *	  S3 upload as each row group is written.
 *
 * Types, with no digit or microsecond lost:
 *  - integer/smallint -> INT32, bigint -> INT64, boolean, real -> FLOAT,
 *    double precision -> DOUBLE, date -> DATE, text and anything else ->
 *    STRING (its output text);
 *  - numeric(p,s) with 0 <= s <= p <= 38 -> DECIMAL(p,s) (INT64 for p <= 18,
 *    else FIXED_LEN_BYTE_ARRAY(16)); numeric without a precision (Gemini's
 *    price and amount) -> DECIMAL(export_numeric_precision,
 *    export_numeric_scale), 38 and 18 by default, the same in every file,
 *    so one Athena type reads every hour (DECIMAL(18,8) holds Gemini's
 *    prices and amounts as INT64: files about half the size);  A value
 *    with more decimal places or digits than its type holds, NaN or an
 *    infinity stops the export with an error: never rounded;
 *  - timestamptz and timestamp -> TIMESTAMP(MICROS, isAdjustedToUTC).
 *
 * The writer allocates with malloc (it knows nothing of PostgreSQL), so a
 * reset callback on the memory context frees it if the export fails.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"

#include "jobs/export.h"
#include "pq_writer.h"
#include "settings.h"

typedef struct ParquetState
{
	pq_writer  *pw;
	MemoryContextCallback cb;
	pq_column_def *defs;		/* each column's Parquet type, fixed at open */
	StringInfoData tmp;
	bool		convert;		/* the database is not UTF-8 */
} ParquetState;

static void
parquet_free(void *arg)
{
	ParquetState *s = (ParquetState *) arg;

	pq_writer_free(s->pw);
	s->pw = NULL;
}

/* The writer's sink: the upload (which may raise; the callback above cleans up). */
static bool
to_upload(void *arg, const uint8_t *data, size_t len)
{
	s3_upload_write((S3Upload *) arg, (const char *) data, len);
	return true;
}

static void
raise_writer(ParquetState *s, const char *where)
{
	const char *why = pq_last_error(s->pw);

	ereport(ERROR,
			(errcode(strcmp(why, "out of memory") == 0 ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
			 errmsg("the Parquet writer failed %s: %s", where, why)));
}

static pq_codec
codec_setting(void)
{
	const char *c = gemini_export_parquet_compression ? gemini_export_parquet_compression : "zstd";

	if (strcmp(c, "snappy") == 0)
		return PQ_SNAPPY;
	if (strcmp(c, "none") == 0)
		return PQ_UNCOMPRESSED;
	return PQ_ZSTD;
}

pq_column_def
export_parquet_column(const ExportColumn *c)
{
	pq_column_def d = {c->name, PQ_STRING, !c->notnull, 0, 0};

	switch (c->kind)
	{
		case EK_INT:
			d.kind = c->typid == INT8OID ? PQ_INT64 : PQ_INT32;
			break;
		case EK_BOOL:
			d.kind = PQ_BOOLEAN;
			break;
		case EK_FLOAT:
			d.kind = c->typid == FLOAT4OID ? PQ_FLOAT : PQ_DOUBLE;
			break;
		case EK_DECIMAL:
			d.kind = PQ_DECIMAL;
			d.precision = c->precision;
			d.scale = c->scale;
			break;
		case EK_NUMERIC:
			d.kind = PQ_DECIMAL;
			d.precision = gemini_export_numeric_precision;
			d.scale = Min(gemini_export_numeric_scale, gemini_export_numeric_precision);
			break;
		case EK_TIMESTAMPTZ:
		case EK_TIMESTAMP:
			d.kind = PQ_TIMESTAMP_US;
			break;
		default:
			d.kind = c->typid == DATEOID ? PQ_DATE : PQ_STRING;
			break;
	}
	return d;
}

static void
parquet_open(ExportWriter *w)
{
	ParquetState *s = palloc0(sizeof(ParquetState));
	pq_column_def *defs = palloc(sizeof(pq_column_def) * Max(w->ncols, 1));
	pq_options	opt = {0};
	const char *why;
	int			enc = GetDatabaseEncoding();

	for (int i = 0; i < w->ncols; i++)
		defs[i] = export_parquet_column(&w->cols[i]);
	s->defs = defs;
	opt.codec = codec_setting();
	opt.zstd_level = 3;
	opt.row_group_bytes = (size_t) gemini_export_parquet_row_group_bytes;
	opt.page_bytes = (size_t) gemini_export_parquet_page_bytes;
	opt.created_by = "gemini_etl version 0.1";
	s->convert = enc != PG_UTF8 && enc != PG_SQL_ASCII;
	initStringInfo(&s->tmp);
	s->cb.func = parquet_free;
	s->cb.arg = s;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &s->cb);
	s->pw = pq_writer_new(defs, w->ncols, &opt, to_upload, w->out, &why);
	if (s->pw == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not start a Parquet file: %s", why)));
	w->state = s;
}

/* numeric -> the column's DECIMAL, exactly, or a clear error. */
static __int128
to_decimal(const ExportColumn *c, const pq_column_def *d, Datum v)
{
	char	   *txt = OutputFunctionCall((FmgrInfo *) &c->out, v);
	__int128	out;
	pq_dec_status st = pq_decimal_from_text(txt, d->precision, d->scale, &out);

	if (st != PQ_DEC_OK)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %.60s of column \"%s\" does not fit its Parquet type DECIMAL(%d,%d)",
						txt, c->name, d->precision, d->scale),
				 errdetail("%s; an export never rounds.",
						   st == PQ_DEC_NOT_FINITE ? "Parquet decimals have no NaN or infinity" :
						   st == PQ_DEC_TOO_MANY_DECIMALS ? "It has more decimal places than the scale" :
						   st == PQ_DEC_TOO_MANY_DIGITS ? "It has more digits than the precision" :
						   "It is not a decimal number"),
				 c->kind == EK_NUMERIC ?
				 errhint("Raise gemini_etl.export_numeric_scale or export_numeric_precision (now %d and %d, at most 38) for numeric columns without a precision, or export as jsonl.gz.",
						 gemini_export_numeric_scale, gemini_export_numeric_precision) :
				 errhint("Export as jsonl.gz, which writes the value's text.")));
	pfree(txt);
	return out;
}

static void
reject_infinite(const ExportColumn *c, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("column \"%s\" holds an infinite %s, which Parquet cannot hold", c->name, what),
			 errdetail("Parquet's TIMESTAMP and DATE count from 1970 and have no infinity."),
			 errhint("Export as jsonl.gz, or leave the row out.")));
}

static void
parquet_write_row(ExportWriter *w, Datum *values, bool *isnull)
{
	ParquetState *s = (ParquetState *) w->state;
	pq_writer  *pw = s->pw;

	for (int i = 0; i < w->ncols; i++)
	{
		const ExportColumn *c = &w->cols[i];

		if (isnull[i])
		{
			pq_put_null(pw, i);
			continue;
		}
		switch (s->defs[i].kind)
		{
			case PQ_INT64:
				pq_put_i64(pw, i, DatumGetInt64(values[i]));
				break;
			case PQ_INT32:
				pq_put_i32(pw, i, c->typid == INT2OID ? DatumGetInt16(values[i]) : DatumGetInt32(values[i]));
				break;
			case PQ_BOOLEAN:
				pq_put_bool(pw, i, DatumGetBool(values[i]));
				break;
			case PQ_FLOAT:
				pq_put_double(pw, i, DatumGetFloat4(values[i]));
				break;
			case PQ_DOUBLE:
				pq_put_double(pw, i, DatumGetFloat8(values[i]));
				break;
			case PQ_DECIMAL:
				pq_put_i128(pw, i, to_decimal(c, &s->defs[i], values[i]));
				break;
			case PQ_TIMESTAMP_US:
				if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(values[i])))
					reject_infinite(c, "timestamp");
				pq_put_i64(pw, i, export_unix_us(DatumGetTimestamp(values[i])));
				break;
			case PQ_DATE:
				if (DATE_NOT_FINITE(DatumGetDateADT(values[i])))
					reject_infinite(c, "date");
				pq_put_i32(pw, i, DatumGetDateADT(values[i]) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE));
				break;
			default:
				resetStringInfo(&s->tmp);
				export_append_text(&s->tmp, c, values[i]);
				if (s->convert)
				{
					char	   *u = pg_server_to_any(s->tmp.data, s->tmp.len, PG_UTF8);

					pq_put_bytes(pw, i, u, strlen(u));
				}
				else
					pq_put_bytes(pw, i, s->tmp.data, s->tmp.len);
				break;
		}
	}
	if (!pq_end_row(pw))
		raise_writer(s, "on a row");
}

static void
parquet_close(ExportWriter *w)
{
	ParquetState *s = (ParquetState *) w->state;

	if (!pq_finish(s->pw))
		raise_writer(s, "at the end of the file");
	pq_writer_free(s->pw);
	s->pw = NULL;
}

static uint64
parquet_bytes(ExportWriter *w)
{
	ParquetState *s = (ParquetState *) w->state;

	/* what went out, plus the buffered row group (compressed later, so an upper bound) */
	return pq_bytes_written(s->pw) + pq_bytes_buffered(s->pw);
}

const ExportFormat export_parquet_format = {
	"parquet", "parquet", "application/vnd.apache.parquet",
	parquet_open, parquet_write_row, parquet_close, parquet_bytes
};
