/*
 * athena_ddl.c
 *	  gemini_athena_ddl(): the CREATE EXTERNAL TABLE that lets Athena (or
 *	  Trino, Hive, Spark) read what gemini_export_s3 writes, with no crawler:
 *	  partition projection on dt and hour, the LOCATION of the export, and
 *	  the SerDe of the format.
 *
 * Column types follow what each SerDe reads without losing a digit:
 *  - jsonl.gz (Hive JSON SerDe): integers, boolean, float, double,
 *    timestamp and date as such; numeric(p,s) with 0 <= s <= p <= 38 as
 *    DECIMAL(p,s); numeric without that precision (gemini.trades' price and
 *    amount) as string, since Athena has no decimal wider than 38 digits and
 *    a double would round; everything else string.
 *  - csv.gz (OpenCSVSerde, needed for RFC 4180 quoting): that SerDe reads
 *    only BOOLEAN, INT, BIGINT, DOUBLE and TIMESTAMP (epoch milliseconds)
 *    natively, and fails on an empty field in a typed column, so those types
 *    are used for NOT NULL columns only; every other column is string
 *    (CAST in the query, e.g. CAST(price AS DECIMAL(38,18))).
 *  - parquet: the file's own types (export_parquet.c): DECIMAL(p,s), and
 *    DECIMAL(38, export_numeric_scale) for numeric without a precision.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "jobs/export.h"
#include "jobs/quality.h"
#include "net/s3.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(gemini_athena_ddl);

/* Hive identifiers in backticks; a backtick inside is doubled. */
static void
append_ident(StringInfo b, const char *name)
{
	appendStringInfoChar(b, '`');
	for (const char *c = name; *c; c++)
	{
		if (*c == '`')
			appendStringInfoChar(b, '`');
		appendStringInfoChar(b, *c);
	}
	appendStringInfoChar(b, '`');
}

/* A Hive string literal in single quotes. */
static void
append_literal(StringInfo b, const char *s)
{
	appendStringInfoChar(b, '\'');
	for (const char *c = s; *c; c++)
	{
		if (*c == '\'' || *c == '\\')
			appendStringInfoChar(b, '\\');
		appendStringInfoChar(b, *c);
	}
	appendStringInfoChar(b, '\'');
}

static const char *
athena_type(const ExportColumn *c, bool csv)
{
	if (csv && !c->notnull)
		return "string";
	switch (c->kind)
	{
		case EK_INT:
			return c->typid == INT8OID ? "bigint" : "int";
		case EK_BOOL:
			return "boolean";
		case EK_FLOAT:
			return csv || c->typid == FLOAT8OID ? "double" : "float";
		case EK_DECIMAL:
			return csv ? "string" : psprintf("decimal(%d,%d)", c->precision, c->scale);
		case EK_TIMESTAMPTZ:
		case EK_TIMESTAMP:
			return "timestamp";
		default:
			return !csv && c->typid == DATEOID ? "date" : "string";
	}
}

/* parquet: the Parquet type the writer gives the column (export_parquet.c), in Athena's words. */
static const char *
parquet_athena_type(const ExportColumn *c)
{
	pq_column_def d = export_parquet_column(c);

	switch (d.kind)
	{
		case PQ_BOOLEAN:
			return "boolean";
		case PQ_INT32:
			return "int";
		case PQ_INT64:
			return "bigint";
		case PQ_FLOAT:
			return "float";
		case PQ_DOUBLE:
			return "double";
		case PQ_DECIMAL:
			return psprintf("decimal(%d,%d)", d.precision, d.scale);
		case PQ_TIMESTAMP_US:
			return "timestamp";
		case PQ_DATE:
			return "date";
		default:
			return "string";
	}
}

/* The first day of the projection: the oldest exported hour, else 7 days ago (Gemini's history). */
static char *
first_day(const char *source)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(source)};
	char	   *day = NULL;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.to_char(pg_catalog.min(interval_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
							  " FROM gemini.exports WHERE source = $1",
							  1, types, v, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *d = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (d)
			day = MemoryContextStrdup(caller, d);
	}
	SPI_finish();
	if (day == NULL)
	{
		/* 7 days before today (UTC), as YYYY-MM-DD whatever DateStyle says */
		TimestampTz week_ago = GetCurrentTransactionStartTimestamp() - 7 * USECS_PER_DAY;
		StringInfoData b;

		initStringInfo(&b);
		export_append_timestamp(&b, export_floor(week_ago, USECS_PER_DAY));
		b.data[10] = '\0';
		day = b.data;
	}
	return day;
}

Datum
gemini_athena_ddl(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	const ExportFormat *fmt = export_format_lookup(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	bool		csv = strcmp(fmt->name, "csv.gz") == 0;
	bool		parquet = fmt == &export_parquet_format;
	QTarget    *qt = quality_target_open(relid);
	const char *bucket = s3_bucket_checked(NULL);
	const char *prefix = gemini_s3_prefix ? gemini_s3_prefix : "";
	char	   *table = get_rel_name(relid);
	char	   *location = psprintf("s3://%s/%s%s%s/", bucket, prefix, prefix[0] ? "/" : "", table);
	StringInfoData b;

	if (qt->time_col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no time column to export by", qt->qualname),
				 errdetail("Exports, and so their Athena tables, go by hour of the range-partition key, else of the table's only timestamptz column, else of the only timestamptz column of its primary key."),
				 errhint("Give the table one timestamptz column, or partition it by range on one.")));
	for (int i = 0; i < qt->ncols; i++)
		if (pg_strcasecmp(qt->cols[i].name, "dt") == 0 || pg_strcasecmp(qt->cols[i].name, "hour") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" of %s has the name of a partition key", qt->cols[i].name, qt->qualname),
					 errdetail("The export's layout partitions by dt and hour; Athena refuses a column named like a partition key, and readers that infer the partitions (DuckDB, Spark) shadow the column with the key."),
					 errhint("Export a view-free copy with the column renamed, e.g. CREATE TABLE t2 AS SELECT %s AS %s_value, ... FROM %s.",
							 quote_identifier(qt->cols[i].name), qt->cols[i].name, qt->qualname)));
	initStringInfo(&b);
	appendStringInfoString(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS ");
	append_ident(&b, table);
	appendStringInfoString(&b, " (\n");
	for (int i = 0; i < qt->ncols; i++)
	{
		ExportColumn c;

		export_column_init(&c, qt->cols[i].typid, qt->cols[i].typmod, qt->cols[i].notnull, qt->cols[i].name);
		appendStringInfoString(&b, "  ");
		append_ident(&b, c.name);
		appendStringInfo(&b, " %s%s\n", parquet ? parquet_athena_type(&c) : athena_type(&c, csv),
						 i + 1 < qt->ncols ? "," : "");
	}
	appendStringInfoString(&b, ")\nCOMMENT ");
	append_literal(&b, psprintf("%s exported by gemini_etl as %s", qt->qualname, fmt->name));
	appendStringInfoString(&b, "\nPARTITIONED BY (`dt` string, `hour` string)\n");
	if (parquet)
		appendStringInfoString(&b, "STORED AS PARQUET\nLOCATION ");
	else
	{
		if (csv)
			appendStringInfoString(&b, "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'\n"
								   "WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '\"', 'escapeChar' = '\\\\')\n");
		else
			appendStringInfoString(&b, "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n");
		appendStringInfoString(&b, "STORED AS TEXTFILE\nLOCATION ");
	}
	append_literal(&b, location);
	appendStringInfoString(&b, "\nTBLPROPERTIES (\n");
	if (csv)
		appendStringInfoString(&b, "  'skip.header.line.count' = '1',\n");
	appendStringInfo(&b,
					 "  'projection.enabled' = 'true',\n"
					 "  'projection.dt.type' = 'date',\n"
					 "  'projection.dt.format' = 'yyyy-MM-dd',\n"
					 "  'projection.dt.range' = '%s,NOW',\n"
					 "  'projection.dt.interval' = '1',\n"
					 "  'projection.dt.interval.unit' = 'DAYS',\n"
					 "  'projection.hour.type' = 'integer',\n"
					 "  'projection.hour.range' = '0,23',\n"
					 "  'projection.hour.digits' = '2',\n"
					 "  'storage.location.template' = ",
					 first_day(qt->qualname));
	append_literal(&b, psprintf("%sdt=${dt}/hour=${hour}/", location));
	appendStringInfoString(&b, "\n);\n");
	PG_RETURN_TEXT_P(cstring_to_text(b.data));
}
