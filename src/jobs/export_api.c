/*
 * export_api.c
 *	  gemini_export_s3(): a table's rows, hour by hour, to S3 in Athena's
 *	  layout, through the writer interface (export.h) and the uploader.
 *
 * The rows of the whole UTC hours the interval touches are read as the
 * caller (so only what the caller may read goes out) by one SPI cursor, in
 * a fixed order (the time column, then every other sortable column), so
 * the same rows give the same bytes and a re-export changes nothing.  As
 * they stream by, they are cut into hours; for each hour:
 *  1. (the hour's rows, in that order);
 *  2. they stream through the format into part-00000.{ext}, and into
 *     part-00001 and on only past gemini_etl.s3_object_max_bytes;
 *  3. the hour's other part-* objects (an earlier export that had more, or
 *     another format) are deleted, and _manifest.json lists the parts
 *     (Athena skips files whose names start with '_');
 *  4. gemini.exports forgets the hour's old rows and records the new.
 * An error aborts the multipart upload under way.  Objects finished before
 * the error stay (a re-run rewrites the same keys); nothing is recorded for
 * an hour that did not finish.
 *
 * The rows are read within the caller's transaction while the upload runs:
 * a read-only snapshot, no row locks, like pg_dump's.  Two exports of one
 * table to the same bucket wait for each other.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "jobs/export.h"
#include "jobs/privilege.h"
#include "jobs/quality.h"
#include "settings.h"
#include "store/store.h"

#define EXPORT_LOCK_CLASS	0x47455850	/* "GEXP" */
/* About 13 months of hours: beyond that, a typo more likely than a wish. */
#define MAX_HOURS			(24 * 400)

PG_FUNCTION_INFO_V1(gemini_export_s3);

/* What every hour of one export shares. */
typedef struct ExportJob
{
	Oid			relid;
	const ExportFormat *fmt;
	S3Target   *t;
	char	   *source;			/* schema.table, for records */
	char	   *table;			/* the key's {table} */
	ExportColumn *cols;
	int			ncols;
	SPIPlanPtr	plan;
	int			time_col;		/* in cols */
	int64		run_id;
	MemoryContext cxt;			/* the export's (SPI's procedure context) */
	MemoryContext result_cxt;	/* the caller's: objects */
	List	   *done;			/* HourState of finished hours, to record */
	struct HourState *finishing;	/* the hour whose last object is travelling */
	List	   *listed;			/* keys under the day's prefix, listed once per day */
	TimestampTz listed_day;
	bool		listed_valid;
	Oid			user;
	List	   *objects;		/* ExportedObject, for the caller */
} ExportJob;

/* One object being written. */
typedef struct OpenObject
{
	char	   *key;
	int			part_no;
	S3Upload   *up;
	ExportWriter w;
} OpenObject;

/* A finished object of the hour. */
typedef struct HourPart
{
	char	   *key;
	int			part_no;
	int64		rows;
	int64		bytes;
	char		etag[S3_ETAG_LEN];
	char		sha256[65];
} HourPart;

static char *
hour_prefix(const ExportJob *job, TimestampTz hour)
{
	struct pg_tm tm;
	fsec_t		fsec;
	const char *prefix = gemini_s3_prefix ? gemini_s3_prefix : "";

	if (timestamp2tm(hour, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return psprintf("%s%s%s/dt=%04d-%02d-%02d/hour=%02d/", prefix, prefix[0] ? "/" : "", job->table,
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour);
}

static void
object_open(ExportJob *job, OpenObject *o, const char *hprefix, int part_no)
{
	memset(o, 0, sizeof(*o));
	o->part_no = part_no;
	o->key = psprintf("%spart-%05d.%s", hprefix, part_no, job->fmt->ext);
	o->up = s3_upload_begin(job->t, o->key, job->fmt->content_type);
	o->w.fmt = job->fmt;
	o->w.cols = job->cols;
	o->w.ncols = job->ncols;
	o->w.out = o->up;
	job->fmt->open(&o->w);
}

/* Close the writer and send the object's last request; object_close_end waits for it. */
static void
object_close_begin(OpenObject *o)
{
	o->w.fmt->close(&o->w);
	s3_upload_finish_begin(o->up);
}

static HourPart *
object_close_end(OpenObject *o)
{
	HourPart   *p = palloc0(sizeof(HourPart));

	s3_upload_finish_end(o->up, p->etag, p->sha256);
	p->key = o->key;
	p->part_no = o->part_no;
	p->rows = (int64) o->w.rows;
	p->bytes = (int64) s3_upload_bytes(o->up);
	o->up = NULL;
	return p;
}

static HourPart *
object_close(OpenObject *o)
{
	object_close_begin(o);
	return object_close_end(o);
}

/*
 * Delete the hour's part-* and _manifest.json objects that this export did
 * not write.  What exists is listed once per day (hours come in order), not
 * once per hour: one request instead of 24.  The export's lock keeps other
 * exports of the table out meanwhile.
 */
static void
delete_stale(ExportJob *job, TimestampTz hour, const char *hprefix, List *parts)
{
	TimestampTz day = export_floor(hour, USECS_PER_DAY);
	size_t		plen = strlen(hprefix);
	List	   *keys;
	ListCell   *lc;

	if (!job->listed_valid || job->listed_day != day)
	{
		/* hprefix ends in "hour=HH/": the day's prefix is what comes before */
		char	   *dprefix = pnstrdup(hprefix, plen - strlen("hour=00/"));
		MemoryContext old = MemoryContextSwitchTo(job->cxt);

		list_free_deep(job->listed);
		job->listed = s3_list_keys(job->t, dprefix);
		job->listed_day = day;
		job->listed_valid = true;
		MemoryContextSwitchTo(old);
	}
	keys = job->listed;
	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		const char *rest = key + plen;
		bool		ours = strncmp(rest, "part-", 5) == 0 || (strcmp(rest, "_manifest.json") == 0 && parts == NIL);
		ListCell   *pc;

		if (strncmp(key, hprefix, plen) != 0 || strchr(rest, '/') != NULL || !ours)
			continue;
		foreach(pc, parts)
			if (strcmp(((HourPart *) lfirst(pc))->key, key) == 0)
				ours = false;
		if (ours)
			s3_delete_object(job->t, key);
	}
}

static void
write_manifest(ExportJob *job, const char *hprefix, TimestampTz hour, List *parts)
{
	StringInfoData b;
	ListCell   *lc;
	int64		rows = 0;
	char	   *key = psprintf("%s_manifest.json", hprefix);
	char		etag[S3_ETAG_LEN];

	initStringInfo(&b);
	appendStringInfoString(&b, "{\"source\":");
	escape_json(&b, job->source);
	appendStringInfoString(&b, ",\"format\":");
	escape_json(&b, job->fmt->name);
	appendStringInfoString(&b, ",\"interval_start\":\"");
	export_append_timestamp(&b, hour);
	appendStringInfoString(&b, "Z\",\"interval_end\":\"");
	export_append_timestamp(&b, hour + USECS_PER_HOUR);
	appendStringInfoString(&b, "Z\",\"columns\":[");
	for (int i = 0; i < job->ncols; i++)
	{
		if (i > 0)
			appendStringInfoChar(&b, ',');
		appendStringInfoString(&b, "{\"name\":");
		escape_json(&b, job->cols[i].name);
		appendStringInfoString(&b, ",\"type\":");
		escape_json(&b, format_type_with_typemod(job->cols[i].typid, job->cols[i].typmod));
		appendStringInfoChar(&b, '}');
	}
	appendStringInfoString(&b, "],\"parts\":[");
	foreach(lc, parts)
	{
		HourPart   *p = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(&b, ',');
		appendStringInfoString(&b, "{\"key\":");
		escape_json(&b, p->key);
		appendStringInfo(&b, ",\"rows\":" INT64_FORMAT ",\"bytes\":" INT64_FORMAT ",\"etag\":", p->rows, p->bytes);
		escape_json(&b, p->etag);
		appendStringInfoString(&b, ",\"sha256\":");
		escape_json(&b, p->sha256);
		appendStringInfoChar(&b, '}');
		rows += p->rows;
	}
	appendStringInfo(&b, "],\"rows\":" INT64_FORMAT "}\n", rows);
	s3_put_object(job->t, key, b.data, b.len, "application/json", etag);
}

static void
record_hour(ExportJob *job, const char *hprefix, TimestampTz hour, List *parts)
{
	GeminiUserSwitch sw;
	ListCell   *lc;

	gemini_become_owner(&sw);
	store_exports_forget(job->t->bucket, hprefix);
	foreach(lc, parts)
	{
		HourPart   *p = lfirst(lc);
		StoreExport e = {0};

		e.bucket = job->t->bucket;
		e.key = p->key;
		e.source = job->source;
		e.format = job->fmt->name;
		e.has_interval = true;
		e.interval_start = hour;
		e.interval_end = hour + USECS_PER_HOUR;
		e.part_no = p->part_no;
		e.rows = p->rows;
		e.bytes = p->bytes;
		e.etag = p->etag;
		e.sha256 = p->sha256;
		e.run_id = job->run_id;
		e.exported_by = job->user;
		store_export(&e);
	}
	gemini_restore_user(&sw);
}

/* The hour being written. */
typedef struct HourState
{
	bool		active;
	TimestampTz hour;
	char	   *hprefix;
	MemoryContext cxt;			/* its objects and parts */
	OpenObject	o;				/* o.up == NULL: none open */
	OpenObject	closing;		/* its last object, sent, not yet answered */
	List	   *parts;			/* HourPart, finished */
} HourState;

static void
hour_begin(ExportJob *job, HourState *h, TimestampTz hour)
{
	MemoryContext old;

	memset(h, 0, sizeof(*h));
	h->active = true;
	h->hour = hour;
	h->cxt = AllocSetContextCreate(job->cxt, "gemini_etl export hour", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(h->cxt);
	h->hprefix = hour_prefix(job, hour);
	MemoryContextSwitchTo(old);
}

/*
 * Finish the hour's objects in two steps, so that its last object travels
 * while the next hour's rows are written: hour_finish closes the last
 * object and sends it; hour_complete (called when the next hour finishes,
 * or at the end) waits for it, deletes the stale objects and writes the
 * manifest.  The records are written after the scan (record_done): no SPI
 * call may run while the scan's own statement is executing.
 */
static void
hour_complete(ExportJob *job, HourState *h)
{
	MemoryContext old = MemoryContextSwitchTo(h->cxt);

	if (h->closing.up != NULL)
		h->parts = lappend(h->parts, object_close_end(&h->closing));
	delete_stale(job, h->hour, h->hprefix, h->parts);
	if (h->parts != NIL)
		write_manifest(job, h->hprefix, h->hour, h->parts);
	/* the list outlives the hour's context (record_done deletes those) */
	MemoryContextSwitchTo(job->cxt);
	job->done = lappend(job->done, h);
	job->finishing = NULL;
	MemoryContextSwitchTo(old);
}

static void
hour_finish(ExportJob *job, HourState *h)
{
	MemoryContext old;
	HourState  *f;

	if (job->finishing != NULL)
		hour_complete(job, job->finishing);
	if (h->o.up != NULL)
	{
		old = MemoryContextSwitchTo(h->cxt);
		object_close_begin(&h->o);
		h->closing = h->o;
		h->o.up = NULL;
		MemoryContextSwitchTo(old);
	}
	f = MemoryContextAlloc(job->cxt, sizeof(HourState));
	*f = *h;
	f->active = false;
	job->finishing = f;
	h->active = false;
}

/* Record the finished hours in gemini.exports, and keep the caller's results. */
static void
record_done(ExportJob *job)
{
	ListCell   *dc;

	foreach(dc, job->done)
	{
		HourState  *h = lfirst(dc);
		MemoryContext old;
		ListCell   *lc;

		record_hour(job, h->hprefix, h->hour, h->parts);
		old = MemoryContextSwitchTo(job->result_cxt);
		foreach(lc, h->parts)
		{
			HourPart   *p = lfirst(lc);
			ExportedObject *e = palloc(sizeof(ExportedObject));

			e->key = pstrdup(p->key);
			e->hour = h->hour;
			e->rows = p->rows;
			e->bytes = p->bytes;
			job->objects = lappend(job->objects, e);
		}
		MemoryContextSwitchTo(old);
		MemoryContextDelete(h->cxt);
	}
	job->done = NIL;
}

/*
 * The scan's rows arrive here one by one (a DestReceiver, so no copy of
 * each row into an SPI tuple table), and are cut into hours.
 */
typedef struct ExportReceiver
{
	DestReceiver pub;
	ExportJob  *job;
	HourState	h;
	TimestampTz next;			/* the first hour not begun yet */
	MemoryContext row_cxt;		/* what formatting allocates, reset often */
	uint64		nrows;
} ExportReceiver;

/* Hours before `until` that have not begun have no rows: their old objects go. */
static void
empty_hours(ExportReceiver *r, TimestampTz until)
{
	for (; r->next < until; r->next += USECS_PER_HOUR)
	{
		hour_begin(r->job, &r->h, r->next);
		hour_finish(r->job, &r->h);
	}
}

static bool
export_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ExportReceiver *r = (ExportReceiver *) self;
	ExportJob  *job = r->job;
	HourState  *h = &r->h;
	MemoryContext old;
	TimestampTz rh;

	slot_getallattrs(slot);
	rh = export_floor(DatumGetTimestampTz(slot->tts_values[job->time_col]), USECS_PER_HOUR);
	if (!h->active || rh != h->hour)
	{
		if (h->active)
			hour_finish(job, h);
		empty_hours(r, rh);
		hour_begin(job, h, rh);
		r->next = rh + USECS_PER_HOUR;
	}
	if (h->o.up == NULL)
	{
		old = MemoryContextSwitchTo(h->cxt);
		object_open(job, &h->o, h->hprefix, list_length(h->parts));
		MemoryContextSwitchTo(old);
	}
	old = MemoryContextSwitchTo(r->row_cxt);
	job->fmt->write_row(&h->o.w, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	h->o.w.rows++;
	if ((int64) job->fmt->bytes(&h->o.w) >= (int64) gemini_s3_object_max_bytes)
	{
		old = MemoryContextSwitchTo(h->cxt);
		h->parts = lappend(h->parts, object_close(&h->o));
		MemoryContextSwitchTo(old);
	}
	if (++r->nrows % 1000 == 0)
		MemoryContextReset(r->row_cxt);
	return true;
}

static void
receiver_startup_noop(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_noop(DestReceiver *self)
{
}

void
export_receiver_init(DestReceiver *d, bool (*receive) (TupleTableSlot *, DestReceiver *),
					 void (*startup) (DestReceiver *, int, TupleDesc))
{
	d->receiveSlot = receive;
	d->rStartup = startup ? startup : receiver_startup_noop;
	d->rShutdown = receiver_noop;
	d->rDestroy = receiver_noop;
	/* SPI reports such a SELECT as SPI_OK_UTILITY: its rows went elsewhere */
	d->mydest = DestNone;
}

/*
 * Every hour from first for nhours: one scan of the whole interval, in time
 * order, cut into hours as the rows stream by (a query per hour would scan
 * a day's partition 24 times, since nothing indexes the time column).
 */
static void
export_rows(ExportJob *job, TimestampTz first, int64 nhours)
{
	TimestampTz end = first + nhours * USECS_PER_HOUR;
	ExportReceiver r = {{0}};
	SPIExecuteOptions opt = {0};
	ParamListInfo params = makeParamList(2);

	export_receiver_init(&r.pub, export_receive, NULL);
	r.job = job;
	r.next = first;
	r.row_cxt = AllocSetContextCreate(job->cxt, "gemini_etl export row", ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < 2; i++)
	{
		params->params[i].value = TimestampTzGetDatum(i == 0 ? first : end);
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = TIMESTAMPTZOID;
	}
	opt.params = params;
	opt.read_only = true;
	opt.dest = (DestReceiver *) &r;
	PG_TRY();
	{
		int			rc = SPI_execute_plan_extended(job->plan, &opt);

		/* SPI says UTILITY for a SELECT whose rows went to a DestNone receiver */
		if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
			elog(ERROR, "gemini_etl: export scan failed: %s", SPI_result_code_string(rc));
		if (r.h.active)
			hour_finish(job, &r.h);
		empty_hours(&r, end);
		if (job->finishing != NULL)
			hour_complete(job, job->finishing);
	}
	PG_CATCH();
	{
		/* (the request of an object still travelling goes at the (sub)transaction's abort: http.c) */
		if (r.h.active && r.h.o.up != NULL)
			s3_upload_abort(r.h.o.up);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(r.row_cxt);
	record_done(job);
}

/* SELECT the columns of an interval, in an order fixed by the data alone. */
static char *
interval_query(const QTarget *qt)
{
	StringInfoData sql;
	const char *tcol = quote_identifier(qt->cols[qt->time_col].name);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < qt->ncols; i++)
		appendStringInfo(&sql, "%st.%s", i > 0 ? ", " : "", quote_identifier(qt->cols[i].name));
	appendStringInfo(&sql, " FROM %s t WHERE t.%s >= $1 AND t.%s < $2 ORDER BY t.%s",
					 qt->qualname, tcol, tcol, tcol);
	for (int i = 0; i < qt->ncols; i++)
	{
		TypeCacheEntry *tc = lookup_type_cache(qt->cols[i].typid, TYPECACHE_LT_OPR);

		if (i != qt->time_col && OidIsValid(tc->lt_opr))
			appendStringInfo(&sql, ", t.%s", quote_identifier(qt->cols[i].name));
	}
	return sql.data;
}

List *
export_hours(Oid relid, TimestampTz start, TimestampTz end, const char *format, int64 run_id)
{
	ExportJob	job = {0};
	QTarget    *qt;
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	TimestampTz first;
	int64		nhours;
	MemoryContext caller;

	job.fmt = export_format_lookup(format);
	if (TIMESTAMP_NOT_FINITE(start) || TIMESTAMP_NOT_FINITE(end) || start >= end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the export interval must be finite and end after it starts"),
				 errdetail("interval_start must be before interval_end; both are needed."),
				 errhint("For example: gemini_export_s3('gemini.trades', '2026-11-24 00:00+00', '2026-11-25 00:00+00').")));
	first = export_floor(start, USECS_PER_HOUR);
	nhours = (end - first + USECS_PER_HOUR - 1) / USECS_PER_HOUR;
	if (nhours > MAX_HOURS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the export interval spans " INT64_FORMAT " hours, more than %d", nhours, MAX_HOURS),
				 errdetail("An export writes one key set per hour; this limit stops a mistyped year."),
				 errhint("Export it in pieces, for example a month at a time.")));
	qt = quality_target_open(relid);
	if (qt->time_col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no time column to export by", qt->qualname),
				 errdetail("Exports go by hour of the range-partition key, else of the table's only timestamptz column, else of the only timestamptz column of its primary key."),
				 errhint("Give the table one timestamptz column, or partition it by range on one.")));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to export %s", qt->qualname),
				 errdetail("An export reads the table as the calling role, which needs SELECT on it."),
				 errhint("GRANT SELECT ON %s TO the role.", qt->qualname)));

	job.relid = relid;
	job.source = qt->qualname;
	job.table = get_rel_name(relid);
	job.run_id = run_id;
	job.user = GetUserId();
	job.ncols = qt->ncols;
	job.time_col = qt->time_col;
	job.cols = palloc0(sizeof(ExportColumn) * Max(qt->ncols, 1));
	for (int i = 0; i < qt->ncols; i++)
		export_column_init(&job.cols[i], qt->cols[i].typid, qt->cols[i].typmod, qt->cols[i].notnull,
						   qt->cols[i].name);
	job.t = s3_target_open(NULL, NULL);

	caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	job.plan = SPI_prepare(interval_query(qt), 2, types);
	if (job.plan == NULL)
		elog(ERROR, "gemini_etl: could not prepare the export query: %s", SPI_result_code_string(SPI_result));
	job.cxt = CurrentMemoryContext;
	job.result_cxt = caller;
	/* one export of a table to a bucket at a time: they would delete each other's parts */
	{
		char	   *lockname = psprintf("%s/%s", job.t->bucket, job.source);

		store_private_lock(EXPORT_LOCK_CLASS, hash_bytes((const unsigned char *) lockname, strlen(lockname)), false);
	}
	export_rows(&job, first, nhours);
	SPI_finish();
	return job.objects;
}

Datum
gemini_export_s3(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *objects;
	ListCell   *lc;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", ((const char *[]) {"source", "interval_start", "interval_end", "format"})[i]),
					 errdetail("An export writes the whole UTC hours of [interval_start, interval_end) of source in format."),
					 errhint("For example: SELECT * FROM gemini_export_s3('gemini.trades', '2026-11-24 00:00+00', '2026-11-25 00:00+00', 'csv.gz');")));
	objects = export_hours(PG_GETARG_OID(0), PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2),
						   text_to_cstring(PG_GETARG_TEXT_PP(3)), 0);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	foreach(lc, objects)
	{
		ExportedObject *e = lfirst(lc);
		Datum		v[3] = {CStringGetTextDatum(e->key), Int64GetDatum(e->rows), Int64GetDatum(e->bytes)};
		bool		n[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
