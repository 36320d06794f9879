/*
 * pipeline.h
 *	  The hourly pipeline: a run of pull -> quality(raw) -> transform ->
 *	  quality(curated) -> export over a data interval, carried out by a
 *	  background worker with a transaction per step attempt (pipeline.c
 *	  starts it and waits; pipeline_worker.c runs the steps; the ledger is
 *	  gemini.runs and gemini.run_steps, written by store/runs_sink.c).
 */
#ifndef GEMINI_PIPELINE_H
#define GEMINI_PIPELINE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define PIPELINE_MAX_SYMBOLS	64
#define PIPELINE_SYMBOL_LEN		32
#define PIPELINE_LOCK_CLASS		0x4750524e	/* "GPRN" */

/* What the caller hands the worker (in a DSM segment), and gets back. */
typedef struct PipelineRequest
{
	Oid			dbid;
	Oid			userid;			/* the steps run as this role */
	int64		run_id;
	TimestampTz start;
	TimestampTz end;
	char		trigger[16];	/* manual, schedule, backfill */
	int			nsymbols;
	char		symbols[PIPELINE_MAX_SYMBOLS][PIPELINE_SYMBOL_LEN];
	/* filled by the worker */
	bool		finished;
	bool		succeeded;
	char		message[512];
} PipelineRequest;

/* The steps, in order (their names in gemini.run_steps.step). */
typedef enum PipelineStep
{
	STEP_PULL,
	STEP_QUALITY_RAW,
	STEP_TRANSFORM,
	STEP_QUALITY_CURATED,
	STEP_EXPORT
} PipelineStep;

extern const char *pipeline_step_name(PipelineStep s);

/*
 * Runs still 'running' whose worker is gone (a crash, a restart, a
 * terminate) become 'failed': at the start of every run, and by the
 * supervisor at server start and every 15 minutes.
 */
#define RUNS_MARK_INTERRUPTED_SQL \
	"UPDATE gemini.runs r SET status = 'failed', finished_at = pg_catalog.now(), pid = NULL," \
	" sqlstate = '57P01', message = 'the run was interrupted (server crash, restart or terminated worker)'," \
	" detail = 'Its worker (PID ' || r.pid || ') is gone; the interval stays due.'" \
	" WHERE r.status = 'running' AND NOT EXISTS" \
	"  (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) r.pid)"

/* runs_sink.c: the ledger, each write a short transaction of its own (worker) */
extern void runs_mark_interrupted(void);
extern void runs_begin(const PipelineRequest *req, int pid);
extern void runs_step_begin(int64 run_id, const char *step, const char *symbol, int attempt);
extern void runs_step_end(int64 run_id, const char *step, const char *symbol, int attempt,
						  bool ok, int64 rows, const ErrorData *err);
extern void runs_finish(int64 run_id, bool ok, const char *failed_step, const char *failed_rule,
						const ErrorData *err, const char *rows_json);

#endif
