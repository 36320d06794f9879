/*
 * runs_sink.c
 *	  gemini.runs and gemini.run_steps, the pipeline's ledger.  Each write
 *	  is a short transaction of its own, so the ledger shows a run's
 *	  progress while it runs, and a step's failure survives the abort of
 *	  the step's own transaction.  Called by the pipeline worker, which is
 *	  connected as the bootstrap superuser (the tables are read-only to
 *	  users).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "jobs/pipeline.h"
#include "store/spi_util.h"

static void
exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expected)
{
	MemoryContext back = CurrentMemoryContext;
	int			rc;

	spi_xact_begin();
	rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	if (rc != expected)
		elog(ERROR, "gemini_etl: could not write the pipeline's ledger: %s", SPI_result_code_string(rc));
	spi_xact_commit(back);
}

static Datum
text_or_empty(const char *s)
{
	return CStringGetTextDatum(s ? s : "");
}

/* An error as the three parameters sqlstate, message, detail at v[0..2] (all NULL without one). */
static void
put_error(Datum *v, char *n, const ErrorData *err)
{
	v[0] = CStringGetTextDatum(err ? unpack_sql_state(err->sqlerrcode) : "");
	v[1] = text_or_empty(err ? err->message : NULL);
	v[2] = text_or_empty(err ? err->detail : NULL);
	n[0] = n[1] = n[2] = err ? ' ' : 'n';
}

void
runs_mark_interrupted(void)
{
	exec(RUNS_MARK_INTERRUPTED_SQL, 0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

void
runs_begin(const PipelineRequest *req, int pid)
{
	Oid			types[7] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID, TEXTOID, OIDOID, INT4OID};
	Datum		v[7];
	const char *syms[PIPELINE_MAX_SYMBOLS];

	for (int i = 0; i < req->nsymbols; i++)
		syms[i] = req->symbols[i];
	v[0] = Int64GetDatum(req->run_id);
	v[1] = TimestampTzGetDatum(req->start);
	v[2] = TimestampTzGetDatum(req->end);
	v[3] = spi_text_array(syms, req->nsymbols, sizeof(char *));
	v[4] = CStringGetTextDatum(req->trigger);
	v[5] = ObjectIdGetDatum(req->userid);
	v[6] = Int32GetDatum(pid);
	exec("INSERT INTO gemini.runs (run_id, interval_start, interval_end, symbols, status, trigger, run_as, pid)"
		 " VALUES ($1, $2, $3, $4, 'running', $5, $6::pg_catalog.regrole, $7)",
		 7, types, v, NULL, SPI_OK_INSERT);
}

void
runs_step_begin(int64 run_id, const char *step, const char *symbol, int attempt)
{
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, INT4OID};
	Datum		v[4] = {Int64GetDatum(run_id), CStringGetTextDatum(step), text_or_empty(symbol), Int32GetDatum(attempt)};

	exec("INSERT INTO gemini.run_steps (run_id, step, symbol, attempt, started_at)"
		 " VALUES ($1, $2, $3, $4, pg_catalog.clock_timestamp())",
		 4, types, v, NULL, SPI_OK_INSERT);
}

void
runs_step_end(int64 run_id, const char *step, const char *symbol, int attempt,
			  bool ok, int64 rows, const ErrorData *err)
{
	Oid			types[8] = {INT8OID, TEXTOID, TEXTOID, INT4OID, INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[8];
	char		n[9] = "        ";

	v[0] = Int64GetDatum(run_id);
	v[1] = CStringGetTextDatum(step);
	v[2] = text_or_empty(symbol);
	v[3] = Int32GetDatum(attempt);
	v[4] = Int64GetDatum(rows);
	n[4] = ok ? ' ' : 'n';
	put_error(&v[5], &n[5], err);
	exec("UPDATE gemini.run_steps SET finished_at = pg_catalog.clock_timestamp(), rows = $5,"
		 " sqlstate = $6, message = $7, detail = NULLIF($8, '')"
		 " WHERE run_id = $1 AND step = $2 AND symbol = $3 AND attempt = $4",
		 8, types, v, n, SPI_OK_UPDATE);
}

void
runs_finish(int64 run_id, bool ok, const char *failed_step, const char *failed_rule,
			const ErrorData *err, const char *rows_json)
{
	Oid			types[8] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[8];
	char		n[9] = "        ";

	v[0] = Int64GetDatum(run_id);
	v[1] = CStringGetTextDatum(ok ? "succeeded" : "failed");
	v[2] = text_or_empty(failed_step);
	v[3] = text_or_empty(failed_rule);
	put_error(&v[4], &n[4], err);
	v[7] = CStringGetTextDatum(rows_json);
	exec("UPDATE gemini.runs SET status = $2, finished_at = pg_catalog.clock_timestamp(), pid = NULL,"
		 " failed_step = NULLIF($3, ''), failed_rule = NULLIF($4, ''), sqlstate = $5, message = $6,"
		 " detail = NULLIF($7, ''), rows = $8::jsonb WHERE run_id = $1",
		 8, types, v, n, SPI_OK_UPDATE);
}
