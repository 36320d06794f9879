/*
 * export_text.c
 *	  The text formats behind the export writer interface: csv.gz and
 *	  jsonl.gz, each a row encoder feeding a gzip stream (export_gzip.c).
 *
 * csv.gz is RFC 4180 (CRLF line ends, a header row, fields quoted when they
 * hold a comma, a quote, CR or LF, quotes doubled) as Athena's OpenCSVSerde
 * reads it: timestamps as epoch milliseconds, the only TIMESTAMP form that
 * SerDe reads; NULL as an empty unquoted field and the empty string as "".
 *
 * jsonl.gz is one JSON object per line, as both of Athena's JSON SerDes
 * read it.  No digit is lost: integers and numeric(p,s) (p <= 38, read as
 * DECIMAL(p,s)) are JSON numbers, written digit for digit; numeric without
 * such a precision is a JSON string (a JSON number would be read as a
 * double by most readers, and Athena has no DECIMAL wider than 38 digits);
 * timestamps are strings "YYYY-MM-DD HH:MM:SS.fff[fff]" in UTC, which the
 * Hive JSON SerDe reads as TIMESTAMP; NaN and infinities are strings.
 *
 * Rows are written in the database's encoding; Athena reads UTF-8, so other
 * encodings are converted line by line.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "jobs/export.h"
#include "settings.h"

typedef struct TextState
{
	GzOut	   *gz;
	StringInfoData val;			/* one value, before quoting */
	char	  **json_keys;		/* "name": per column, escaped once */
	bool		convert;		/* the database is not UTF-8 */
} TextState;

static void
text_open_common(ExportWriter *w)
{
	TextState  *s = palloc0(sizeof(TextState));
	int			enc = GetDatabaseEncoding();

	s->gz = gz_open(w->out, gemini_export_gzip_level);
	initStringInfo(&s->val);
	s->convert = enc != PG_UTF8 && enc != PG_SQL_ASCII;
	w->state = s;
	initStringInfo(&w->line);
}

static void
emit_line(ExportWriter *w)
{
	TextState  *s = (TextState *) w->state;

	if (s->convert)
	{
		char	   *u = pg_server_to_any(w->line.data, w->line.len, PG_UTF8);

		gz_write(s->gz, u, strlen(u));
		if (u != w->line.data)
			pfree(u);
	}
	else
		gz_write(s->gz, w->line.data, w->line.len);
	resetStringInfo(&w->line);
}

static void
text_close(ExportWriter *w)
{
	gz_close(((TextState *) w->state)->gz);
}

static uint64
text_bytes(ExportWriter *w)
{
	return gz_estimate(((TextState *) w->state)->gz);
}

/* ---------- csv.gz ---------- */

static void
csv_field(StringInfo line, const char *v, int len)
{
	bool		quote = len == 0;

	for (int i = 0; i < len && !quote; i++)
		quote = v[i] == ',' || v[i] == '"' || v[i] == '\n' || v[i] == '\r';
	if (!quote)
	{
		appendBinaryStringInfo(line, v, len);
		return;
	}
	appendStringInfoChar(line, '"');
	for (int i = 0; i < len; i++)
	{
		if (v[i] == '"')
			appendStringInfoChar(line, '"');
		appendStringInfoChar(line, v[i]);
	}
	appendStringInfoChar(line, '"');
}

static void
csv_open(ExportWriter *w)
{
	text_open_common(w);
	for (int i = 0; i < w->ncols; i++)
	{
		if (i > 0)
			appendStringInfoChar(&w->line, ',');
		csv_field(&w->line, w->cols[i].name, strlen(w->cols[i].name));
	}
	appendStringInfoString(&w->line, "\r\n");
	emit_line(w);
}

static void
csv_write_row(ExportWriter *w, Datum *values, bool *isnull)
{
	TextState  *s = (TextState *) w->state;
	StringInfo	line = &w->line;

	for (int i = 0; i < w->ncols; i++)
	{
		const ExportColumn *c = &w->cols[i];

		if (i > 0)
			appendStringInfoChar(line, ',');
		if (isnull[i])
			continue;
		switch (c->kind)
		{
			case EK_INT:
			case EK_BOOL:
				/* never need quotes */
				export_append_text(line, c, values[i]);
				break;
			case EK_TIMESTAMPTZ:
			case EK_TIMESTAMP:
				export_append_epoch_ms(line, DatumGetTimestampTz(values[i]));
				break;
			default:
				resetStringInfo(&s->val);
				export_append_text(&s->val, c, values[i]);
				csv_field(line, s->val.data, s->val.len);
				break;
		}
	}
	appendStringInfoString(line, "\r\n");
	emit_line(w);
}

/* ---------- jsonl.gz ---------- */

static void
json_string(StringInfo line, const char *v, int len)
{
	static const char hex[] = "0123456789abcdef";
	int			run = 0;

	appendStringInfoChar(line, '"');
	for (int i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) v[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		appendBinaryStringInfo(line, v + run, i - run);
		run = i + 1;
		appendStringInfoChar(line, '\\');
		switch (ch)
		{
			case '"':
			case '\\':
				appendStringInfoChar(line, (char) ch);
				break;
			case '\n':
				appendStringInfoChar(line, 'n');
				break;
			case '\r':
				appendStringInfoChar(line, 'r');
				break;
			case '\t':
				appendStringInfoChar(line, 't');
				break;
			default:
				appendStringInfoString(line, "u00");
				appendStringInfoChar(line, hex[ch >> 4]);
				appendStringInfoChar(line, hex[ch & 15]);
				break;
		}
	}
	appendBinaryStringInfo(line, v + run, len - run);
	appendStringInfoChar(line, '"');
}

/* Is this numeric/float text a JSON number (not NaN or an infinity)? */
static bool
is_json_number(const char *v)
{
	return v[0] != 'N' && v[0] != 'I' && !(v[0] == '-' && v[1] == 'I');
}

static void
jsonl_open(ExportWriter *w)
{
	TextState  *s;

	text_open_common(w);
	s = (TextState *) w->state;
	s->json_keys = palloc(sizeof(char *) * Max(w->ncols, 1));
	for (int i = 0; i < w->ncols; i++)
	{
		StringInfoData k;

		initStringInfo(&k);
		appendStringInfoChar(&k, i == 0 ? '{' : ',');
		json_string(&k, w->cols[i].name, strlen(w->cols[i].name));
		appendStringInfoChar(&k, ':');
		s->json_keys[i] = k.data;
	}
}

static void
jsonl_write_row(ExportWriter *w, Datum *values, bool *isnull)
{
	TextState  *s = (TextState *) w->state;
	StringInfo	line = &w->line;

	for (int i = 0; i < w->ncols; i++)
	{
		const ExportColumn *c = &w->cols[i];

		appendStringInfoString(line, s->json_keys[i]);
		if (isnull[i])
		{
			appendStringInfoString(line, "null");
			continue;
		}
		switch (c->kind)
		{
			case EK_INT:
			case EK_BOOL:
				export_append_text(line, c, values[i]);
				break;
			case EK_FLOAT:
			case EK_DECIMAL:
				resetStringInfo(&s->val);
				export_append_text(&s->val, c, values[i]);
				if (is_json_number(s->val.data))
					appendBinaryStringInfo(line, s->val.data, s->val.len);
				else
					json_string(line, s->val.data, s->val.len);
				break;
			default:
				resetStringInfo(&s->val);
				export_append_text(&s->val, c, values[i]);
				json_string(line, s->val.data, s->val.len);
				break;
		}
	}
	if (w->ncols == 0)
		appendStringInfoChar(line, '{');
	appendStringInfoString(line, "}\n");
	emit_line(w);
}

/* ---------- the formats ---------- */

static const ExportFormat formats[] = {
	{"csv.gz", "csv.gz", "application/gzip", csv_open, csv_write_row, text_close, text_bytes},
	{"jsonl.gz", "jsonl.gz", "application/gzip", jsonl_open, jsonl_write_row, text_close, text_bytes},
};

const ExportFormat *
export_format_lookup(const char *name)
{
	for (size_t i = 0; i < lengthof(formats); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	if (strcmp(name, export_parquet_format.name) == 0)
		return &export_parquet_format;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown export format \"%s\"", name),
			 errdetail("The formats are csv.gz, jsonl.gz and parquet."),
			 errhint("For example: SELECT * FROM gemini_export_s3('gemini.trades', now() - interval '1 hour', now(), 'jsonl.gz');")));
	return NULL;				/* not reached */
}
