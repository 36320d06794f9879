/*
 * stream.h
 *	  Streams: the worker that serves one, the supervisor that restarts
 *	  them, and the REST backfill the worker runs after each connect.
 */
#ifndef GEMINI_STREAM_H
#define GEMINI_STREAM_H

#include "postgres.h"

#include <signal.h>

/* lock class (locks.c) held, session-level, by the worker serving a stream */
#define STREAM_LOCK_CLASS	0x47535452	/* "GSTR"; the stream_status view names it too */

/* bgw_extra of a stream worker; it runs on behalf of the stream's owner */
typedef struct StreamWorkerArgs
{
	Oid			dbid;
	int32		stream_id;
} StreamWorkerArgs;

extern bool gemini_launch_stream_worker(Oid dbid, int32 stream_id, bool wait_start);
extern void gemini_register_supervisor(void);
extern bool gemini_supervisor_running(void);

/*
 * The stream's REST backfill, one page at a time so the worker keeps
 * reading the websocket in between.  It pages /v1/trades of a symbol from
 * its watermark, each page stored (and the watermark moved) in a
 * transaction of its own, so no transaction is open while a request waits.
 * Call with no transaction open.
 *   begin: reads the watermark;
 *   step:  one page; false once caught up, or once it has reached live_tid
 *          (the first trade the websocket delivered; 0 = none yet);
 *   end:   records the run in gemini.pulls; returns the trades it stored;
 *   abort: forgets it (after an error).
 */
typedef struct Backfill Backfill;

extern Backfill *gemini_backfill_begin(const char *symbol);
extern bool gemini_backfill_step(Backfill *b, int64 live_tid);
/*
 * The minutes the last step stored trades in (committed), for the stream's
 * computed candles; valid until the next step.
 */
extern int	gemini_backfill_minutes(Backfill *b, const TimestampTz **minutes);
extern int64 gemini_backfill_end(Backfill *b);
extern void gemini_backfill_abort(Backfill *b);

PGDLLEXPORT void gemini_stream_worker_main(Datum arg);
PGDLLEXPORT void gemini_supervisor_main(Datum arg);

#endif
