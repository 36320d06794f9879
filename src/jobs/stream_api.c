/*
 * stream_api.c
 *	  gemini_stream_start(), gemini_stream_stop(), and the supervisor that
 *	  keeps every stream that should run running.
 *
 * A stream is a row of gemini.streams, owned by the role that started it
 * (run_as), as a pg_cron job is owned by its user: only that role (or a
 * member of it, or a superuser) stops it, and the worker checks at every
 * connect that the owner still exists and may stream.  Users cannot write
 * the row: the functions write it as the extension's owner, and the worker
 * re-validates its URLs (privilege.c).
 *
 * The worker serving a stream holds a session lock on (STREAM_LOCK_CLASS,
 * stream_id) whose key no SQL user can take (locks.c), so "is it served?"
 * is one look at pg_locks, two workers can never serve one stream, and no
 * role can keep a stream from running by taking its key first.  Stopping
 * is a row update: the worker reads `desired` at every flush (at least once
 * a second), so a stop takes effect only once it is committed and cannot
 * race a supervisor restart.
 *
 * With gemini_etl in shared_preload_libraries a supervisor (a static
 * background worker, restarted by the postmaster) looks every few seconds
 * for streams of gemini_etl.database_name that should run but are not
 * served, and whose retry_at has passed, and starts their workers: after a
 * worker crash, a server crash, a restart, or a failure's backoff.  It also
 * makes the partitions of today and the next two days.  Without
 * preloading, gemini_stream_start() starts the worker itself and says that
 * streams will not survive a restart.
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
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "jobs/gemini_api.h"
#include "jobs/privilege.h"
#include "jobs/pipeline.h"
#include "jobs/stream.h"
#include "store/store.h"
#include "store/spi_util.h"

#define SUPERVISOR_NAP_MS	2000
/* how often the supervisor makes partitions ahead, and retries after a failure */
#define PREMAKE_EVERY_MS	(15 * 60 * 1000)
#define PREMAKE_RETRY_MS	(60 * 1000)

PG_FUNCTION_INFO_V1(gemini_stream_start);
PG_FUNCTION_INFO_V1(gemini_stream_stop);

bool
gemini_launch_stream_worker(Oid dbid, int32 stream_id, bool wait_start)
{
	BackgroundWorker w = {0};
	BackgroundWorkerHandle *handle;
	StreamWorkerArgs args = {.dbid = dbid,.stream_id = stream_id};
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
	Oid			argtypes[6] = {TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, OIDOID};
	Datum		v[6];
	bool		isnull;
	int32		id;
	bool		supervised;
	GeminiUserSwitch owner;

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
					 errmsg("unknown channel \"%s\"", gemini_quote_input(c)),
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
	v[5] = ObjectIdGetDatum(GetUserId());

	/*
	 * A symbol gemini.symbols does not list would only loop in backoff, so
	 * once the symbols have been pulled an unknown one fails here.
	 */
	if (SPI_execute_with_args("SELECT u.s FROM pg_catalog.unnest($1) AS u(s)"
							  " WHERE EXISTS (SELECT 1 FROM gemini.symbols)"
							  "   AND NOT EXISTS (SELECT 1 FROM gemini.symbols y WHERE y.symbol = u.s AND y.listed)"
							  " LIMIT 1", 1, argtypes, v, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Gemini symbol \"%s\"",
						TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))),
				 errdetail("gemini.symbols, last refreshed by gemini_pull_symbols(), does not list it as traded."),
				 errhint("SELECT symbol FROM gemini.symbols WHERE listed; or SELECT gemini_pull_symbols(); if it was listed since.")));

	gemini_become_owner(&owner);
	if (SPI_execute_with_args("INSERT INTO gemini.streams (symbols, channels, ws_url, protocol, api_url, run_as)"
							  " VALUES ($1, $2, $3, $4, $5, $6) RETURNING stream_id",
							  6, argtypes, v, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gemini_etl: could not record the stream");
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	/* as the owner: pg_stat_activity hides other roles' backend types from operators */
	supervised = process_shared_preload_libraries_done && gemini_supervisor_running();
	gemini_restore_user(&owner);

	/* The worker waits for this row to be committed before it connects. */
	if (!gemini_launch_stream_worker(MyDatabaseId, id, false))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for the stream"),
				 errdetail("All background worker slots are in use."),
				 errhint("Raise max_worker_processes (one worker per stream).")));
	if (!supervised)
		ereport(NOTICE,
				(errmsg("stream %d will not survive a server restart", id),
				 errdetail("gemini_etl is not in shared_preload_libraries, or gemini_etl.database_name is not \"%s\".",
						   get_database_name(MyDatabaseId)),
				 errhint("Add gemini_etl to shared_preload_libraries and set gemini_etl.database_name so a supervisor restarts streams.")));
	PG_RETURN_INT32(id);
}

/*
 * Stop one stream (it must be the caller's, unless a superuser calls), or
 * every stream of the caller (a superuser: every stream).
 */
Datum
gemini_stream_stop(PG_FUNCTION_ARGS)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		v[1];
	char		nulls[1] = {' '};
	int64		n = 0;
	uint64		nrows;
	SPITupleTable *rows;
	GeminiUserSwitch owner;

	if (PG_ARGISNULL(0))
		nulls[0] = 'n';
	else
		v[0] = Int32GetDatum(PG_GETARG_INT32(0));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	if (SPI_execute_with_args("SELECT stream_id, run_as::pg_catalog.oid, desired = 'running' FROM gemini.streams"
							  " WHERE $1 IS NULL OR stream_id = $1 ORDER BY stream_id",
							  1, argtypes, v, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not read gemini.streams");
	nrows = SPI_processed;
	rows = SPI_tuptable;
	if (nrows == 0 && !PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stream %d does not exist", PG_GETARG_INT32(0)),
				 errhint("SELECT stream_id, state FROM gemini.stream_status;")));

	gemini_become_owner(&owner);
	for (uint64 i = 0; i < nrows; i++)
	{
		bool		isnull;
		int32		id = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		Oid			run_as = DatumGetObjectId(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		bool		running = DatumGetBool(SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull));
		Datum		idv[1] = {Int32GetDatum(id)};
		bool		owns;

		/* ownership is the caller's, checked with the caller's identity */
		gemini_restore_user(&owner);
		owns = gemini_user_owns(run_as);
		gemini_become_owner(&owner);
		if (!owns)
		{
			if (PG_ARGISNULL(0))
				continue;		/* "all" means all of mine */
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("stream %d belongs to another role", id),
					 errdetail("Only its owner, a member of its owner, or a superuser may stop it."),
					 errhint("SELECT stream_id, owner FROM gemini.stream_status;")));
		}
		if (!running)
			continue;
		if (SPI_execute_with_args("UPDATE gemini.streams SET desired = 'stopped' WHERE stream_id = $1",
								  1, argtypes, idv, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "gemini_etl: could not stop stream %d", id);
		n += (int64) SPI_processed;
	}
	gemini_restore_user(&owner);
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
	w.bgw_restart_time = 10;
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
	if (SPI_execute("SELECT pg_catalog.count(*) > 0 FROM pg_catalog.pg_stat_activity"
					" WHERE backend_type = 'gemini_etl supervisor' AND datname = pg_catalog.current_database()",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		running = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return running;
}

typedef enum PremakeResult
{
	PREMAKE_DONE,
	PREMAKE_NOT_INSTALLED,		/* no extension in this database (yet) */
	PREMAKE_FAILED
} PremakeResult;

/*
 * Make the partitions of today and the next two days of every partitioned
 * table, and mark pipeline runs whose worker is gone failed (after a crash
 * or restart they would otherwise say 'running' until the next run), in a
 * transaction of its own.
 */
static PremakeResult
premake_partitions(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	PremakeResult result = PREMAKE_NOT_INSTALLED;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		SetConfigOption("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION);
		if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'gemini_etl'", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1 &&
			SPI_execute("SELECT gemini.ensure_day_partitions(p, d, d + 2)"
							   "  FROM (VALUES ('gemini.trades'::pg_catalog.regclass), ('gemini.raw_pages'),"
							   "               ('gemini.book_changes')) AS t(p),"
							   "       (SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date) AS x(d)",
							   false, 0) == SPI_OK_SELECT &&
			SPI_execute(RUNS_MARK_INTERRUPTED_SQL, false, 0) == SPI_OK_UPDATE)
			result = PREMAKE_DONE;
		SetConfigOption("lock_timeout", "0", PGC_USERSET, PGC_S_SESSION);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		SetConfigOption("lock_timeout", "0", PGC_USERSET, PGC_S_SESSION);
		ereport(LOG,
				(errmsg("gemini_etl supervisor: could not make partitions ahead: %s", e->message),
				 errdetail("It tries again in a minute; pulls and streams make the partitions they need themselves.")));
		FreeErrorData(e);
		result = PREMAKE_FAILED;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return result;
}

/* Start a worker for every stream that should run, is not served, and is due. */
static void
start_due_streams(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	spi_xact_begin();

	/* The extension may not be installed (yet) in this database. */
	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'gemini_etl'", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1 &&
		SPI_execute(psprintf("SELECT s.stream_id FROM gemini.streams s"
							 " WHERE s.desired = 'running' AND s.database_name = pg_catalog.current_database()"
							 "   AND (s.retry_at IS NULL OR s.retry_at <= pg_catalog.now())"
							 "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
							 "        AND l.database = %u AND l.classid = %u AND l.objid = s.stream_id AND l.objsubid = %d)",
							 MyDatabaseId, (unsigned) STREAM_LOCK_CLASS, GEMINI_LOCK_SPACE), true, 0) == SPI_OK_SELECT)
	{
		uint64		n = SPI_processed;
		SPITupleTable *due = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			bool		isnull;
			int32		id = DatumGetInt32(SPI_getbinval(due->vals[i], due->tupdesc, 1, &isnull));
			Oid			argtypes[1] = {INT4OID};
			Datum		v[1] = {Int32GetDatum(id)};

			/*
			 * Each start counts as an attempt and sets the earliest next
			 * one (1 s doubling to 60 s): a worker that crashes before it
			 * can say why is restarted with backoff, not every 2 s.  A
			 * worker that gets market data resets both.
			 */
			if (SPI_execute_with_args("UPDATE gemini.streams SET failures = failures + 1,"
									  " retry_at = pg_catalog.now() + pg_catalog.make_interval(secs => LEAST(60, pg_catalog.power(2, LEAST(failures, 6))))"
									  " WHERE stream_id = $1", 1, argtypes, v, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "gemini_etl supervisor: could not record the start of stream %d", id);
			if (gemini_launch_stream_worker(MyDatabaseId, id, true))
				ereport(LOG, (errmsg("gemini_etl supervisor: started the worker of stream %d", id)));
			else
				ereport(WARNING,
						(errmsg("gemini_etl supervisor: no background worker slot for stream %d", id),
						 errhint("Raise max_worker_processes.")));
		}
	}
	spi_xact_commit(cxt);
}

void
gemini_supervisor_main(Datum arg)
{
	TimestampTz next_premake = 0;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(gemini_database_name, NULL, 0);
	pgstat_report_appname("gemini_etl supervisor");
	gemini_pin_search_path();

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();

		CHECK_FOR_INTERRUPTS();
		if (now >= next_premake)
		{
			switch (premake_partitions())
			{
				case PREMAKE_DONE:
					next_premake = TimestampTzPlusMilliseconds(now, PREMAKE_EVERY_MS);
					break;
				case PREMAKE_FAILED:
					next_premake = TimestampTzPlusMilliseconds(now, PREMAKE_RETRY_MS);
					break;
				case PREMAKE_NOT_INSTALLED:
					break;		/* look again at the next round */
			}
		}
		/* an error (a stream row it cannot read, say) is logged; the next round tries again */
		PG_TRY();
		{
			start_due_streams();
		}
		PG_CATCH();
		{
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
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
}
