/*
 * pipeline.c
 *	  gemini_run_pipeline(): starts the worker that carries out a run
 *	  (pipeline_worker.c) and waits for it, so a psql user or a pg_cron job
 *	  gets the run id back when the run is over.  The caller's transaction
 *	  only waits: it holds no lock the run needs and does no network I/O.
 *	  If the caller is cancelled, the run goes on (see gemini.runs).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "jobs/export.h"
#include "jobs/gemini_api.h"
#include "jobs/pipeline.h"
#include "jobs/privilege.h"
#include "executor/spi.h"
#include "store/store.h"

PG_FUNCTION_INFO_V1(gemini_run_pipeline_internal);

static void
fill_symbols(PipelineRequest *req, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("symbols must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0 || n > PIPELINE_MAX_SYMBOLS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pipeline run takes 1 to %d symbols, not %d", PIPELINE_MAX_SYMBOLS, n),
				 errdetail("Each run pulls, checks, transforms and exports its symbols' data."),
				 errhint("Split the symbols over several schedules.")));
	for (int i = 0; i < n; i++)
	{
		char	   *sym;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("symbols must not contain NULL"),
					 errhint("For example: gemini_run_pipeline('{BTCUSD,ETHUSD}').")));
		sym = gemini_normalize_symbol(DatumGetTextPP(elems[i]));
		if (strlen(sym) >= PIPELINE_SYMBOL_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("symbol \"%.40s\" is too long", sym),
					 errdetail("Gemini's symbols have at most %d characters.", PIPELINE_SYMBOL_LEN - 1)));
		strlcpy(req->symbols[req->nsymbols++], sym, PIPELINE_SYMBOL_LEN);
	}
}

static bool
on_hour(TimestampTz t)
{
	return t % USECS_PER_HOUR == 0;
}

Datum
gemini_run_pipeline_internal(PG_FUNCTION_ARGS)
{
	dsm_segment *seg;
	PipelineRequest *req;
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz hour = export_floor(now, USECS_PER_HOUR);
	int64		run_id;
	const char *trigger = PG_ARGISNULL(3) ? "manual" : text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (strcmp(trigger, "manual") != 0 && strcmp(trigger, "schedule") != 0 && strcmp(trigger, "backfill") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown pipeline trigger \"%s\"", trigger),
				 errdetail("A run is started manually, by the schedule or by a backfill."),
				 errhint("Use gemini_run_pipeline, gemini_schedule or gemini_backfill.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("symbols must not be NULL"),
				 errhint("For example: SELECT gemini_run_pipeline('{BTCUSD}');")));
	seg = dsm_create(sizeof(PipelineRequest), 0);
	req = dsm_segment_address(seg);
	memset(req, 0, sizeof(*req));
	fill_symbols(req, PG_GETARG_ARRAYTYPE_P(0));
	/* the default data interval: the last whole hour (UTC) */
	req->start = PG_ARGISNULL(1) ? hour - USECS_PER_HOUR : PG_GETARG_TIMESTAMPTZ(1);
	req->end = PG_ARGISNULL(2) ? req->start + USECS_PER_HOUR : PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(req->start) || TIMESTAMP_NOT_FINITE(req->end) || req->start >= req->end ||
		!on_hour(req->start) || !on_hour(req->end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pipeline's data interval is whole hours, start before end"),
				 errdetail("Exports and reruns go by hour: an interval must start and end on the hour (UTC)."),
				 errhint("For example: gemini_run_pipeline('{BTCUSD}', '2026-11-24 10:00+00', '2026-11-24 11:00+00'); NULL bounds mean the last whole hour.")));
	if (req->end > hour)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the data interval must be over: it ends after the current hour began"),
				 errdetail("A run of an interval still being written would have to run again."),
				 errhint("The open hour reaches S3 through the schedule's live export instead.")));
	{
		GeminiUserSwitch sw;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "gemini_etl: SPI_connect failed");
		gemini_become_owner(&sw);
		run_id = store_next_run_id();
		gemini_restore_user(&sw);
		SPI_finish();
	}
	req->dbid = MyDatabaseId;
	req->userid = GetUserId();
	req->run_id = run_id;
	strlcpy(req->trigger, trigger, sizeof(req->trigger));

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "gemini_etl", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "gemini_pipeline_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "gemini_etl pipeline run " INT64_FORMAT, run_id);
	strlcpy(worker.bgw_type, "gemini_etl pipeline", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free for the pipeline run"),
				 errdetail("Every one of max_worker_processes is in use (streams, pg_cron, parallel queries)."),
				 errhint("Raise max_worker_processes (a restart), or run again later: the interval stays due.")));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED || status == BGWH_STOPPED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL, (errcode(ERRCODE_ADMIN_SHUTDOWN), errmsg("postmaster exited during a pipeline run")));
	if (!req->finished)
		ereport(WARNING,
				(errmsg("pipeline run " INT64_FORMAT " ended before it finished", run_id),
				 errhint("SELECT * FROM gemini.runs WHERE run_id = " INT64_FORMAT "; it is marked failed at the next run.", run_id)));
	else if (!req->succeeded)
		ereport(WARNING,
				(errmsg("pipeline run " INT64_FORMAT " failed: %s", run_id, req->message),
				 errhint("SELECT * FROM gemini.run_steps WHERE run_id = " INT64_FORMAT " ORDER BY started_at;", run_id)));
	dsm_detach(seg);
	PG_RETURN_INT64(run_id);
}
