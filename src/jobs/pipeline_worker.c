/*
 * pipeline_worker.c
 *	  The background worker that carries out one pipeline run (see
 *	  pipeline.h): pull each symbol, check the raw layer, transform (the
 *	  computed 1-minute candles of each symbol over the interval), check the
 *	  curated layer, export the interval's raw and curated data when a
 *	  bucket is set.
 *
 * Why a worker rather than the caller's transaction: a run does network
 * I/O at every step, and a transaction must not stay open across it.  Here
 * every attempt of every step is a transaction of its own, and the ledger
 * (runs_sink.c) is written in transactions of its own around them, so a
 * failed attempt is rolled back whole and still recorded.
 *
 * The worker connects as the bootstrap superuser (a NOLOGIN operator could
 * not connect) and runs each step as the role that asked for the run, with
 * SetUserIdAndSecContext, so the steps have exactly the caller's rights.
 * It holds a lock per symbol and interval for the whole run: an
 * overlapping run of the same symbol and interval waits for it.
 *
 * Retries: a step that fails is retried gemini_etl.pipeline_max_retries
 * times, after pipeline_retry_delay_ms doubled each time (interruptible).
 * A quality rule of severity 'fail' that fails (or cannot run) stops the
 * run after its step: the run fails with the rule named, nothing is
 * exported, and the interval stays due.  A re-run of an interval replaces
 * the interval's pipeline quality results; exports rewrite their keys.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "jobs/export.h"
#include "jobs/pipeline.h"
#include "jobs/privilege.h"
#include "jobs/quality.h"
#include "settings.h"
#include "store/store.h"

PGDLLEXPORT void gemini_pipeline_worker_main(Datum arg);

static const char *const step_names[] = {"pull", "quality_raw", "transform", "quality_curated", "export"};

const char *
pipeline_step_name(PipelineStep s)
{
	return step_names[s];
}

/* The run as the worker carries it. */
typedef struct Run
{
	PipelineRequest req;
	StringInfoData rows;		/* {"pull": n, ...} */
	char		failed_rule[256];
	ErrorData  *error;			/* of the failed step, in the run's context */
	TimestampTz started;
	const char *failed_step;
	MemoryContext cxt;
} Run;

/* ---------- the steps (each in its transaction, as the run's role) ---------- */

/*
 * From the symbol's watermark (which covers the interval once it has
 * passed it: the watermark only moves over contiguous ranges); a symbol
 * never pulled starts at the interval's start.
 */
static int64
step_pull(Run *r, const char *symbol)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		v[2] = {CStringGetTextDatum(symbol), TimestampTzGetDatum(r->req.start)};
	bool		isnull;

	const char *schema;

	/* the SQL function (its checks and its lock), in the extension's schema */
	if (SPI_execute("SELECT n.nspname::text FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n"
					" ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'gemini_etl'",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "gemini_etl: the extension's schema was not found");
	schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (SPI_execute_with_args(psprintf("SELECT %s.gemini_pull_since($1, CASE WHEN EXISTS"
									   " (SELECT 1 FROM gemini.watermarks w WHERE w.symbol = $1) THEN NULL ELSE $2 END)",
									   quote_identifier(schema)),
							  2, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: the pull did not run");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Check one table's rules over the interval; returns the rules run.  A
 * re-run replaces the interval's earlier pipeline results of the table.
 * A 'fail' rule that did not pass is noted in the run.
 */
static int64
step_quality(Run *r, const char *table)
{
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(table)), NoLock, false);
	Oid			types[3] = {OIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[3] = {ObjectIdGetDatum(relid), TimestampTzGetDatum(r->req.start), TimestampTzGetDatum(r->req.end)};
	GeminiUserSwitch sw;
	QRule	  **rules;
	int			n = 0;
	int64		eval;

	gemini_become_owner(&sw);
	if (SPI_execute_with_args("DELETE FROM gemini.quality_results WHERE target = $1 AND interval_start = $2"
							  " AND interval_end = $3 AND run_id IS NOT NULL",
							  3, types, v, NULL, false, 0) < 0 ||
		SPI_execute_with_args("DELETE FROM gemini.quality_evaluations WHERE target = $1 AND interval_start = $2"
							  " AND interval_end = $3 AND run_id IS NOT NULL",
							  3, types, v, NULL, false, 0) < 0)
		elog(ERROR, "gemini_etl: could not replace the interval's quality results");
	gemini_restore_user(&sw);
	rules = quality_check(relid, true, r->req.start, true, r->req.end, r->req.run_id, &n, &eval);
	for (int i = 0; i < n; i++)
	{
		const char *outcome = rules[i]->node->outcome;

		if (strcmp(rules[i]->severity, "fail") == 0 && strcmp(outcome, "pass") != 0 && r->failed_rule[0] == '\0')
			snprintf(r->failed_rule, sizeof(r->failed_rule), "%s (rule %d on %s: %s)",
					 rules[i]->rule_name, rules[i]->rule_id, table, outcome);
	}
	return n;
}

/* The computed 1-minute candles of the interval, from the stored trades. */
static int64
step_transform(Run *r, const char *symbol)
{
	int64		nmin = (r->req.end - r->req.start) / USECS_PER_MINUTE;
	TimestampTz *minutes = palloc(sizeof(TimestampTz) * Max(nmin, 1));
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[3] = {CStringGetTextDatum(symbol), TimestampTzGetDatum(r->req.start), TimestampTzGetDatum(r->req.end)};
	GeminiUserSwitch sw;
	bool		isnull;

	for (int64 i = 0; i < nmin; i++)
		minutes[i] = r->req.start + i * USECS_PER_MINUTE;
	gemini_become_owner(&sw);
	store_computed_candles(symbol, minutes, (int) nmin);
	gemini_restore_user(&sw);
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM gemini.candles WHERE symbol = $1 AND timeframe = '1m'"
							  " AND source = 'computed' AND bucket_start >= $2 AND bucket_start < $3",
							  3, types, v, NULL, false, 1) != SPI_OK_SELECT)	/* not read-only: see the rows just written */
		elog(ERROR, "gemini_etl: could not count the computed candles");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The interval's curated data, and the raw pages this run fetched, to S3
 * (nothing when no bucket is set).  The raw layer goes by fetch time, as
 * the raw bucket of the design we replace does by ingestion time: the
 * pages of this run are in the hour(s) it ran in, exported up to now (an
 * open hour is exported again, whole, by later runs).
 */
static int64
step_export(Run *r)
{
	static const char *const curated[] = {"gemini.trades", "gemini.candles"};
	int64		rows = 0;
	List	   *objs;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();

	if (gemini_s3_bucket == NULL || gemini_s3_bucket[0] == '\0')
		return 0;
	for (size_t i = 0; i < lengthof(curated); i++)
	{
		objs = export_hours(RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(curated[i])),
											 NoLock, false),
							r->req.start, r->req.end, gemini_pipeline_export_format, r->req.run_id);
		foreach(lc, objs)
			rows += ((ExportedObject *) lfirst(lc))->rows;
	}
	/* raw bodies hold backslashes (JSON escapes): jsonl.gz, not CSV */
	objs = export_hours(RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList("gemini.raw_pages")),
										 NoLock, false),
						r->started, now + 1, "jsonl.gz", r->req.run_id);
	foreach(lc, objs)
		rows += ((ExportedObject *) lfirst(lc))->rows;
	return rows;
}

static int64
run_step_once(Run *r, PipelineStep step, const char *symbol)
{
	switch (step)
	{
		case STEP_PULL:
			return step_pull(r, symbol);
		case STEP_QUALITY_RAW:
			return step_quality(r, "gemini.raw_pages");
		case STEP_TRANSFORM:
			return step_transform(r, symbol);
		case STEP_QUALITY_CURATED:
			return step_quality(r, "gemini.trades");
		case STEP_EXPORT:
			return step_export(r);
	}
	return 0;
}

/* Sleep ms, waking for interrupts (a terminate ends the run, marked failed next time). */
static void
backoff_sleep(long ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * One step with its retries; each attempt a transaction of its own, as the
 * run's role.  Returns false when every attempt failed (r->error set).
 */
static bool
run_step(Run *r, PipelineStep step, const char *symbol)
{
	const char *name = step_names[step];
	long		delay = gemini_pipeline_retry_delay_ms;

	for (int attempt = 1;; attempt++)
	{
		int64		rows = 0;
		bool		ok = false;
		ErrorData  *err = NULL;
		Oid			saved_user;
		int			saved_ctx;

		runs_step_begin(r->req.run_id, name, symbol, attempt);
		pgstat_report_activity(STATE_RUNNING, psprintf("pipeline run " INT64_FORMAT ": %s %s (attempt %d)",
														r->req.run_id, name, symbol ? symbol : "", attempt));
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PG_TRY();
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "gemini_etl: SPI_connect failed");
			PushActiveSnapshot(GetTransactionSnapshot());
			GetUserIdAndSecContext(&saved_user, &saved_ctx);
			SetUserIdAndSecContext(r->req.userid, saved_ctx | SECURITY_LOCAL_USERID_CHANGE);
			rows = run_step_once(r, step, symbol);
			SetUserIdAndSecContext(saved_user, saved_ctx);
			SPI_finish();
			PopActiveSnapshot();
			CommitTransactionCommand();
			ok = true;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(r->cxt);
			err = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(r->cxt);
		runs_step_end(r->req.run_id, name, symbol, attempt, ok, rows, err);
		if (ok)
		{
			appendStringInfo(&r->rows, "%s\"%s%s%s\": " INT64_FORMAT, r->rows.len > 1 ? ", " : "",
							 name, symbol ? ":" : "", symbol ? symbol : "", rows);
			return true;
		}
		ereport(LOG,
				(errmsg("gemini_etl: pipeline run " INT64_FORMAT ": %s%s%s failed (attempt %d of %d): %s",
						r->req.run_id, name, symbol ? " " : "", symbol ? symbol : "", attempt,
						gemini_pipeline_max_retries + 1, err->message)));
		if (attempt > gemini_pipeline_max_retries)
		{
			r->error = err;
			r->failed_step = name;
			return false;
		}
		backoff_sleep(delay);
		delay = Min(delay * 2, 600000L);
	}
}

/* The steps in order; pull and transform once per symbol, the others once per run. */
static const struct
{
	PipelineStep step;
	bool		per_symbol;
}			run_order[] = {
	{STEP_PULL, true}, {STEP_QUALITY_RAW, false}, {STEP_TRANSFORM, true},
	{STEP_QUALITY_CURATED, false}, {STEP_EXPORT, false}
};

/* Every step; false at the first that fails, or after a quality step a 'fail' rule failed. */
static bool
carry_out(Run *r)
{
	for (size_t s = 0; s < lengthof(run_order); s++)
	{
		int			n = run_order[s].per_symbol ? r->req.nsymbols : 1;

		for (int i = 0; i < n; i++)
			if (!run_step(r, run_order[s].step, run_order[s].per_symbol ? r->req.symbols[i] : NULL))
				return false;
		if (r->failed_rule[0])
		{
			r->failed_step = step_names[run_order[s].step];
			return false;
		}
	}
	return true;
}

void
gemini_pipeline_worker_main(Datum arg)
{
	dsm_segment *seg;
	PipelineRequest *shared;
	Run			r = {0};
	bool		ok;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the requester is gone before we started */
	shared = dsm_segment_address(seg);
	r.req = *shared;
	r.started = GetCurrentTimestamp();
	r.cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl pipeline run", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(r.cxt);
	initStringInfo(&r.rows);
	appendStringInfoChar(&r.rows, '{');

	/* no role: the bootstrap superuser; the steps run as the requester */
	BackgroundWorkerInitializeConnectionByOid(r.req.dbid, InvalidOid, 0);
	pgstat_report_appname("gemini_etl pipeline");
	gemini_pin_search_path();

	runs_mark_interrupted();
	runs_begin(&r.req, MyProcPid);
	/* an overlapping run of a symbol and interval waits for this one (session locks) */
	pgstat_report_activity(STATE_RUNNING, psprintf("pipeline run " INT64_FORMAT ": waiting for overlapping runs",
													r.req.run_id));
	StartTransactionCommand();
	for (int i = 0; i < r.req.nsymbols; i++)
	{
		char	   *key = psprintf("%s/" INT64_FORMAT "/" INT64_FORMAT, r.req.symbols[i], r.req.start, r.req.end);

		store_private_lock(PIPELINE_LOCK_CLASS, hash_bytes((const unsigned char *) key, strlen(key)), true);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(r.cxt);
	ok = carry_out(&r);
	appendStringInfoChar(&r.rows, '}');
	runs_finish(r.req.run_id, ok, ok ? NULL : r.failed_step, r.failed_rule[0] ? r.failed_rule : NULL,
				r.error, r.rows.data);

	shared->finished = true;
	shared->succeeded = ok;
	if (!ok)
		snprintf(shared->message, sizeof(shared->message), "%s failed: %s", r.failed_step,
				 r.failed_rule[0] ? psprintf("quality rule %s", r.failed_rule) :
				 r.error ? r.error->message : "unknown");
	dsm_detach(seg);
	proc_exit(0);
}
