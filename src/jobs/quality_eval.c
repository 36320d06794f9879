/*
 * quality_eval.c
 *	  Runs compiled rules over an interval of their table and judges them.
 *
 * Cost is what matters (this runs every hour on every layer), so every
 * per-row rule (ColumnValues, Completeness, lengths, freshness, references)
 * and every aggregate (RowCount, Mean, Sum, StandardDeviation) of the rules
 * given becomes a few aggregates of ONE SELECT over the interval, which the
 * planner prunes to the interval's partitions.  Uniqueness-type rules need a
 * GROUP BY each, unless unique indexes prove the answer; CustomSql runs
 * alone.
 *
 * A rule that cannot run is an outcome ('error'), never an exception: each
 * query runs in a subtransaction, and if the one scan fails, its rules are
 * run one by one to find which of them failed.  Queries run read-only (a
 * data-modifying CustomSql is refused by SPI), as the rules' owner, which
 * the caller has made the current user.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "jobs/quality.h"

/*
 * Call fn(arg) in a subtransaction; on error roll it back and return the
 * error's message in *err.  Like a PL/pgSQL EXCEPTION block.
 */
bool
quality_guarded(void (*fn) (void *), void *arg, char **err)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool		ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		*err = ed->message;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

typedef void (*QResultFn) (void *arg);

typedef struct GuardedQuery
{
	const char *sql;
	bool		read_only;
	QResultFn	fn;
	void	   *arg;
} GuardedQuery;

static void
run_query(void *arg)
{
	GuardedQuery *q = arg;
	int			rc = SPI_execute(q->sql, q->read_only, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (q->fn)
		q->fn(q->arg);
}

/* Run sql in a subtransaction; on success fn reads SPI_tuptable. */
static bool
run_guarded(const char *sql, bool read_only, QResultFn fn, void *arg, char **err)
{
	GuardedQuery q = {sql, read_only, fn, arg};

	return quality_guarded(run_query, &q, err);
}

static char *
cell_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static int64
cell_int64(int row, int col)
{
	char	   *s = cell_text(row, col);

	return s ? pg_strtoint64(s) : 0;
}

/* ---------- timestamps as SQL literals ---------- */

static char *
ts_literal(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_IS_NOBEGIN(ts))
		return pstrdup("'-infinity'::pg_catalog.timestamptz");
	if (TIMESTAMP_IS_NOEND(ts))
		return pstrdup("'infinity'::pg_catalog.timestamptz");
	/* no time zone given: the fields are UTC, whatever the session says */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return psprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d+00'::pg_catalog.timestamptz",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

char *
quality_interval_sql(const QTarget *t, bool has_start, TimestampTz start, bool has_end, TimestampTz end)
{
	StringInfoData buf;
	const char *col;

	if (t->time_col < 0 || (!has_start && !has_end))
		return pstrdup("true");
	col = quote_identifier(t->cols[t->time_col].name);
	initStringInfo(&buf);
	if (has_start)
		appendStringInfo(&buf, "t.%s >= %s", col, ts_literal(start));
	if (has_start && has_end)
		appendStringInfoString(&buf, " AND ");
	if (has_end)
		appendStringInfo(&buf, "t.%s < %s", col, ts_literal(end));
	return buf.data;
}

/* ---------- the one scan ---------- */

void
quality_collect_scan_nodes(QNode *n, List **out)
{
	if (n->kind == QK_SCAN_ROWS || n->kind == QK_SCAN_AGG || (n->kind == QK_COMPOSITE && n->row_level))
		*out = lappend(*out, n);
	if (n->kind == QK_COMPOSITE)
		for (int i = 0; i < n->nchildren; i++)
			quality_collect_scan_nodes(n->children[i], out);
}

static void
append_filter(StringInfo buf, const char *filter, const char *extra)
{
	if (filter && extra)
		appendStringInfo(buf, " FILTER (WHERE %s AND %s)", filter, extra);
	else if (filter || extra)
		appendStringInfo(buf, " FILTER (WHERE %s)", filter ? filter : extra);
}

char *
quality_scan_sql(const QTarget *t, List *nodes, const char *interval_sql)
{
	StringInfoData buf;
	ListCell   *lc;
	int			col = 1;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT pg_catalog.count(*)");
	foreach(lc, nodes)
	{
		QNode	   *n = lfirst(lc);

		n->scan_col = ++col;
		if (n->kind == QK_SCAN_AGG)
		{
			appendStringInfo(&buf, ", %s", n->agg);
			append_filter(&buf, n->filter, NULL);
			continue;
		}
		/* rows considered, rows failing, a sample of their keys, fraction passing */
		{
			char	   *fail = psprintf("NOT %s", n->row_pass);

			appendStringInfoString(&buf, ", pg_catalog.count(*)");
			append_filter(&buf, n->filter, NULL);
			appendStringInfoString(&buf, ", pg_catalog.count(*)");
			append_filter(&buf, n->filter, fail);
			appendStringInfo(&buf, ", gemini.key_sample(%s)", t->key_sql);
			append_filter(&buf, n->filter, fail);
			appendStringInfoString(&buf, ", COALESCE(pg_catalog.trim_scale(1 - (pg_catalog.count(*)");
			append_filter(&buf, n->filter, fail);
			appendStringInfoString(&buf, ")::pg_catalog.numeric / NULLIF(pg_catalog.count(*)");
			append_filter(&buf, n->filter, NULL);
			appendStringInfoString(&buf, ", 0)), 1)");
			col += 3;
		}
	}
	appendStringInfo(&buf, " FROM %s t WHERE %s", t->qualname, interval_sql);
	return buf.data;
}

static void
read_scan(void *arg)
{
	ListCell   *lc;

	foreach(lc, (List *) arg)
	{
		QNode	   *n = lfirst(lc);
		bool		isnull;

		if (n->kind == QK_SCAN_AGG)
		{
			n->metric = cell_text(0, n->scan_col);
			continue;
		}
		n->failing = cell_int64(0, n->scan_col + 1);
		n->sample = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, n->scan_col + 2, &isnull);
		n->sample = isnull ? (Datum) 0 : PointerGetDatum(DatumGetArrayTypePCopy(n->sample));
		n->metric = cell_text(0, n->scan_col + 3);
		n->outcome = NULL;
	}
}

static void
run_scan(const QTarget *t, List *nodes, const char *interval_sql)
{
	char	   *err = NULL;
	ListCell   *lc;

	if (nodes == NIL)
		return;
	if (run_guarded(quality_scan_sql(t, nodes, interval_sql), true, read_scan, nodes, &err))
		return;
	if (list_length(nodes) == 1)
	{
		QNode	   *n = linitial(nodes);

		n->outcome = "error";
		n->detail = err;
		return;
	}
	/* find the rule(s) that cannot run: each alone */
	foreach(lc, nodes)
		run_scan(t, list_make1(lfirst(lc)), interval_sql);
}

/* ---------- rules over groups ---------- */

static void
read_group(void *arg)
{
	QNode	   *n = arg;
	const dq_rule *r = n->rule;
	bool		isnull;
	int64		rows = cell_int64(0, 2);
	int64		groups = cell_int64(0, 1);

	switch (r->type)
	{
		case DQ_RT_ISUNIQUE:
		case DQ_RT_UNIQUENESS:
			n->metric = cell_text(0, 5);
			n->failing = rows - cell_int64(0, 3);
			break;
		case DQ_RT_ISPRIMARYKEY:
			n->metric = cell_text(0, 6);
			n->failing = cell_int64(0, 4);
			break;
		case DQ_RT_UNIQUEVALUERATIO:
			n->metric = cell_text(0, 7);
			break;
		case DQ_RT_DISTINCTVALUESCOUNT:
			n->metric = psprintf(INT64_FORMAT, groups);
			break;
		default:				/* Entropy */
			n->metric = cell_text(0, 8);
			break;
	}
	n->sample = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull);
	n->sample = isnull || n->failing <= 0 ? (Datum) 0 : PointerGetDatum(DatumGetArrayTypePCopy(n->sample));
	n->detail = psprintf(INT64_FORMAT " rows, " INT64_FORMAT " distinct values", rows, groups);
}

static void
run_group(const QTarget *t, QNode *n, const char *interval_sql)
{
	const dq_rule *r = n->rule;
	StringInfoData cols,
				nulls,
				sql;
	char	   *why = NULL;
	char	   *err = NULL;
	bool		proof_applies = (r->type == DQ_RT_ISUNIQUE || r->type == DQ_RT_UNIQUENESS ||
								 r->type == DQ_RT_ISPRIMARYKEY) && n->filter == NULL;

	if (proof_applies && r->type == DQ_RT_ISPRIMARYKEY)
		for (int i = 0; i < n->ngcols; i++)
			proof_applies &= t->cols[n->gcols[i]].notnull;
	if (proof_applies && quality_unique_proven(t, n->gcols, n->ngcols, interval_sql, &why))
	{
		n->metric = "1";
		n->failing = 0;
		n->detail = why;
		return;
	}

	initStringInfo(&cols);
	initStringInfo(&nulls);
	for (int i = 0; i < n->ngcols; i++)
	{
		const char *c = quote_identifier(t->cols[n->gcols[i]].name);

		appendStringInfo(&cols, "%st.%s", i ? ", " : "", c);
		appendStringInfo(&nulls, "%st.%s IS NULL", i ? " OR " : "", c);
	}
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(g.n), 0),"
					 " COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.n = 1), 0),"
					 " COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.n > 1 OR g.hasnull), 0),"
					 " COALESCE(pg_catalog.trim_scale(COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.n = 1), 0)::pg_catalog.numeric"
					 "  / NULLIF(pg_catalog.sum(g.n), 0)), 1),"
					 " COALESCE(pg_catalog.trim_scale(1 - COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.n > 1 OR g.hasnull), 0)::pg_catalog.numeric"
					 "  / NULLIF(pg_catalog.sum(g.n), 0)), 1),"
					 " COALESCE(pg_catalog.trim_scale(pg_catalog.count(*) FILTER (WHERE g.n = 1)::pg_catalog.numeric"
					 "  / NULLIF(pg_catalog.count(*), 0)), 1),"
					 " %s,"
					 " gemini.key_sample(g.k) FILTER (WHERE g.n > 1 OR g.hasnull)"
					 " FROM (SELECT ROW(%s)::text AS k, pg_catalog.count(*) AS n, pg_catalog.bool_or(%s) AS hasnull"
					 " FROM %s t WHERE %s%s%s GROUP BY %s) g",
					 r->type == DQ_RT_ENTROPY
					 ? "CASE WHEN pg_catalog.sum(g.n) > 0 THEN pg_catalog.round(pg_catalog.ln(pg_catalog.sum(g.n)::pg_catalog.numeric)"
					 " - pg_catalog.sum(g.n * pg_catalog.ln(g.n::pg_catalog.numeric)) / pg_catalog.sum(g.n), 12) END"
					 : "NULL",
					 cols.data, nulls.data, t->qualname, interval_sql,
					 n->filter ? " AND " : "", n->filter ? n->filter : "", cols.data);
	if (!run_guarded(sql.data, true, read_group, n, &err))
	{
		n->outcome = "error";
		n->detail = err;
	}
}

/* ---------- CustomSql ---------- */

static void
read_custom(void *arg)
{
	QNode	   *n = arg;

	n->metric = cell_text(0, 1);
}

static void
run_custom(const QTarget *t, QNode *n, const char *interval_sql)
{
	char	   *err = NULL;
	char	   *sql;

	if (n->judge == QJ_THRESHOLD)
		sql = psprintf("WITH \"primary\" AS (SELECT * FROM %s t WHERE %s)"
					   " SELECT COALESCE(pg_catalog.trim_scale((SELECT pg_catalog.count(*) FROM (%s) q)::pg_catalog.numeric"
					   " / NULLIF((SELECT pg_catalog.count(*) FROM \"primary\"), 0)), 1)",
					   t->qualname, interval_sql, n->custom_sql);
	else
		sql = psprintf("WITH \"primary\" AS (SELECT * FROM %s t WHERE %s) SELECT ((%s))::pg_catalog.numeric",
					   t->qualname, interval_sql, n->custom_sql);
	if (!run_guarded(sql, true, read_custom, n, &err))
	{
		n->outcome = "error";
		n->detail = err;
	}
	else
		n->detail = psprintf("the query gave %s", n->metric ? n->metric : "NULL");
}

/* ---------- judging ---------- */

typedef struct JudgeResult
{
	bool		pass;
	char	   *bound;			/* what the metric was compared with */
} JudgeResult;

static void
read_judge(void *arg)
{
	JudgeResult *j = arg;
	char	   *v = cell_text(0, 1);

	j->pass = v != NULL && strcmp(v, "t") == 0;
	j->bound = cell_text(0, 2);
}

static const char *
cond_op_text(dq_op op)
{
	static const char *const names[] = {"", "=", "!=", ">", ">=", "<", "<=", "between", "not between",
	"in", "not in", "matches", "not matches"};

	return names[op];
}

/* metric <cond>, in SQL (dynamic thresholds read this rule's history) */
static void
judge_cond(QNode *n, int rule_id, const char *what)
{
	StringInfoData sql;
	JudgeResult j = {false, NULL};
	char	   *err = NULL;
	const dq_cond *c = n->cond;

	if (n->metric == NULL)
	{
		n->outcome = "fail";
		n->detail = psprintf("no value to judge (%s)", n->detail ? n->detail : "no rows");
		return;
	}
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	quality_cond_sql(&sql, psprintf("%s::pg_catalog.numeric", quote_literal_cstr(n->metric)), c, rule_id);
	appendStringInfoString(&sql, ", concat_ws(' and ', ");
	for (int i = 0; i < c->nvalues && i < 2; i++)
	{
		if (i > 0)
			appendStringInfoString(&sql, ", ");
		if (c->values[i]->kind == DQ_V_STRING || c->values[i]->kind == DQ_V_DURATION || c->values[i]->kind == DQ_V_NOW)
		{
			appendStringInfoString(&sql, "(");
			quality_value_sql(&sql, c->values[i], rule_id);
			appendStringInfoString(&sql, ")::text");
		}
		else
		{
			/* 12, not 12.00000000000000000 (same value) */
			appendStringInfoString(&sql, "pg_catalog.trim_scale((");
			quality_value_sql(&sql, c->values[i], rule_id);
			appendStringInfoString(&sql, ")::pg_catalog.numeric)::text");
		}
	}
	appendStringInfoString(&sql, ")");
	if (!run_guarded(sql.data, true, read_judge, &j, &err))
	{
		n->outcome = "error";
		n->detail = psprintf("cannot compare %s %s with the rule's value: %s", what, n->metric, err);
		return;
	}
	n->outcome = j.pass ? "pass" : "fail";
	n->detail = psprintf("%s %s %s %s %s%s%s", what, n->metric, j.pass ? "satisfies" : "does not satisfy",
						 cond_op_text(c->op), j.bound ? j.bound : "",
						 n->detail ? "; " : "", n->detail ? n->detail : "");
}

static void
append_sample(QNode *n)
{
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			ne;
	StringInfoData buf;

	if (n->sample == (Datum) 0)
		return;
	a = DatumGetArrayTypeP(n->sample);
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &ne);
	if (ne == 0)
		return;
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s; failing keys: ", n->detail);
	for (int i = 0; i < ne; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", nulls[i] ? "NULL" : TextDatumGetCString(elems[i]));
	n->detail = buf.data;
}

static void
judge(QNode *n, int rule_id)
{
	if (n->kind == QK_COMPOSITE)
	{
		bool		is_and = n->rule->kind == DQ_AND;
		bool		any_pass = false,
					all_pass = true,
					any_error = false;
		StringInfoData buf;

		initStringInfo(&buf);
		for (int i = 0; i < n->nchildren; i++)
		{
			QNode	   *c = n->children[i];

			judge(c, rule_id);
			any_error |= strcmp(c->outcome, "error") == 0;
			any_pass |= strcmp(c->outcome, "pass") == 0;
			all_pass &= strcmp(c->outcome, "pass") == 0;
			appendStringInfo(&buf, "%s(%s: %s)", i ? (is_and ? " and " : " or ") : "", c->outcome, c->detail);
		}
		n->outcome = any_error ? "error" : (is_and ? all_pass : any_pass) ? "pass" : "fail";
		n->detail = buf.data;
		if (n->row_level && n->failing > 0 && n->outcome[0] != 'e')
			n->detail = psprintf("%s; " INT64_FORMAT " rows fail the composite", n->detail, n->failing);
		n->metric = NULL;
		if (n->outcome[0] != 'e')
			append_sample(n);
		return;
	}
	if (n->outcome != NULL)		/* could not run */
		return;
	switch (n->judge)
	{
		case QJ_ONE:
			n->outcome = n->metric && strcmp(n->metric, "1") == 0 ? "pass" : "fail";
			n->detail = pstrdup(n->outcome[0] == 'p' ? "the column exists" : "no such column");
			break;
		case QJ_ALL_ROWS:
			n->outcome = n->failing == 0 ? "pass" : "fail";
			if (n->kind == QK_GROUP && n->detail)
				n->detail = psprintf("%s; " INT64_FORMAT " rows fail", n->detail, n->failing);
			else
				n->detail = psprintf(INT64_FORMAT " rows fail; fraction of rows passing %s", n->failing,
									 n->metric ? n->metric : "1");
			break;
		case QJ_THRESHOLD:
			if (n->failing >= 0)
				n->detail = psprintf(INT64_FORMAT " rows fail", n->failing);
			judge_cond(n, rule_id, "fraction of rows passing");
			break;
		case QJ_COND:
			if (n->failing >= 0 && n->kind != QK_GROUP)
				n->detail = psprintf(INT64_FORMAT " rows fail", n->failing);
			judge_cond(n, rule_id, "metric");
			break;
	}
	if (n->outcome[0] != 'e')
		append_sample(n);
}

/* ---------- quarantine ---------- */

typedef struct MoveArg
{
	QMoved	   *moved;
	QRule	  **rules;
	int			nrules;
} MoveArg;

static void
read_moved(void *arg)
{
	MoveArg    *m = arg;
	QMoved	   *mv = m->moved;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		int			rule_id = (int) cell_int64((int) i, 2);

		if (mv->n == mv->cap)
		{
			mv->cap = Max(64, mv->cap * 2);
			mv->row_json = mv->row_json ? repalloc(mv->row_json, sizeof(char *) * mv->cap) : palloc(sizeof(char *) * mv->cap);
			mv->rule_id = mv->rule_id ? repalloc(mv->rule_id, sizeof(int) * mv->cap) : palloc(sizeof(int) * mv->cap);
			mv->reason = mv->reason ? repalloc(mv->reason, sizeof(char *) * mv->cap) : palloc(sizeof(char *) * mv->cap);
		}
		mv->row_json[mv->n] = cell_text((int) i, 1);
		mv->rule_id[mv->n] = rule_id;
		mv->reason[mv->n] = cell_text((int) i, 3);
		mv->n++;
		for (int r = 0; r < m->nrules; r++)
			if (m->rules[r]->rule_id == rule_id)
				m->rules[r]->node->quarantined++;
	}
}

/* Does this rule move its failing rows (and were there any)? */
static bool
moves_rows(const QRule *r)
{
	return strcmp(r->severity, "quarantine") == 0 && r->node->row_level && r->node->failing > 0 &&
		strcmp(r->node->outcome, "error") != 0;
}

/*
 * Move the rows that fail any 'quarantine' rule out of the target, in one
 * DELETE; each moved row names the first rule it failed and the reasons.
 */
static void
quarantine_rows(const QTarget *t, QRule **rules, int nrules, const char *interval_sql, QMoved *moved)
{
	StringInfoData any,
				first,
				why;
	int			n = 0;
	char	   *err = NULL;
	MoveArg		arg = {moved, rules, nrules};

	initStringInfo(&any);
	initStringInfo(&first);
	initStringInfo(&why);
	for (int i = 0; i < nrules; i++)
	{
		QNode	   *nd = rules[i]->node;
		char	   *fails;

		if (!moves_rows(rules[i]))
			continue;
		fails = nd->filter ? psprintf("(%s AND NOT %s)", nd->filter, nd->row_pass) : psprintf("(NOT %s)", nd->row_pass);
		appendStringInfo(&any, "%s%s", n ? " OR " : "", fails);
		appendStringInfo(&first, " WHEN %s THEN %d", fails, rules[i]->rule_id);
		appendStringInfo(&why, "%sCASE WHEN %s THEN %s END", n ? ", " : "", fails,
						 quote_literal_cstr(psprintf("%s (rule %d)", rules[i]->rule_name, rules[i]->rule_id)));
		n++;
	}
	if (n == 0)
		return;
	if (!run_guarded(psprintf("DELETE FROM %s t WHERE %s AND (%s)"
							  " RETURNING pg_catalog.to_jsonb(t.*)::text, CASE%s END,"
							  " pg_catalog.concat_ws('; ', %s)",
							  t->qualname, interval_sql, any.data, first.data, why.data),
					 false, read_moved, &arg, &err))
	{
		for (int i = 0; i < nrules; i++)
			if (moves_rows(rules[i]))
			{
				rules[i]->node->outcome = "error";
				rules[i]->node->detail = psprintf("could not move the failing rows to gemini.quarantine: %s", err);
			}
		moved->n = 0;
	}
}

/* ---------- all of it ---------- */

void
quality_evaluate(const QTarget *t, QRule **rules, int nrules, const char *interval_sql, QMoved *moved)
{
	List	   *scan = NIL;
	TimestampTz scan_start,
				scan_end;

	for (int i = 0; i < nrules; i++)
		quality_collect_scan_nodes(rules[i]->node, &scan);
	scan_start = GetCurrentTimestamp();
	run_scan(t, scan, interval_sql);
	scan_end = GetCurrentTimestamp();

	for (int i = 0; i < nrules; i++)
	{
		QRule	   *r = rules[i];
		List	   *todo;

		/* this rule's share of the scan, plus its own queries */
		r->started = GetCurrentTimestamp() - (scan_end - scan_start);
		todo = list_make1(r->node);
		for (int k = 0; k < list_length(todo); k++)
		{
			QNode	   *n = list_nth(todo, k);

			if (n->kind == QK_GROUP)
				run_group(t, n, interval_sql);
			else if (n->kind == QK_CUSTOM)
				run_custom(t, n, interval_sql);
			else if (n->kind == QK_CATALOG)
				n->metric = n->catalog_metric;
			else if (n->kind == QK_COMPOSITE)
				for (int c = 0; c < n->nchildren; c++)
					todo = lappend(todo, n->children[c]);
		}
		judge(r->node, r->rule_id);
		r->finished = GetCurrentTimestamp();
	}
	quarantine_rows(t, rules, nrules, interval_sql, moved);
}
