/*
 * stream.h
 *	  Streams: the worker that serves one, the supervisor that restarts
 *	  them, and the REST backfill the worker runs after each connect.
 */
#ifndef GEMINI_STREAM_H
#define GEMINI_STREAM_H

#include "postgres.h"

#include <signal.h>

/* advisory lock class held (session-level) by the worker serving a stream */
#define STREAM_LOCK_CLASS	0x47535452	/* "GSTR" */

/* bgw_extra of a stream worker */
typedef struct StreamWorkerArgs
{
	Oid			dbid;
	Oid			userid;
	int32		stream_id;
} StreamWorkerArgs;

extern bool gemini_launch_stream_worker(Oid dbid, Oid userid, int32 stream_id, bool wait_start);
extern void gemini_register_supervisor(void);
extern bool gemini_supervisor_running(void);

/*
 * Pages /v1/trades of symbol from its watermark up to now, committing each
 * page in a transaction of its own (so no transaction is open while a
 * request waits).  Must be called with no transaction open.  Returns the
 * number of trades newly stored; *stop is checked between pages.
 */
extern int64 gemini_backfill_symbol(const char *symbol,
									volatile sig_atomic_t *stop);

PGDLLEXPORT void gemini_stream_worker_main(Datum arg);
PGDLLEXPORT void gemini_supervisor_main(Datum arg);

#endif
