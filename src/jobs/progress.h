/*
 * progress.h
 *	  Live counters of running pulls, readable from any session through
 *	  the gemini.pull_progress view (shared memory; needs preloading).
 */
#ifndef GEMINI_PROGRESS_H
#define GEMINI_PROGRESS_H

#include "datatype/timestamp.h"

extern void gemini_progress_shmem_request(void);
extern void gemini_progress_shmem_startup(void);

extern void gemini_progress_begin(const char *symbol, int64 run_id);
extern void gemini_progress_update(int64 pages, int64 trades_seen, int64 trades_new, int64 current_tid,
								   TimestampTz current_time);
extern void gemini_progress_end(void);

#endif
