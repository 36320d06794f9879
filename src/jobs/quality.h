/*
 * quality.h
 *	  Data-quality rules (DQDL) compiled to SQL and evaluated over an
 *	  interval of a table: the shared shapes of quality_target.c (what the
 *	  table looks like), quality_compile.c (rule -> SQL), quality_eval.c
 *	  (running the SQL, judging outcomes) and quality_api.c (the SQL-facing
 *	  functions).
 *
 * How a check runs (see quality_eval.c): every per-row rule of one owner is
 * one set of aggregates in ONE scan of the interval; rules over groups
 * (uniqueness, distinct values, entropy) are one GROUP BY each, skipped when
 * a unique index proves the answer; CustomSql runs on its own.  Each rule is
 * then judged from its metric, and a rule that cannot run gets the outcome
 * 'error', never an exception.
 */
#ifndef GEMINI_QUALITY_H
#define GEMINI_QUALITY_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "dqdl.h"

/* How many failing keys a result keeps as its sample. */
#define QUALITY_SAMPLE_KEYS 5

/* ---------- quality_target.c ---------- */

typedef struct QColumn
{
	char	   *name;			/* as in the catalog */
	Oid			typid;
	int32		typmod;
	bool		notnull;
} QColumn;

typedef struct QTarget
{
	Oid			relid;
	char	   *qualname;		/* schema.table, quoted for SQL (and in messages) */
	int			ncols;
	QColumn    *cols;
	int			time_col;		/* index in cols of the interval column, or -1 */
	bool		partitioned;
	char	   *key_sql;		/* text SQL of a row's key, over alias t */
	bool		has_symbol_tid; /* symbol text and tid bigint: quarantine fills them */
} QTarget;

extern QTarget *quality_target_open(Oid relid);
extern int	quality_target_column(const QTarget *t, const char *name);

/*
 * Is uniqueness of these columns over the interval proven by unique indexes,
 * without reading a row?  Every partition the interval touches (or the table)
 * must have a valid, non-partial unique index on a subset of the columns, all
 * NOT NULL, and when more than one partition is touched, the partition key
 * must be among the columns.  *why names the index (palloc'd).
 */
extern bool quality_unique_proven(const QTarget *t, const int *cols, int ncols,
								  const char *interval_sql, char **why);

/* ---------- quality_compile.c ---------- */

typedef enum QJudge
{
	QJ_COND,					/* metric <cond> */
	QJ_ALL_ROWS,				/* every row passes: failing rows = 0 */
	QJ_THRESHOLD,				/* fraction of passing rows <threshold> */
	QJ_ONE						/* metric = 1 (ColumnExists) */
} QJudge;

typedef enum QKind
{
	QK_SCAN_ROWS,				/* per-row predicate, in the one scan */
	QK_SCAN_AGG,				/* one aggregate, in the one scan */
	QK_GROUP,					/* a GROUP BY over the rule's columns */
	QK_CATALOG,					/* from the catalog (ColumnCount, ColumnExists) */
	QK_CUSTOM,					/* CustomSql */
	QK_COMPOSITE				/* and/or of children */
} QKind;

typedef struct QNode
{
	const dq_rule *rule;
	QKind		kind;
	QJudge		judge;
	const dq_cond *cond;		/* what the metric is judged with (COND, THRESHOLD) */

	/* QK_SCAN_ROWS (and row-level composites): */
	char	   *filter;			/* `where`, parenthesised; NULL = every row */
	char	   *row_pass;		/* boolean SQL over alias t, never NULL-valued */
	/* QK_SCAN_AGG: */
	char	   *agg;			/* aggregate SQL over alias t */
	/* QK_GROUP: */
	int		   *gcols;
	int			ngcols;
	/* QK_CATALOG: the metric, known at compile time */
	char	   *catalog_metric;
	/* QK_CUSTOM: the statement with primary bound */
	char	   *custom_sql;

	/* QK_COMPOSITE */
	int			nchildren;
	struct QNode **children;
	bool		row_level;		/* row_pass usable (for failing rows and quarantine) */

	/* filled by evaluation */
	int			scan_col;		/* first of its columns in the scan, or -1 */
	char	   *outcome;		/* "pass", "fail", "error" */
	char	   *metric;			/* numeric text or NULL */
	int64		failing;		/* -1 = not a row-level rule */
	Datum		sample;			/* text[] or 0 */
	char	   *detail;
	int64		quarantined;
} QNode;

/*
 * Compile a parsed rule for target t.  rule_id feeds last()/index() history.
 * Errors (unknown column, wrong type of column, bad reference) are
 * ereport(ERROR)s meant for gemini_add_rule; rule_text is for messages.
 */
extern QNode *quality_compile(const dq_rule *r, const QTarget *t, int rule_id, const char *rule_text);

/* SQL for a DQDL value over history of rule_id (numeric, interval, text...). */
extern void quality_value_sql(StringInfo buf, const dq_value *v, int rule_id);

/* SQL of a condition applied to lhs (e.g. "$1" or "t.price"). */
extern void quality_cond_sql(StringInfo buf, const char *lhs, const dq_cond *c, int rule_id);

/* ---------- quality_eval.c ---------- */

typedef struct QRule
{
	int			rule_id;
	char	   *rule_name;
	char	   *rule_text;
	char	   *severity;
	Oid			owner;
	dq_ruleset *parsed;			/* NULL when it no longer parses */
	QNode	   *node;			/* outcome 'error' already when it could not compile */
	TimestampTz started;
	TimestampTz finished;
} QRule;

/* "t.tcol >= '...' AND t.tcol < '...'" or "true"; literal UTC timestamps. */
extern char *quality_interval_sql(const QTarget *t, bool has_start, TimestampTz start,
								  bool has_end, TimestampTz end);

/*
 * Evaluate rules (all on target t, all of one owner, who is the current
 * user) over the interval; fills each node's outcome, metric, failing,
 * sample and detail; moves failing rows of 'quarantine' rules (returned as
 * jsonb texts with their rule ids, for the sink, which writes them as the
 * extension's owner).
 */
typedef struct QMoved
{
	int			n;
	int			cap;
	char	  **row_json;
	int		   *rule_id;
	char	  **reason;
} QMoved;

/* fn(arg) in a subtransaction; false and the error's message when it fails. */
extern bool quality_guarded(void (*fn) (void *), void *arg, char **err);

/* The per-row rules and aggregates under n, and the one SELECT that measures them. */
extern void quality_collect_scan_nodes(QNode *n, List **out);
extern char *quality_scan_sql(const QTarget *t, List *nodes, const char *interval_sql);

extern void quality_evaluate(const QTarget *t, QRule **rules, int nrules,
							 const char *interval_sql, QMoved *moved);

/* ---------- store/quality_sink.c ---------- */

extern int64 store_quality_evaluation(Oid target, bool has_start, TimestampTz start, bool has_end,
									  TimestampTz end, int64 run_id, int run, int passed, int failed,
									  int errored, int64 quarantined, TimestampTz at, TimestampTz finished);
extern void store_quality_result(int64 evaluation_id, const QRule *r, Oid target, bool has_start,
								 TimestampTz start, bool has_end, TimestampTz end, int64 run_id);
extern int64 store_quality_quarantine(const QTarget *t, const QMoved *moved, int64 run_id);
extern void store_quality_notify(const QRule *r, const QTarget *t, bool has_start, TimestampTz start,
								 bool has_end, TimestampTz end, int64 run_id);

/*
 * The whole check, for gemini_check_quality() and (later) the pipeline:
 * returns the evaluated rules (their nodes hold the outcomes).
 */
extern QRule **quality_check(Oid relid, bool has_start, TimestampTz start, bool has_end,
							 TimestampTz end, int64 run_id, int *nrules, int64 *evaluation_id);

#endif
