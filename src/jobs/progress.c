/*
 * progress.c
 *	  Per-backend progress slots for pulls, in shared memory.
 *
 * A pull runs inside one transaction, so nothing it writes to tables is
 * visible to other sessions until it ends.  These slots are how another
 * session watches a long pull: SELECT * FROM gemini.pull_progress.
 *
 * The slots live in shared memory, which an extension can only get when it
 * is in shared_preload_libraries.  Without preloading the view is empty and
 * the pull still reports progress through NOTICE lines.
 *
 * Each backend writes only its own slot (indexed by backend id) and guards it
 * with a spinlock, so readers never see a half-updated row.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "progress.h"

typedef struct ProgressSlot
{
	slock_t		mutex;
	int			pid;			/* 0 = free */
	char		symbol[32];
	int64		run_id;
	TimestampTz started_at;
	TimestampTz updated_at;
	int64		pages;
	int64		trades_seen;
	int64		trades_new;
	int64		current_tid;
	TimestampTz current_time;
} ProgressSlot;

static ProgressSlot *slots = NULL;
static int	nslots = 0;

static Size
progress_size(void)
{
	return mul_size(MaxBackends + 1, sizeof(ProgressSlot));
}

void
gemini_progress_shmem_request(void)
{
	RequestAddinShmemSpace(progress_size());
}

void
gemini_progress_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("gemini_etl pull progress", progress_size(), &found);
	nslots = MaxBackends + 1;
	if (!found)
	{
		for (int i = 0; i < nslots; i++)
		{
			SpinLockInit(&slots[i].mutex);
			slots[i].pid = 0;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

static ProgressSlot *
my_slot(void)
{
	if (slots == NULL || MyBackendId <= 0 || MyBackendId >= nslots)
		return NULL;
	return &slots[MyBackendId];
}

/* Abort paths and process exit: a slot must never outlive its pull. */
void
gemini_progress_end(void)
{
	ProgressSlot *s = my_slot();

	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->pid = 0;
	SpinLockRelease(&s->mutex);
}

/*
 * A pull ended by FATAL (pg_terminate_backend, a lost client) never reaches
 * its PG_FINALLY: FATAL exits the process without unwinding.  The exit
 * callbacks do run, so the slot is cleared there.
 */
static void
progress_at_exit(int code, Datum arg)
{
	gemini_progress_end();
}

void
gemini_progress_begin(const char *symbol, int64 run_id)
{
	static bool exit_hooked = false;
	ProgressSlot *s = my_slot();
	TimestampTz now = GetCurrentTimestamp();

	if (s == NULL)
		return;
	if (!exit_hooked)
	{
		before_shmem_exit(progress_at_exit, (Datum) 0);
		exit_hooked = true;
	}
	SpinLockAcquire(&s->mutex);
	s->pid = MyProcPid;
	strlcpy(s->symbol, symbol, sizeof(s->symbol));
	s->run_id = run_id;
	s->started_at = now;
	s->updated_at = now;
	s->pages = s->trades_seen = s->trades_new = 0;
	s->current_tid = 0;
	s->current_time = 0;
	SpinLockRelease(&s->mutex);
}

void
gemini_progress_update(int64 pages, int64 trades_seen, int64 trades_new, int64 current_tid,
					   TimestampTz current_time)
{
	ProgressSlot *s = my_slot();
	TimestampTz now = GetCurrentTimestamp();

	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->updated_at = now;
	s->pages = pages;
	s->trades_seen = trades_seen;
	s->trades_new = trades_new;
	s->current_tid = current_tid;
	s->current_time = current_time;
	SpinLockRelease(&s->mutex);
}

PG_FUNCTION_INFO_V1(gemini_pull_progress);

/* SRF behind the gemini.pull_progress view. */
Datum
gemini_pull_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (slots == NULL)
		PG_RETURN_VOID();

	for (int i = 0; i < nslots; i++)
	{
		ProgressSlot copy;
		Datum		values[10];
		bool		nulls[10] = {0};

		SpinLockAcquire(&slots[i].mutex);
		copy = slots[i];
		SpinLockRelease(&slots[i].mutex);
		if (copy.pid == 0)
			continue;

		values[0] = Int32GetDatum(copy.pid);
		values[1] = CStringGetTextDatum(copy.symbol);
		values[2] = Int64GetDatum(copy.run_id);
		values[3] = TimestampTzGetDatum(copy.started_at);
		values[4] = TimestampTzGetDatum(copy.updated_at);
		values[5] = Int64GetDatum(copy.pages);
		values[6] = Int64GetDatum(copy.trades_seen);
		values[7] = Int64GetDatum(copy.trades_new);
		values[8] = Int64GetDatum(copy.current_tid);
		nulls[8] = (copy.current_tid == 0);
		values[9] = TimestampTzGetDatum(copy.current_time);
		nulls[9] = (copy.current_time == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
