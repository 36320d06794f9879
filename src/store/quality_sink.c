/*
 * quality_sink.c
 *	  Writes what a quality check found: the evaluation (with its score),
 *	  one row per rule, the rows a 'quarantine' rule moved, and the
 *	  NOTIFY gemini_quality of each failed rule.
 *
 * The caller runs these as the extension's owner (the tables are read-only
 * to users) and in the check's own transaction, so results, moved rows and
 * notifications commit together or not at all.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "jobs/quality.h"
#include "store/spi_util.h"

static void
set_ts(Datum *v, char *n, bool has, TimestampTz ts)
{
	*v = TimestampTzGetDatum(ts);
	*n = has ? ' ' : 'n';
}

int64
store_quality_evaluation(Oid target, bool has_start, TimestampTz start, bool has_end, TimestampTz end,
						 int64 run_id, int run, int passed, int failed, int errored, int64 quarantined,
						 TimestampTz at, TimestampTz finished)
{
	Oid			types[12] = {REGCLASSOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT4OID, INT4OID,
	INT4OID, INT4OID, INT8OID, OIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[12];
	char		n[13] = "            ";
	bool		isnull;

	v[0] = ObjectIdGetDatum(target);
	set_ts(&v[1], &n[1], has_start, start);
	set_ts(&v[2], &n[2], has_end, end);
	v[3] = Int64GetDatum(run_id);
	n[3] = run_id > 0 ? ' ' : 'n';
	v[4] = Int32GetDatum(run);
	v[5] = Int32GetDatum(passed);
	v[6] = Int32GetDatum(failed);
	v[7] = Int32GetDatum(errored);
	v[8] = Int64GetDatum(quarantined);
	v[9] = ObjectIdGetDatum(GetOuterUserId());
	v[10] = TimestampTzGetDatum(at);
	v[11] = TimestampTzGetDatum(finished);
	if (SPI_execute_with_args("INSERT INTO gemini.quality_evaluations (target, interval_start, interval_end, run_id,"
							  " rules_run, rules_passed, rules_failed, rules_errored, score, rows_quarantined,"
							  " evaluated_by, evaluated_at, duration)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
							  "  pg_catalog.round($6::pg_catalog.numeric / NULLIF($5, 0), 4), $9, $10::pg_catalog.regrole,"
							  "  $11, $12 - $11) RETURNING evaluation_id",
							  12, types, v, n, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "gemini_etl: could not record the quality evaluation");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

void
store_quality_result(int64 evaluation_id, const QRule *r, Oid target, bool has_start, TimestampTz start,
					 bool has_end, TimestampTz end, int64 run_id)
{
	Oid			types[17] = {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, REGCLASSOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTARRAYOID, INT8OID, TEXTOID,
	TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[17];
	char		n[18] = "                 ";
	QNode	   *nd = r->node;

	v[0] = Int64GetDatum(evaluation_id);
	v[1] = Int32GetDatum(r->rule_id);
	v[2] = CStringGetTextDatum(r->rule_name);
	v[3] = CStringGetTextDatum(r->rule_text);
	v[4] = CStringGetTextDatum(r->severity);
	v[5] = ObjectIdGetDatum(target);
	set_ts(&v[6], &n[6], has_start, start);
	set_ts(&v[7], &n[7], has_end, end);
	v[8] = Int64GetDatum(run_id);
	n[8] = run_id > 0 ? ' ' : 'n';
	v[9] = CStringGetTextDatum(nd->outcome);
	v[10] = nd->metric ? CStringGetTextDatum(nd->metric) : (Datum) 0;
	n[10] = nd->metric ? ' ' : 'n';
	v[11] = Int64GetDatum(nd->failing);
	n[11] = nd->failing >= 0 ? ' ' : 'n';
	v[12] = nd->sample;
	n[12] = nd->sample ? ' ' : 'n';
	v[13] = Int64GetDatum(nd->quarantined);
	v[14] = nd->detail ? CStringGetTextDatum(nd->detail) : (Datum) 0;
	n[14] = nd->detail ? ' ' : 'n';
	v[15] = TimestampTzGetDatum(r->finished);
	v[16] = TimestampTzGetDatum(r->started);
	if (SPI_execute_with_args("INSERT INTO gemini.quality_results (evaluation_id, rule_id, rule_name, rule, severity,"
							  " target, interval_start, interval_end, run_id, outcome, metric, failing_rows, sample,"
							  " rows_quarantined, detail, evaluated_at, duration)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::pg_catalog.numeric, $12, $13,"
							  "  $14, $15, $16, $16 - $17)",
							  17, types, v, n, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gemini_etl: could not record a quality result");
}

int64
store_quality_quarantine(const QTarget *t, const QMoved *moved, int64 run_id)
{
	Oid			types[5] = {TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT8OID, REGCLASSOID};
	Datum		v[5];
	char		n[6] = "     ";
	Datum	   *ids;
	char	   *sql;

	if (moved->n == 0)
		return 0;
	ids = palloc(sizeof(Datum) * moved->n);
	for (int i = 0; i < moved->n; i++)
		ids[i] = Int32GetDatum(moved->rule_id[i]);
	v[0] = spi_text_array((const char *const *) moved->row_json, moved->n, sizeof(char *));
	v[1] = PointerGetDatum(construct_array(ids, moved->n, INT4OID, 4, true, TYPALIGN_INT));
	v[2] = spi_text_array((const char *const *) moved->reason, moved->n, sizeof(char *));
	v[3] = Int64GetDatum(run_id);
	n[3] = run_id > 0 ? ' ' : 'n';
	v[4] = ObjectIdGetDatum(t->relid);
	/* symbol and tid are filled when the target has them (gemini.trades) */
	sql = psprintf("INSERT INTO gemini.quarantine (source, symbol, tid, reason, raw, run_id, rule_id, target)"
				   " SELECT 'quality', %s, %s, 'failed quality rule ' OPERATOR(pg_catalog.||) u.reason, u.raw, $4, u.rule_id, $5"
				   "   FROM unnest($1::text[], $2::integer[], $3::text[]) AS u (raw, rule_id, reason)"
				   " ON CONFLICT (source, symbol, tid) WHERE tid IS NOT NULL DO NOTHING",
				   t->has_symbol_tid ? "(u.raw::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) 'symbol'" : "NULL",
				   t->has_symbol_tid ? "((u.raw::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) 'tid')::bigint" : "NULL");
	if (SPI_execute_with_args(sql, 5, types, v, n, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gemini_etl: could not quarantine the rows a quality rule moved");
	return moved->n;
}

static char *
cut(const char *s, int max)
{
	return strlen(s) > (size_t) max ? psprintf("%.*s...", max, s) : pstrdup(s);
}

void
store_quality_notify(const QRule *r, const QTarget *t, bool has_start, TimestampTz start, bool has_end,
					 TimestampTz end, int64 run_id)
{
	Oid			types[11] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		v[11];
	char		n[12] = "           ";
	QNode	   *nd = r->node;

	/* a NOTIFY payload must stay under 8000 bytes */
	v[0] = CStringGetTextDatum(t->qualname);
	v[1] = Int32GetDatum(r->rule_id);
	v[2] = CStringGetTextDatum(cut(r->rule_name, 400));
	v[3] = CStringGetTextDatum(cut(r->rule_text, 1000));
	v[4] = CStringGetTextDatum(r->severity);
	set_ts(&v[5], &n[5], has_start, start);
	set_ts(&v[6], &n[6], has_end, end);
	v[7] = CStringGetTextDatum(nd->outcome);
	v[8] = nd->metric ? CStringGetTextDatum(nd->metric) : (Datum) 0;
	n[8] = nd->metric ? ' ' : 'n';
	v[9] = Int64GetDatum(nd->failing);
	n[9] = nd->failing >= 0 ? ' ' : 'n';
	v[10] = Int64GetDatum(run_id);
	n[10] = run_id > 0 ? ' ' : 'n';
	if (SPI_execute_with_args("SELECT pg_catalog.pg_notify('gemini_quality', pg_catalog.json_build_object("
							  "'target', $1, 'rule_id', $2, 'rule_name', $3, 'rule', $4, 'severity', $5,"
							  " 'interval_start', $6, 'interval_end', $7, 'outcome', $8,"
							  " 'metric', $9::pg_catalog.numeric, 'failing_rows', $10, 'run_id', $11)::text)",
							  11, types, v, n, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not send NOTIFY gemini_quality");
}
