/*
 * dqdl.h
 *	  DQDL (AWS Glue Data Quality Definition Language) text -> a rule tree.
 *
 * Part of the parse layer: no PostgreSQL includes, so it is unit-tested and
 * fuzzed on its own (test/unit/test_dqdl.c, test/fuzz).  It never aborts and
 * never prints.  The tree says what a rule means; turning it into SQL over a
 * table (src/jobs/quality_compile.c) is not this layer's business, so names
 * of columns, tables and the text of CustomSql and `where` filters are kept
 * exactly as written (unquoted, unescaped) for the compiler to quote.
 *
 * Grammar accepted (Glue's, see awslabs/dqdl and docs reference-design.md 1.2):
 *
 *   ruleset  := [ "Rules" "=" ] "[" rule { "," rule } [","] "]"
 *   rule     := leaf | "(" rule ")" { ("and"|"or") "(" rule ")" }
 *   leaf     := RuleType { STRING } [ cond ] [ "where" STRING ]
 *               [ "with" "threshold" cond ]
 *   cond     := ("="|"!="|">"|">="|"<"|"<=") value
 *             | ["not"] "between" value "and" value
 *             | ["not"] "in" "[" value { "," value } "]"
 *             | ["not"] "matches" STRING
 *   value    := term { ("+"|"-") term }
 *   term     := factor { ("*"|"/") factor }
 *   factor   := NUMBER [unit] | STRING | "NULL" | "EMPTY" | "WHITESPACES_ONLY"
 *             | "now" "(" ")" | "(" value ")" | "-" factor
 *             | agg "(" "last" "(" INT ")" ")"        agg: avg min max sum median std
 *             | "index" "(" "last" "(" INT ")" "," INT ")"
 *             | "abs" "(" value ")"
 *   unit     := minute(s) | hour(s) | day(s)
 *   # comments run to the end of the line; whitespace and newlines are free.
 *
 * Composite operands must be parenthesised, and one level of a composite
 * uses a single operator ((A) and (B) or (C) is rejected: add parentheses).
 *
 * Recognised but not supported (a DQ_ERR_UNSUPPORTED error naming the
 * feature): the rule types SchemaMatch, RowCountMatch, ColumnNamesMatchPattern,
 * Variance, Range, ColumnCorrelation, DatasetMatch, AggregateMatch,
 * DetectAnomalies, FileFreshness, FileMatch, FileUniqueness, FileSize,
 * AllStatistics; the Analyzers section; constants (x = "..." and $x);
 * labels (DefaultLabels, labels=[...]).
 *
 * Memory: a dq_ruleset owns everything reachable from it (one arena);
 * dq_ruleset_free releases it.
 */
#ifndef DQDL_H
#define DQDL_H

#include <stddef.h>

typedef enum dq_rule_type
{
	DQ_RT_ROWCOUNT = 0,
	DQ_RT_COLUMNCOUNT,
	DQ_RT_COLUMNEXISTS,
	DQ_RT_ISCOMPLETE,
	DQ_RT_COMPLETENESS,
	DQ_RT_ISUNIQUE,
	DQ_RT_UNIQUENESS,
	DQ_RT_ISPRIMARYKEY,
	DQ_RT_UNIQUEVALUERATIO,
	DQ_RT_DISTINCTVALUESCOUNT,
	DQ_RT_COLUMNVALUES,
	DQ_RT_COLUMNLENGTH,
	DQ_RT_COLUMNDATATYPE,
	DQ_RT_MEAN,
	DQ_RT_SUM,
	DQ_RT_STANDARDDEVIATION,
	DQ_RT_ENTROPY,
	DQ_RT_DATAFRESHNESS,
	DQ_RT_REFERENTIALINTEGRITY,
	DQ_RT_CUSTOMSQL
} dq_rule_type;

#define DQ_RT_COUNT (DQ_RT_CUSTOMSQL + 1)

/* "RowCount", "IsComplete", ... as written in DQDL. */
const char *dq_rule_type_name(dq_rule_type t);

typedef enum dq_op
{
	DQ_OP_NONE = 0,				/* no condition (IsComplete "x") */
	DQ_OP_EQ,
	DQ_OP_NE,
	DQ_OP_GT,
	DQ_OP_GE,
	DQ_OP_LT,
	DQ_OP_LE,
	DQ_OP_BETWEEN,				/* exclusive at both ends, as in Glue */
	DQ_OP_NOT_BETWEEN,
	DQ_OP_IN,
	DQ_OP_NOT_IN,
	DQ_OP_MATCHES,				/* regular expression */
	DQ_OP_NOT_MATCHES
} dq_op;

typedef enum dq_unit
{
	DQ_UNIT_NONE = 0,
	DQ_UNIT_MINUTES,
	DQ_UNIT_HOURS,
	DQ_UNIT_DAYS
} dq_unit;

typedef enum dq_agg
{
	DQ_AGG_AVG = 0,
	DQ_AGG_MIN,
	DQ_AGG_MAX,
	DQ_AGG_SUM,
	DQ_AGG_MEDIAN,
	DQ_AGG_STD
} dq_agg;

typedef enum dq_value_kind
{
	DQ_V_NUMBER = 0,			/* text: exact decimal as written, e.g. "0.99", "-5", "1e6" */
	DQ_V_STRING,				/* text: the string's content, escapes resolved */
	DQ_V_NULL,					/* the keyword NULL */
	DQ_V_EMPTY,					/* EMPTY: the empty string */
	DQ_V_WHITESPACES_ONLY,		/* WHITESPACES_ONLY: non-empty, only blanks */
	DQ_V_DURATION,				/* text (decimal) and unit: "2" DQ_UNIT_HOURS */
	DQ_V_NOW,					/* now() */
	DQ_V_LAST,					/* agg over last(k): agg, k */
	DQ_V_INDEX,					/* index(last(k), i): k, index (0 = newest) */
	DQ_V_ABS,					/* abs(left) */
	DQ_V_NEG,					/* -left */
	DQ_V_BINOP					/* left binop right, binop one of + - * / */
} dq_value_kind;

typedef struct dq_value
{
	dq_value_kind kind;
	const char *text;			/* NUMBER, STRING, DURATION */
	dq_unit		unit;			/* DURATION */
	dq_agg		agg;			/* LAST */
	int			k;				/* LAST, INDEX: 1..1000 */
	int			index;			/* INDEX: 0..k-1 */
	char		binop;			/* BINOP: '+', '-', '*', '/' */
	struct dq_value *left;		/* ABS, NEG, BINOP */
	struct dq_value *right;		/* BINOP */
	int			pos;			/* byte offset of the value in the input */
} dq_value;

/* True when v (or anything under it) is a last()/index() reference. */
int			dq_value_is_dynamic(const dq_value *v);

typedef struct dq_cond
{
	dq_op		op;
	int			nvalues;		/* 0 (NONE), 1 (comparisons, MATCHES), 2 (BETWEEN), n >= 1 (IN) */
	dq_value  **values;
	int			pos;			/* byte offset of the operator */
} dq_cond;

typedef enum dq_rule_kind
{
	DQ_LEAF = 0,
	DQ_AND,
	DQ_OR
} dq_rule_kind;

typedef struct dq_rule
{
	dq_rule_kind kind;

	/* DQ_AND, DQ_OR: two or more operands, in order */
	int			nchildren;
	struct dq_rule **children;

	/* DQ_LEAF */
	dq_rule_type type;
	int			nargs;			/* the quoted strings after the rule type */
	const char **args;			/* column names; CustomSql: the statement;
								 * ReferentialIntegrity: "cols" "ref.{cols}" */
	dq_cond		cond;			/* op DQ_OP_NONE when absent */
	const char *where;			/* the `where` filter's SQL text, or NULL */
	int			has_threshold;
	dq_cond		threshold;		/* `with threshold <cond>` when has_threshold */

	/* where the rule's text is in the input: [start, end) byte offsets */
	int			start;
	int			end;
} dq_rule;

typedef enum dq_status
{
	DQ_OK = 0,
	DQ_ERR_SYNTAX,				/* not DQDL; position and what was expected */
	DQ_ERR_UNSUPPORTED,			/* valid DQDL we do not implement; names it */
	DQ_ERR_NOMEM
} dq_status;

typedef struct dq_error
{
	int			pos;			/* byte offset of the error in the input */
	int			line;			/* 1-based */
	int			column;			/* 1-based, in bytes */
	char		message[256];	/* e.g. "expected a comparison operator, found \"foo\"" */
	char		feature[64];	/* DQ_ERR_UNSUPPORTED: e.g. "DetectAnomalies" */
} dq_error;

typedef struct dq_ruleset
{
	int			nrules;
	dq_rule   **rules;
	void	   *arena;			/* private */
} dq_ruleset;

/*
 * One rule (what gemini_add_rule takes): the whole of text[0..len) must be
 * exactly one rule, leaf or composite (surrounding whitespace and comments
 * allowed).  On DQ_OK *out holds nrules == 1.
 */
dq_status	dq_parse_rule(const char *text, size_t len, dq_ruleset **out, dq_error *err);

/*
 * A whole DQDL document as Glue users paste it: Rules = [ ... ] (the
 * "Rules =" may be left out), comments included.  An empty list is an error.
 */
dq_status	dq_parse_ruleset(const char *text, size_t len, dq_ruleset **out, dq_error *err);

void		dq_ruleset_free(dq_ruleset *rs);

/*
 * Rule limits that keep hostile input cheap: at most DQ_MAX_RULES rules per
 * document, DQ_MAX_DEPTH nesting of parentheses (composites and values),
 * DQ_MAX_ARGS strings per rule, DQ_MAX_LIST values in an IN list; more is
 * a DQ_ERR_SYNTAX naming the limit.
 */
#define DQ_MAX_RULES 1000
#define DQ_MAX_DEPTH 32
#define DQ_MAX_ARGS 32
#define DQ_MAX_LIST 10000

#endif							/* DQDL_H */
