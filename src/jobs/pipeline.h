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

/* runs_sink.c: the ledger, each write a short transaction of its own (worker) */
extern void runs_mark_interrupted(void);
extern void runs_begin(const PipelineRequest *req, int pid);
extern void runs_step_begin(int64 run_id, const char *step, const char *symbol, int attempt);
extern void runs_step_end(int64 run_id, const char *step, const char *symbol, int attempt,
						  bool ok, int64 rows, const ErrorData *err);
extern void runs_finish(int64 run_id, bool ok, const char *failed_step, const char *failed_rule,
						const ErrorData *err, const char *rows_json);

#endif
