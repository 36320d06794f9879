/*
 * export_value.c
 *	  Column values as the text an export writes: which kind each column
 *	  is, and fast paths for the kinds every Gemini table has (integers,
 *	  timestamps, text), since an export formats millions of them.
 *
 * Decimals always go through numeric_out: its text is exact, whatever the
 * scale.  Timestamps are written in UTC whatever the session's TimeZone,
 * so an export is the same from every session.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"

#include "jobs/export.h"

/* Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
#define UNIX_TO_PG_US	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

void
export_column_init(ExportColumn *c, Oid typid, int32 typmod, bool notnull, const char *name)
{
	Oid			outfn;
	bool		varlena;

	memset(c, 0, sizeof(*c));
	c->name = pstrdup(name);
	c->typid = typid;
	c->typmod = typmod;
	c->notnull = notnull;
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			c->kind = EK_INT;
			break;
		case BOOLOID:
			c->kind = EK_BOOL;
			break;
		case FLOAT4OID:
		case FLOAT8OID:
			c->kind = EK_FLOAT;
			break;
		case NUMERICOID:
			c->kind = EK_NUMERIC;
			if (typmod >= (int32) VARHDRSZ)
			{
				int			p = ((typmod - VARHDRSZ) >> 16) & 0xffff;
				/* the scale is an 11-bit signed field since PostgreSQL 15 */
				int			s = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;

				if (p >= 1 && p <= 38 && s >= 0 && s <= p)
				{
					c->kind = EK_DECIMAL;
					c->precision = p;
					c->scale = s;
				}
			}
			break;
		case TIMESTAMPTZOID:
			c->kind = EK_TIMESTAMPTZ;
			break;
		case TIMESTAMPOID:
			c->kind = EK_TIMESTAMP;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			c->kind = EK_TEXT;
			break;
		default:
			c->kind = EK_OTHER;
			break;
	}
	getTypeOutputInfo(typid, &outfn, &varlena);
	fmgr_info(outfn, &c->out);
}

TimestampTz
export_floor(TimestampTz ts, int64 unit)
{
	/* the C remainder of a negative time (before 2000) is negative */
	return ts - (((ts % unit) + unit) % unit);
}

int64
export_unix_us(Timestamp ts)
{
	return ts + UNIX_TO_PG_US;
}

void
export_append_epoch_ms(StringInfo buf, TimestampTz ts)
{
	int64		us;
	char		num[MAXINT8LEN + 1];

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		appendStringInfoString(buf, TIMESTAMP_IS_NOBEGIN(ts) ? "-infinity" : "infinity");
		return;
	}
	us = ts + UNIX_TO_PG_US;
	/* floor, so times before 1970 keep their millisecond */
	pg_lltoa(us >= 0 ? us / 1000 : -((-us + 999) / 1000), num);
	appendStringInfoString(buf, num);
}

static void
append_digits(StringInfo buf, int v, int width)
{
	char		d[12];

	for (int i = width - 1; i >= 0; i--)
	{
		d[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	appendBinaryStringInfo(buf, d, width);
}

void
export_append_timestamp(StringInfo buf, Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		appendStringInfoString(buf, TIMESTAMP_IS_NOBEGIN(ts) ? "-infinity" : "infinity");
		return;
	}
	/* no time zone: the fields of ts itself, i.e. UTC for a timestamptz */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 || tm.tm_year < 1 || tm.tm_year > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for an export"),
				 errdetail("Exports write years 0001 to 9999, as Athena reads them.")));
	append_digits(buf, tm.tm_year, 4);
	appendStringInfoChar(buf, '-');
	append_digits(buf, tm.tm_mon, 2);
	appendStringInfoChar(buf, '-');
	append_digits(buf, tm.tm_mday, 2);
	appendStringInfoChar(buf, ' ');
	append_digits(buf, tm.tm_hour, 2);
	appendStringInfoChar(buf, ':');
	append_digits(buf, tm.tm_min, 2);
	appendStringInfoChar(buf, ':');
	append_digits(buf, tm.tm_sec, 2);
	if (fsec != 0)
	{
		/* milliseconds when that is all there is, else microseconds */
		appendStringInfoChar(buf, '.');
		if (fsec % 1000 == 0)
			append_digits(buf, fsec / 1000, 3);
		else
			append_digits(buf, fsec, 6);
	}
}

void
export_append_text(StringInfo buf, const ExportColumn *c, Datum v)
{
	char		num[MAXINT8LEN + 1];

	switch (c->kind)
	{
		case EK_INT:
			pg_lltoa(c->typid == INT8OID ? DatumGetInt64(v) :
					 c->typid == INT4OID ? (int64) DatumGetInt32(v) : (int64) DatumGetInt16(v), num);
			appendStringInfoString(buf, num);
			break;
		case EK_BOOL:
			appendStringInfoString(buf, DatumGetBool(v) ? "true" : "false");
			break;
		case EK_TIMESTAMPTZ:
		case EK_TIMESTAMP:
			export_append_timestamp(buf, DatumGetTimestamp(v));
			break;
		case EK_TEXT:
			if (c->typid == NAMEOID)
				appendStringInfoString(buf, NameStr(*DatumGetName(v)));
			else
			{
				text	   *t = DatumGetTextPP(v);

				appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				if ((Pointer) t != DatumGetPointer(v))
					pfree(t);
			}
			break;
		default:
			{
				char	   *s = OutputFunctionCall((FmgrInfo *) &c->out, v);

				appendStringInfoString(buf, s);
				pfree(s);
			}
			break;
	}
}
