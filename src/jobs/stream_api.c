/*
 * stream_api.c
 *	  gemini_stream_start(), gemini_stream_stop(), and the supervisor that
 *	  keeps every stream that should run running.
 *
 * A stream is a row of gemini.streams; the worker serving it holds a
 * session advisory lock on (STREAM_LOCK_CLASS, stream_id), so "is it
 * served?" is one look at pg_locks, and two workers can never serve one
 * stream.  Stopping is a row update: the worker reads `desired` at every
 * flush (at least once a second), so a stop takes effect only once it is
 * committed and cannot race a supervisor restart.
 *
 * With gemini_etl in shared_preload_libraries a supervisor (a static
 * background worker, restarted by the postmaster) looks every few seconds
 * for streams of gemini_etl.database_name that should run but are not
 * served, and starts their workers: after a worker crash, a server crash or
 * a restart.  Without preloading, gemini_stream_start() starts the worker
 * itself and says that streams will not survive a restart.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "jobs/gemini_api.h"
#include "jobs/stream.h"

#define SUPERVISOR_NAP_MS	2000

PG_FUNCTION_INFO_V1(gemini_stream_start);
PG_FUNCTION_INFO_V1(gemini_stream_stop);

bool
gemini_launch_stream_worker(Oid dbid, Oid userid, int32 stream_id, bool wait_start)
{
	BackgroundWorker w = {0};
	BackgroundWorkerHandle *handle;
	StreamWorkerArgs args = {.dbid = dbid,.userid = userid,.stream_id = stream_id};
	pid_t		pid;

	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;	/* the supervisor restarts streams */
	strlcpy(w.bgw_library_name, "gemini_etl", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "gemini_stream_worker_main", BGW_MAXLEN);
	snprintf(w.bgw_name, BGW_MAXLEN, "gemini_etl stream %d", stream_id);
	strlcpy(w.bgw_type, "gemini_etl stream", BGW_MAXLEN);
	memcpy(w.bgw_extra, &args, sizeof(args));
	w.bgw_notify_pid = wait_start ? MyProcPid : 0;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		return false;
	if (wait_start)
		(void) WaitForBackgroundWorkerStartup(handle, &pid);
	return true;
}

static void
validate_array(ArrayType *a, const char *what, Datum **elems, int *n)
{
	bool	   *nulls;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, elems, &nulls, n);
	for (int i = 0; i < *n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", what)));
}

Datum
gemini_stream_start(PG_FUNCTION_ARGS)
{
	Datum	   *elems;
	int			n,
				nch;
	Datum	   *syms;
	Datum	   *chans;
	const char *protocol;
	Oid			argtypes[5] = {TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[5];
	bool		isnull;
	int32		id;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("symbols and channels must not be NULL"),
				 errhint("SELECT gemini_stream_start('{BTCUSD,ETHUSD}');")));
	validate_array(PG_GETARG_ARRAYTYPE_P(0), "symbols", &elems, &n);
	if (n == 0 || n > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a stream needs 1 to 64 symbols, not %d", n),
				 errhint("Start several streams for more symbols.")));
	syms = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		char	   *s = gemini_normalize_symbol(DatumGetTextPP(elems[i]));

		for (int k = 0; k < i; k++)
			if (strcmp(TextDatumGetCString(syms[k]), s) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("symbol %s is listed twice", s)));
		syms[i] = CStringGetTextDatum(s);
	}
	validate_array(PG_GETARG_ARRAYTYPE_P(1), "channels", &chans, &nch);
	if (nch == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channels must not be empty"),
				 errhint("Channels are l2, trades and candles_1m.")));
	for (int i = 0; i < nch; i++)
	{
		char	   *c = TextDatumGetCString(chans[i]);

		if (strcmp(c, "l2") != 0 && strcmp(c, "trades") != 0 && strcmp(c, "candles_1m") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown channel \"%s\"", c),
					 errhint("Channels are l2 (order book; in v2 it also carries trades), trades and candles_1m.")));
	}

	if (strcmp(gemini_ws_protocol, "auto") != 0)
		protocol = gemini_ws_protocol;
	else
		protocol = strstr(gemini_ws_url, "/v2/marketdata") ? "v2" : "new";

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	v[0] = PointerGetDatum(construct_array(syms, n, TEXTOID, -1, false, TYPALIGN_INT));
	v[1] = PointerGetDatum(construct_array(chans, nch, TEXTOID, -1, false, TYPALIGN_INT));
	v[2] = CStringGetTextDatum(gemini_ws_url);
	v[3] = CStringGetTextDatum(protocol);
	v[4] = CStringGetTextDatum(gemini_api_url);
	if (SPI_execute_with_args("INSERT INTO gemini.streams (symbols, channels, ws_url, protocol, api_url)"
							  " VALUES ($1, $2, $3, $4, $5) RETURNING stream_id",
							  5, argtypes, v, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gemini_etl: could not record the stream");
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	/* The worker waits for this row to be committed before it connects. */
	if (!gemini_launch_stream_worker(MyDatabaseId, GetUserId(), id, false))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for the stream"),
				 errdetail("All background worker slots are in use."),
				 errhint("Raise max_worker_processes (one worker per stream).")));
	if (!process_shared_preload_libraries_done || !gemini_supervisor_running())
		ereport(NOTICE,
				(errmsg("stream %d will not survive a server restart", id),
				 errdetail("gemini_etl is not in shared_preload_libraries, or gemini_etl.database_name is not \"%s\".",
						   get_database_name(MyDatabaseId)),
				 errhint("Add gemini_etl to shared_preload_libraries and set gemini_etl.database_name so a supervisor restarts streams.")));
	PG_RETURN_INT32(id);
}

Datum
gemini_stream_stop(PG_FUNCTION_ARGS)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		v[1];
	char		nulls[1] = {' '};
	int64		n;

	if (PG_ARGISNULL(0))
		nulls[0] = 'n';
	else
		v[0] = Int32GetDatum(PG_GETARG_INT32(0));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	if (SPI_execute_with_args("UPDATE gemini.streams SET desired = 'stopped'"
							  " WHERE desired = 'running' AND ($1 IS NULL OR stream_id = $1)",
							  1, argtypes, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gemini_etl: could not stop streams");
	n = (int64) SPI_processed;
	if (n == 0 && !PG_ARGISNULL(0))
	{
		if (SPI_execute_with_args("SELECT 1 FROM gemini.streams WHERE stream_id = $1", 1, argtypes, v, nulls,
								  true, 1) == SPI_OK_SELECT && SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("stream %d does not exist", PG_GETARG_INT32(0)),
					 errhint("SELECT stream_id, state FROM gemini.stream_status;")));
	}
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

/* ---------- the supervisor ---------- */

void
gemini_register_supervisor(void)
{
	BackgroundWorker w = {0};

	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	strlcpy(w.bgw_library_name, "gemini_etl", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "gemini_supervisor_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "gemini_etl supervisor", BGW_MAXLEN);
	strlcpy(w.bgw_type, "gemini_etl supervisor", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/* Is a supervisor serving this database? (pg_stat_activity) */
bool
gemini_supervisor_running(void)
{
	bool		running = false;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		return false;
	if (SPI_execute("SELECT count(*) > 0 FROM pg_stat_activity"
					" WHERE backend_type = 'gemini_etl supervisor' AND datname = current_database()",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		running = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return running;
}

void
gemini_supervisor_main(Datum arg)
{
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(gemini_database_name, NULL, 0);
	pgstat_report_appname("gemini_etl supervisor");

	while (!ShutdownRequestPending)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());

		/* The extension may not be installed (yet) in this database. */
		if (SPI_execute("SELECT 1 FROM pg_extension WHERE extname = 'gemini_etl'", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1 &&
			SPI_execute(psprintf("SELECT s.stream_id, s.run_as::oid FROM gemini.streams s"
								 " WHERE s.desired = 'running' AND s.database_name = current_database()"
								 "   AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'"
								 "        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
								 "        AND l.classid = %u AND l.objid = s.stream_id AND l.objsubid = 2)",
								 (unsigned) STREAM_LOCK_CLASS), true, 0) == SPI_OK_SELECT)
		{
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				bool		isnull;
				int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
				Oid			role = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

				if (gemini_launch_stream_worker(MyDatabaseId, role, id, true))
					ereport(LOG, (errmsg("gemini_etl supervisor: started the worker of stream %d", id)));
				else
					ereport(WARNING,
							(errmsg("gemini_etl supervisor: no background worker slot for stream %d", id),
							 errhint("Raise max_worker_processes.")));
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, SUPERVISOR_NAP_MS,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	proc_exit(0);
}
