/*
 * partitions.c
 *	  Daily partitions, made ahead of the rows that need them, in a
 *	  transaction of their own.
 *
 * Why a separate transaction: a pull runs inside its caller's transaction,
 * which may last minutes.  Attaching a partition locks the parent (share
 * update exclusive) and the DEFAULT partition (access exclusive) until commit;
 * done inside the pull, every reader of gemini.trades that is not pruned to a
 * day would wait for the whole pull.  So a short-lived background worker
 * runs gemini.ensure_day_partitions() and commits at once, and the pull waits
 * for it (milliseconds; it happens once per new day).  When the caller's
 * transaction itself already locks the DEFAULT partition (after a DELETE on
 * gemini.trades, say), the worker could never get it, so the partitions are
 * then attached in the caller's transaction instead.
 *
 * Partitions are also made ahead of need: every request that reaches today
 * covers the day after tomorrow too, and the supervisor makes today's,
 * tomorrow's and the next day's partitions of every partitioned table, so
 * midnight UTC normally needs no partition at all.
 *
 * The worker connects to the same database without a login role (as the
 * bootstrap superuser; a caller after SET ROLE to the NOLOGIN
 * gemini_etl_operator could not be logged in as) and runs only
 * gemini.ensure_day_partitions(), which accepts only the extension's own
 * tables.  Its result (or its error) comes back through a small dynamic
 * shared memory segment.  When no worker slot is free, the partitions are
 * made in the caller's transaction instead: slower for readers of the
 * parent, but the pull never fails for want of a slot.
 *
 * Rows are never routed blindly: the caller passes the days its rows need
 * (after impossible times were quarantined), and the pull never lets rows
 * reach a DEFAULT partition.  Each creation also counts the rows already in
 * DEFAULT and warns loudly if there are any.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "storage/ipc.h"
#include "utils/regproc.h"

#include "jobs/privilege.h"
#include "store/store.h"

PGDLLEXPORT void gemini_partition_worker_main(Datum arg);

#define MAX_KNOWN_DAYS 64
/* days ahead of today made by every request that reaches today */
#define DAYS_AHEAD 2

/* tables a request can cover at once: trades, raw_pages, book_changes */
#define MAX_REQUEST_PARENTS 3

typedef struct PartitionRange
{
	char		parent[2 * NAMEDATALEN + 2];
	DateADT		first_day;
	DateADT		last_day;
	/* out */
	int			created;
	int64		default_rows;
} PartitionRange;

/*
 * What a worker is asked to make: the days of up to MAX_REQUEST_PARENTS
 * tables, in one transaction (a pull's first page needs trades and raw
 * pages; one worker start instead of two).
 */
typedef struct PartitionRequest
{
	/* in */
	Oid			dbid;
	int			nranges;
	PartitionRange ranges[MAX_REQUEST_PARENTS];
	/* out */
	bool		done;
	int			sqlerrcode;
	char		message[512];
	char		detail[512];
	char		hint[256];
} PartitionRequest;

/* Days known to have a partition, per parent, in this backend. */
typedef struct KnownDay
{
	char		parent[2 * NAMEDATALEN + 2];
	DateADT		day;
} KnownDay;

static KnownDay known[MAX_KNOWN_DAYS];
static int	nknown = 0;

void
store_forget_partitions(void)
{
	nknown = 0;
}

DateADT
store_day_of(TimestampTz ts)
{
	/* UTC day: partitions are UTC days whatever the session's TimeZone. */
	return (DateADT) (ts / USECS_PER_DAY - (ts < 0 && ts % USECS_PER_DAY != 0 ? 1 : 0));
}

static bool
day_known(const char *parent, DateADT day)
{
	for (int i = 0; i < nknown; i++)
		if (known[i].day == day && strcmp(known[i].parent, parent) == 0)
			return true;
	return false;
}

static void
remember_day(const char *parent, DateADT day)
{
	if (day_known(parent, day))
		return;
	if (nknown == MAX_KNOWN_DAYS)
		nknown = 0;				/* a cache, not a record: start over */
	strlcpy(known[nknown].parent, parent, sizeof(known[nknown].parent));
	known[nknown].day = day;
	nknown++;
}

/* Does the partition for this day exist (committed and visible to us)? */
static bool
partition_exists(const char *parent, DateADT day)
{
	char		name[2 * NAMEDATALEN + 16];
	int			y,
				m,
				d;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	snprintf(name, sizeof(name), "%s_p%04d%02d%02d", parent, y, m, d);
	return OidIsValid(RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)),
									   NoLock, true));
}

/* Returns false when no background worker slot was free. */
static bool
run_partition_worker(PartitionRequest *req_in)
{
	dsm_segment *seg = dsm_create(sizeof(PartitionRequest), 0);
	PartitionRequest *req = dsm_segment_address(seg);
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;

	memcpy(req, req_in, sizeof(PartitionRequest));

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "gemini_etl", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "gemini_partition_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "gemini_etl partition maker for PID %d", MyProcPid);
	strlcpy(worker.bgw_type, "gemini_etl partition maker", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		dsm_detach(seg);
		return false;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED || status == BGWH_STOPPED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL, (errcode(ERRCODE_ADMIN_SHUTDOWN), errmsg("postmaster exited")));

	memcpy(req_in, req, sizeof(PartitionRequest));
	dsm_detach(seg);
	return true;
}

/*
 * Does this transaction already hold a lock on parent's DEFAULT partition
 * (say, after a DELETE or SELECT on the whole table)?  Then a worker could
 * never attach a partition (it needs that partition exclusively) and would
 * wait on us while we wait on it.
 */
static bool
default_locked_by_me(const char *parent)
{
	Oid			parent_oid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(parent)),
											  NoLock, true);
	Oid			def;
	Relation	rel;
	bool		locked;

	if (!OidIsValid(parent_oid))
		return false;
	def = get_default_partition_oid(parent_oid);
	if (!OidIsValid(def))
		return false;
	rel = RelationIdGetRelation(def);
	if (rel == NULL)
		return false;
	locked = CheckRelationLockedByMe(rel, AccessShareLock, true);
	RelationClose(rel);
	return locked;
}

/*
 * Run gemini.ensure_day_partitions() for each range of req in the current
 * transaction (SPI connected): the worker's calls, or the caller's own when
 * the worker cannot be used.
 */
static void
ensure_here(PartitionRequest *req)
{
	Oid			argtypes[3] = {TEXTOID, DATEOID, DATEOID};

	for (int i = 0; i < req->nranges; i++)
	{
		PartitionRange *r = &req->ranges[i];
		Datum		values[3];
		bool		isnull;

		values[0] = CStringGetTextDatum(r->parent);
		values[1] = DateADTGetDatum(r->first_day);
		values[2] = DateADTGetDatum(r->last_day);
		if (SPI_execute_with_args("SELECT created, default_rows FROM gemini.ensure_day_partitions($1::regclass, $2, $3)",
								  3, argtypes, values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "gemini.ensure_day_partitions returned no row");
		r->created = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		r->default_rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
}

void
store_ensure_day_partitions(const char *parent, DateADT first, DateADT last)
{
	StorePartitionNeed need = {parent, first, last, last};

	store_ensure_partitions(&need, 1);
}

void
store_ensure_partitions(const StorePartitionNeed *needs, int n)
{
	PartitionRequest req = {0};
	DateADT		today = store_day_of(GetCurrentTimestamp());
	bool		default_locked = false;
	const char *parents = NULL;

	bool		needed = false;

	Assert(n <= MAX_REQUEST_PARENTS);
	/* Is any day needed now missing?  (Days only wanted ahead start no worker.) */
	for (int i = 0; i < n && !needed; i++)
		for (DateADT d = needs[i].first; d <= needs[i].last && !needed; d++)
			if (!day_known(needs[i].parent, d))
			{
				if (partition_exists(needs[i].parent, d))
					remember_day(needs[i].parent, d);
				else
					needed = true;
			}
	if (!needed)
		return;

	for (int i = 0; i < n; i++)
	{
		DateADT		lo = DATEVAL_NOEND,
					hi = DATEVAL_NOBEGIN;
		DateADT		last = Max(needs[i].last, needs[i].ahead);

		/* Rows of today (or later): make the next days' partitions now, ahead of need. */
		if (last >= today && last < today + DAYS_AHEAD)
			last = today + DAYS_AHEAD;

		/* Narrow the range to the days not yet known to exist. */
		for (DateADT d = needs[i].first; d <= last; d++)
		{
			if (day_known(needs[i].parent, d))
				continue;
			if (partition_exists(needs[i].parent, d))
			{
				remember_day(needs[i].parent, d);
				continue;
			}
			lo = Min(lo, d);
			hi = Max(hi, d);
		}
		if (lo > hi)
			continue;
		strlcpy(req.ranges[req.nranges].parent, needs[i].parent, sizeof(req.ranges[req.nranges].parent));
		req.ranges[req.nranges].first_day = lo;
		req.ranges[req.nranges].last_day = hi;
		req.nranges++;
		default_locked |= default_locked_by_me(needs[i].parent);
		parents = parents ? psprintf("%s, %s", parents, needs[i].parent) : needs[i].parent;
	}
	if (req.nranges == 0)
		return;
	req.dbid = MyDatabaseId;

	/*
	 * Normally a worker does it, in its own short transaction.  If this
	 * transaction itself already locks a DEFAULT partition, that cannot
	 * work; then attach here, accepting that the locks last until commit.
	 */
	if (default_locked)
	{
		ensure_here(&req);
		req.done = true;
	}
	else if (!run_partition_worker(&req))
	{
		ereport(LOG,
				(errmsg("gemini_etl: no background worker slot free; creating partitions of %s in this transaction",
						parents),
				 errhint("Raise max_worker_processes so partitions are made in a transaction of their own.")));
		ensure_here(&req);
		req.done = true;
	}

	/*
	 * The worker committed new partitions, but this backend still holds the
	 * parent locked from earlier pages and so has not yet read the catalog
	 * invalidations: read them now, or tuple routing would keep using the
	 * old partition map and send the new day's rows to DEFAULT.
	 */
	AcceptInvalidationMessages();

	if (!req.done)
		ereport(ERROR,
				(errcode(req.sqlerrcode ? req.sqlerrcode : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not create daily partitions of %s: %s", parents,
						req.message[0] ? req.message : "the partition worker exited without a result"),
				 req.detail[0] ? errdetail("%s", req.detail) : 0,
				 errhint("%s", req.hint[0] ? req.hint :
						 "The partitions are made by a background worker in a transaction of its own; "
						 "if this transaction holds a lock on a partition of the table (for example after a SELECT on it), "
						 "run the pull in a transaction of its own.")));
	for (int i = 0; i < req.nranges; i++)
	{
		PartitionRange *r = &req.ranges[i];

		if (r->default_rows > 0)
			ereport(WARNING,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("the DEFAULT partition of %s holds " INT64_FORMAT " rows", r->parent, r->default_rows),
					 errdetail("gemini_etl never routes rows there; they were inserted by other means."),
					 errhint("SELECT * FROM gemini.check_partitions(); move the rows into daily partitions.")));
		for (DateADT d = r->first_day; d <= r->last_day; d++)
			remember_day(r->parent, d);
	}
}

/*
 * The worker: one transaction, one call, result into shared memory, exit.
 */
void
gemini_partition_worker_main(Datum arg)
{
	dsm_segment *seg;
	PartitionRequest *req;
	MemoryContext oldcxt;

	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the requester is gone */
	req = dsm_segment_address(seg);

	/* no role: the bootstrap superuser, which needs no LOGIN (see the header) */
	BackgroundWorkerInitializeConnectionByOid(req->dbid, InvalidOid, 0);
	pgstat_report_appname("gemini_etl partition maker");
	gemini_pin_search_path();

	oldcxt = CurrentMemoryContext;
	StartTransactionCommand();
	PG_TRY();
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		/* Never wait long: the requester may itself hold a conflicting lock. */
		SetConfigOption("lock_timeout", "10s", PGC_USERSET, PGC_S_SESSION);
		ensure_here(req);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		req->done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		req->sqlerrcode = edata->sqlerrcode;
		strlcpy(req->message, edata->message ? edata->message : "", sizeof(req->message));
		strlcpy(req->detail, edata->detail ? edata->detail : "", sizeof(req->detail));
		strlcpy(req->hint, edata->hint ? edata->hint : "", sizeof(req->hint));
		AbortCurrentTransaction();
	}
	PG_END_TRY();

	dsm_detach(seg);
	proc_exit(0);
}
