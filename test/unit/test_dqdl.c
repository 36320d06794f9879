/*
 * test_dqdl.c
 *	  The DQDL parser (src/parse/dqdl.h): every supported rule type parsed
 *	  into the expected tree, composites, dynamic values and now()
 *	  arithmetic, whole pasted rulesets with their rule spans, and errors
 *	  with their exact line, column and message, unsupported features and
 *	  limits.
 *
 * Most checks compare a rendering of the result with a string: a parsed
 * rule is written back in a canonical DQDL form in which every arithmetic
 * operation is parenthesised (so precedence shows), and an error as
 * "kind[feature]@line:column: message".  That keeps each case on one line
 * while still covering the whole tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dqdl.h"
#include "test_util.h"

void		test_dqdl(void);

/* ---------- rendering results ---------- */

typedef struct sbuf
{
	char		buf[16384];
	size_t		n;
} sbuf;

static void sb_add(sbuf *b, const char *fmt,...) T_PRINTF(2, 3);

static void
sb_add(sbuf *b, const char *fmt,...)
{
	va_list		ap;
	int			w;

	if (b->n >= sizeof(b->buf) - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(b->buf + b->n, sizeof(b->buf) - b->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		b->n += (size_t) w;
	if (b->n > sizeof(b->buf) - 1)
		b->n = sizeof(b->buf) - 1;
}

static const char *const op_names[] = {
	"", "=", "!=", ">", ">=", "<", "<=", "between", "not between", "in",
	"not in", "matches", "not matches"
};
static const char *const unit_names[] = {"", "minutes", "hours", "days"};
static const char *const agg_names[] = {"avg", "min", "max", "sum", "median", "std"};

static void
render_value(sbuf *b, const dq_value *v)
{
	switch (v->kind)
	{
		case DQ_V_NUMBER:
			sb_add(b, "%s", v->text);
			break;
		case DQ_V_STRING:
			sb_add(b, "\"%s\"", v->text);
			break;
		case DQ_V_NULL:
			sb_add(b, "NULL");
			break;
		case DQ_V_EMPTY:
			sb_add(b, "EMPTY");
			break;
		case DQ_V_WHITESPACES_ONLY:
			sb_add(b, "WHITESPACES_ONLY");
			break;
		case DQ_V_DURATION:
			sb_add(b, "%s %s", v->text, unit_names[v->unit]);
			break;
		case DQ_V_NOW:
			sb_add(b, "now()");
			break;
		case DQ_V_LAST:
			sb_add(b, "%s(last(%d))", agg_names[v->agg], v->k);
			break;
		case DQ_V_INDEX:
			sb_add(b, "index(last(%d),%d)", v->k, v->index);
			break;
		case DQ_V_ABS:
			sb_add(b, "abs(");
			render_value(b, v->left);
			sb_add(b, ")");
			break;
		case DQ_V_NEG:
			sb_add(b, "-(");
			render_value(b, v->left);
			sb_add(b, ")");
			break;
		case DQ_V_BINOP:
			sb_add(b, "(");
			render_value(b, v->left);
			sb_add(b, " %c ", v->binop);
			render_value(b, v->right);
			sb_add(b, ")");
			break;
	}
}

static void
render_cond(sbuf *b, const dq_cond *c)
{
	int			i;

	sb_add(b, "%s ", op_names[c->op]);
	if (c->op == DQ_OP_BETWEEN || c->op == DQ_OP_NOT_BETWEEN)
	{
		render_value(b, c->values[0]);
		sb_add(b, " and ");
		render_value(b, c->values[1]);
	}
	else if (c->op == DQ_OP_IN || c->op == DQ_OP_NOT_IN)
	{
		sb_add(b, "[");
		for (i = 0; i < c->nvalues; i++)
		{
			if (i > 0)
				sb_add(b, ", ");
			render_value(b, c->values[i]);
		}
		sb_add(b, "]");
	}
	else
		render_value(b, c->values[0]);
}

static void
render_rule(sbuf *b, const dq_rule *r)
{
	int			i;

	if (r->kind != DQ_LEAF)
	{
		for (i = 0; i < r->nchildren; i++)
		{
			if (i > 0)
				sb_add(b, r->kind == DQ_AND ? " and " : " or ");
			sb_add(b, "(");
			render_rule(b, r->children[i]);
			sb_add(b, ")");
		}
		return;
	}
	sb_add(b, "%s", dq_rule_type_name(r->type));
	for (i = 0; i < r->nargs; i++)
		sb_add(b, " \"%s\"", r->args[i]);
	if (r->cond.op != DQ_OP_NONE)
	{
		sb_add(b, " ");
		render_cond(b, &r->cond);
	}
	if (r->where != NULL)
		sb_add(b, " where \"%s\"", r->where);
	if (r->has_threshold)
	{
		sb_add(b, " with threshold ");
		render_cond(b, &r->threshold);
	}
}

/*
 * Parse text[0..len) as one rule or as a document and render the result;
 * the promises of the interface (out NULL on error, err cleared on
 * success, line and column agreeing with pos, spans inside the input) are
 * checked on the way and a broken one shows up in the string.
 */
static const char *
outcome(const char *text, size_t len, int document)
{
	static sbuf b;
	dq_ruleset *rs = (dq_ruleset *) &b;	/* must be overwritten */
	dq_error	err;
	dq_status	st;
	int			i;

	memset(&err, 'x', sizeof(err));
	st = document ? dq_parse_ruleset(text, len, &rs, &err)
		: dq_parse_rule(text, len, &rs, &err);
	b.n = 0;
	b.buf[0] = '\0';
	if (st == DQ_OK)
	{
		if (rs == NULL)
		{
			sb_add(&b, "[OK with out NULL]");
			return b.buf;
		}
		if (err.message[0] != '\0' || err.pos != 0 || err.feature[0] != '\0')
			sb_add(&b, "[err not cleared] ");
		for (i = 0; i < rs->nrules; i++)
		{
			const dq_rule *r = rs->rules[i];

			if (i > 0)
				sb_add(&b, " ; ");
			render_rule(&b, r);
			if (r->start < 0 || r->start >= r->end || (size_t) r->end > len)
				sb_add(&b, " [bad span %d..%d]", r->start, r->end);
		}
		if (rs->nrules < 1 || (!document && rs->nrules != 1))
			sb_add(&b, " [nrules %d]", rs->nrules);
		dq_ruleset_free(rs);
	}
	else
	{
		int			line = 1;
		int			col = 1;

		if (rs != NULL)
			sb_add(&b, "[out not NULL] ");
		if (err.pos < 0 || (size_t) err.pos > len)
			sb_add(&b, "[pos %d outside input] ", err.pos);
		else
		{
			for (i = 0; i < err.pos; i++)
			{
				col++;
				if (text[i] == '\n')
				{
					line++;
					col = 1;
				}
			}
			if (line != err.line || col != err.column)
				sb_add(&b, "[line/column %d:%d disagree with pos] ", err.line, err.column);
		}
		sb_add(&b, "%s", st == DQ_ERR_SYNTAX ? "syntax" :
			   st == DQ_ERR_UNSUPPORTED ? "unsupported" :
			   st == DQ_ERR_NOMEM ? "nomem" : "?");
		if (st == DQ_ERR_UNSUPPORTED || err.feature[0] != '\0')
			sb_add(&b, "[%s]", err.feature);
		sb_add(&b, "@%d:%d: %s", err.line, err.column, err.message);
	}
	return b.buf;
}

#define RULE(text) outcome((text), strlen(text), 0)
#define DOC(text) outcome((text), strlen(text), 1)

typedef struct dq_case
{
	const char *in;
	const char *want;
} dq_case;

static void
run_cases(const dq_case *cases, size_t n, int document)
{
	size_t		i;

	for (i = 0; i < n; i++)
		t_check_str(outcome(cases[i].in, strlen(cases[i].in), document), cases[i].want,
					__FILE__, __LINE__, cases[i].in);
}

#define RUN_RULES(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]), 0)
#define RUN_DOCS(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]), 1)

/* ---------- the rule types ---------- */

static void
test_rule_types(void)
{
	static const dq_case cases[] = {
		{"RowCount > 0", "RowCount > 0"},
		{"RowCount between 10 and 20", "RowCount between 10 and 20"},
		{"RowCount > 0 where \"side = 'buy'\"", "RowCount > 0 where \"side = 'buy'\""},
		{"ColumnCount = 5", "ColumnCount = 5"},
		{"ColumnExists \"tid\"", "ColumnExists \"tid\""},
		{"IsComplete \"tid\"", "IsComplete \"tid\""},
		{"IsComplete \"fee\" where \"side = 'buy'\"", "IsComplete \"fee\" where \"side = 'buy'\""},
		{"Completeness \"price\" >= 0.99", "Completeness \"price\" >= 0.99"},
		{"IsUnique \"tid\"", "IsUnique \"tid\""},
		{"Uniqueness \"symbol\" \"tid\" > 0.95", "Uniqueness \"symbol\" \"tid\" > 0.95"},
		{"IsPrimaryKey \"symbol\" \"tid\"", "IsPrimaryKey \"symbol\" \"tid\""},
		{"UniqueValueRatio \"side\" < 0.5", "UniqueValueRatio \"side\" < 0.5"},
		{"DistinctValuesCount \"symbol\" in [1, 2, 3]", "DistinctValuesCount \"symbol\" in [1, 2, 3]"},
		{"ColumnValues \"side\" in [\"buy\",\"sell\"]", "ColumnValues \"side\" in [\"buy\", \"sell\"]"},
		{"ColumnValues \"price\" between 0 and 1000000", "ColumnValues \"price\" between 0 and 1000000"},
		{"ColumnValues \"symbol\" matches \"[A-Z]+\" with threshold > 0.95",
		"ColumnValues \"symbol\" matches \"[A-Z]+\" with threshold > 0.95"},
		{"ColumnValues \"symbol\" not matches \"^x\"", "ColumnValues \"symbol\" not matches \"^x\""},
		{"ColumnValues \"x\" not in [NULL, EMPTY, WHITESPACES_ONLY]",
		"ColumnValues \"x\" not in [NULL, EMPTY, WHITESPACES_ONLY]"},
		{"ColumnValues \"x\" in [\"a\", NULL]", "ColumnValues \"x\" in [\"a\", NULL]"},
		{"ColumnValues \"x\" != EMPTY", "ColumnValues \"x\" != EMPTY"},
		{"ColumnValues \"p\" not between -5 and -.5", "ColumnValues \"p\" not between -5 and -.5"},
		{"ColumnValues \"a\" != \"x\" where \"b > 1\" with threshold between 0.5 and 0.9",
		"ColumnValues \"a\" != \"x\" where \"b > 1\" with threshold between 0.5 and 0.9"},
		{"ColumnLength \"symbol\" between 3 and 12", "ColumnLength \"symbol\" between 3 and 12"},
		{"ColumnDataType \"price\" = \"Double\"", "ColumnDataType \"price\" = \"Double\""},
		{"ColumnDataType \"x\" in [\"Integer\", \"Long\"] with threshold > 0.9",
		"ColumnDataType \"x\" in [\"Integer\", \"Long\"] with threshold > 0.9"},
		{"Mean \"price\" > 100", "Mean \"price\" > 100"},
		{"Sum \"amount\" <= 1e6", "Sum \"amount\" <= 1e6"},
		{"StandardDeviation \"price\" < 5.5", "StandardDeviation \"price\" < 5.5"},
		{"Entropy \"side\" >= .5", "Entropy \"side\" >= .5"},
		{"DataFreshness \"ts\" <= 2 hours", "DataFreshness \"ts\" <= 2 hours"},
		{"DataFreshness \"ts\" between 1 minute and 30 minutes",
		"DataFreshness \"ts\" between 1 minutes and 30 minutes"},
		{"DataFreshness \"ts\" > 1.5 day", "DataFreshness \"ts\" > 1.5 days"},
		{"ReferentialIntegrity \"symbol\" \"ref.{symbol}\" = 1.0",
		"ReferentialIntegrity \"symbol\" \"ref.{symbol}\" = 1.0"},
		{"CustomSql \"select count(*) from primary where amount <= 0\" = 0",
		"CustomSql \"select count(*) from primary where amount <= 0\" = 0"},
		{"CustomSql \"select 1\" between 0 and 2 with threshold >= 0.5",
		"CustomSql \"select 1\" between 0 and 2 with threshold >= 0.5"},
		/* keywords are case-insensitive, like Glue's */
		{"ColumnValues \"x\" NOT IN [\"a\"]", "ColumnValues \"x\" not in [\"a\"]"},
		{"RowCount BETWEEN 1 AND 2", "RowCount between 1 and 2"},
		{"ColumnValues \"x\" Matches \"a\" WITH THRESHOLD > 0.5 ",
		"ColumnValues \"x\" matches \"a\" with threshold > 0.5"},
		{"Completeness \"x\" > 0.1 WHERE \"a\"", "Completeness \"x\" > 0.1 where \"a\""},
		/* whitespace and comments anywhere; none needed around punctuation */
		{"  RowCount # how many\n  >= # at least\n 3  # done", "RowCount >= 3"},
		{"ColumnValues\"x\"in[\"a\",\"b\"]", "ColumnValues \"x\" in [\"a\", \"b\"]"},
	};

	RUN_RULES(cases);
}

/* ---------- values: dynamic, arithmetic, now() ---------- */

static void
test_values(void)
{
	static const dq_case cases[] = {
		{"RowCount > avg(last(10)) * 0.8", "RowCount > (avg(last(10)) * 0.8)"},
		{"Sum \"x\" between min(last(3)) - 1 and max(last(3)) + 1",
		"Sum \"x\" between (min(last(3)) - 1) and (max(last(3)) + 1)"},
		{"ColumnValues \"d\" > (now() - 3 days)", "ColumnValues \"d\" > (now() - 3 days)"},
		{"ColumnValues \"d\" <= now()", "ColumnValues \"d\" <= now()"},
		{"ColumnValues \"d\" between now() - 2 hours and now() + 30 minutes",
		"ColumnValues \"d\" between (now() - 2 hours) and (now() + 30 minutes)"},
		{"Mean \"p\" < abs(index(last(5), 0) - median(last(5))) * 2 / std(last(5))",
		"Mean \"p\" < ((abs((index(last(5),0) - median(last(5)))) * 2) / std(last(5)))"},
		{"RowCount >= sum(last(2)) + 1 + 2 * 3", "RowCount >= ((sum(last(2)) + 1) + (2 * 3))"},
		{"RowCount > (1 + 2) * 3", "RowCount > ((1 + 2) * 3)"},
		{"RowCount > index(last(1000), 999)", "RowCount > index(last(1000),999)"},
		/* a sign written against a number is part of its text; otherwise negation */
		{"RowCount > -5", "RowCount > -5"},
		{"RowCount > - 5", "RowCount > -(5)"},
		{"RowCount > --5", "RowCount > -(-5)"},
		{"RowCount > -avg(last(2))", "RowCount > -(avg(last(2)))"},
		{"RowCount > 1-5", "RowCount > (1 - 5)"},
		{"Mean \"x\" > 1.5E-3", "Mean \"x\" > 1.5E-3"},
		{"Mean \"x\" > 5.", "Mean \"x\" > 5."},
	};
	dq_ruleset *rs = NULL;
	dq_error	err;
	const char *t1 = "RowCount > avg(last(10)) * 0.8";
	const char *t2 = "ColumnValues \"d\" > (now() - 3 days)";
	const char *t3 = "RowCount > 1 + abs(-index(last(2), 1))";

	RUN_RULES(cases);

	/* the tree itself, not just its rendering */
	if (CHECK(dq_parse_rule(t1, strlen(t1), &rs, &err) == DQ_OK))
	{
		const dq_rule *r = rs->rules[0];
		const dq_value *v = r->cond.values[0];

		CHECK(r->kind == DQ_LEAF && r->type == DQ_RT_ROWCOUNT && r->nargs == 0);
		CHECK(r->cond.op == DQ_OP_GT && r->cond.nvalues == 1 && r->cond.pos == 9);
		CHECK(v->kind == DQ_V_BINOP && v->binop == '*' && v->pos == 11);
		CHECK(v->left->kind == DQ_V_LAST && v->left->agg == DQ_AGG_AVG && v->left->k == 10);
		CHECK(v->right->kind == DQ_V_NUMBER && strcmp(v->right->text, "0.8") == 0 &&
			  v->right->pos == 27);
		CHECK(dq_value_is_dynamic(v) && !dq_value_is_dynamic(v->right));
		CHECK(r->start == 0 && r->end == (int) strlen(t1) && !r->has_threshold && r->where == NULL);
		dq_ruleset_free(rs);
	}
	if (CHECK(dq_parse_rule(t2, strlen(t2), &rs, &err) == DQ_OK))
	{
		const dq_value *v = rs->rules[0]->cond.values[0];

		CHECK(v->kind == DQ_V_BINOP && v->binop == '-' && v->pos == 19);
		CHECK(v->left->kind == DQ_V_NOW && v->right->kind == DQ_V_DURATION &&
			  v->right->unit == DQ_UNIT_DAYS && strcmp(v->right->text, "3") == 0);
		CHECK(!dq_value_is_dynamic(v));
		dq_ruleset_free(rs);
	}
	if (CHECK(dq_parse_rule(t3, strlen(t3), &rs, &err) == DQ_OK))
	{
		const dq_value *v = rs->rules[0]->cond.values[0];

		CHECK(v->right->kind == DQ_V_ABS && v->right->left->kind == DQ_V_NEG &&
			  v->right->left->left->kind == DQ_V_INDEX && v->right->left->left->k == 2 &&
			  v->right->left->left->index == 1);
		CHECK(dq_value_is_dynamic(v) && !dq_value_is_dynamic(v->left));
		dq_ruleset_free(rs);
	}
	CHECK(!dq_value_is_dynamic(NULL));
}

/* Strings: escapes resolved, kept otherwise exactly as written. */
static void
test_strings(void)
{
	const char *t = "CustomSql \"select \\\"a\\\\b\\\" from primary\\n\\twhere x = 'y'\n  and z\" = 1";
	dq_ruleset *rs = NULL;
	dq_error	err;

	if (CHECK(dq_parse_rule(t, strlen(t), &rs, &err) == DQ_OK))
	{
		CHECK_STR(rs->rules[0]->args[0],
				  "select \"a\\b\" from primary\n\twhere x = 'y'\n  and z");
		dq_ruleset_free(rs);
	}
	CHECK_STR(RULE("ColumnValues \"x\" = \"\""), "ColumnValues \"x\" = \"\"");
	CHECK_STR(RULE("ColumnValues \"caf\xC3\xA9\" = \"\xE2\x82\xAC\""),
			  "ColumnValues \"caf\xC3\xA9\" = \"\xE2\x82\xAC\"");
	/* a '#' inside a string is not a comment */
	CHECK_STR(RULE("ColumnValues \"x\" = \"#1\" # a comment"), "ColumnValues \"x\" = \"#1\"");
}

/* ---------- composites ---------- */

static void
test_composites(void)
{
	static const dq_case cases[] = {
		{"(IsComplete \"id\") and (IsUnique \"id\")", "(IsComplete \"id\") and (IsUnique \"id\")"},
		{"(RowCount > 0) or (ColumnCount = 3) or (IsComplete \"x\")",
		"(RowCount > 0) or (ColumnCount = 3) or (IsComplete \"x\")"},
		{"((RowCount > 0) and (RowCount < 9)) or (IsComplete \"x\")",
		"((RowCount > 0) and (RowCount < 9)) or (IsComplete \"x\")"},
		{"(RowCount > 0) AND ((IsComplete \"a\") OR ((IsUnique \"b\") and (ColumnCount = 2)))",
		"(RowCount > 0) and ((IsComplete \"a\") or ((IsUnique \"b\") and (ColumnCount = 2)))"},
		{"(RowCount > 0)and(RowCount < 9)", "(RowCount > 0) and (RowCount < 9)"},
		/* a parenthesised rule alone is that rule */
		{"(RowCount > 0)", "RowCount > 0"},
		{"((((RowCount > (1)))))", "RowCount > 1"},
	};
	const char *t = "(IsComplete \"id\") and ( IsUnique \"id\" ) and ((RowCount > 0) or (ColumnCount = 1))";
	const char *single = "  ((RowCount > 0))  # x";
	dq_ruleset *rs = NULL;
	dq_error	err;

	RUN_RULES(cases);

	if (CHECK(dq_parse_rule(t, strlen(t), &rs, &err) == DQ_OK))
	{
		const dq_rule *r = rs->rules[0];

		CHECK(r->kind == DQ_AND && r->nchildren == 3 && r->start == 0 &&
			  r->end == (int) strlen(t));
		/* each operand's span takes in its own parentheses */
		CHECK(r->children[0]->kind == DQ_LEAF && r->children[0]->start == 0 &&
			  r->children[0]->end == 17);
		CHECK(r->children[1]->start == 22 && r->children[1]->end == 39);
		CHECK(r->children[2]->kind == DQ_OR && r->children[2]->nchildren == 2 &&
			  r->children[2]->start == 44 && r->children[2]->end == (int) strlen(t));
		dq_ruleset_free(rs);
	}
	if (CHECK(dq_parse_rule(single, strlen(single), &rs, &err) == DQ_OK))
	{
		CHECK(rs->rules[0]->kind == DQ_LEAF && rs->rules[0]->start == 2 &&
			  rs->rules[0]->end == 18);
		dq_ruleset_free(rs);
	}
}

/* ---------- whole documents ---------- */

/* docs/reference-design.md 1.2, without its two unsupported lines */
static const char reference_rules[] =
"Rules = [\n"
"  RowCount > 0,\n"
"  IsComplete \"tid\", IsUnique \"tid\",                        # boolean rules, no expression needed\n"
"  Completeness \"price\" >= 0.99,\n"
"  ColumnValues \"side\" in [\"buy\",\"sell\"],\n"
"  ColumnValues \"price\" between 0 and 1000000,\n"
"  ColumnValues \"symbol\" matches \"[A-Z]+\" with threshold > 0.95,\n"
"  ColumnValues \"load_date\" > (now() - 3 days),\n"
"  DataFreshness \"ts\" <= 2 hours,\n"
"  (IsComplete \"id\") and (IsUnique \"id\"),                   # composite rules; each operand needs parentheses\n"
"  Completeness \"fee\" > 0.5 where \"side = 'buy'\",           # Spark SQL filter; must come before `with threshold`\n"
"  CustomSql \"select count(*) from primary where amount <= 0\" = 0,\n"
"  ReferentialIntegrity \"symbol\" \"ref.{symbol}\" = 1.0,\n"
"  RowCount > avg(last(10)) * 0.8,                          # dynamic rule; ETL only\n";

static void
test_rulesets(void)
{
	static const char *const spans[] = {
		"RowCount > 0",
		"IsComplete \"tid\"",
		"IsUnique \"tid\"",
		"Completeness \"price\" >= 0.99",
		"ColumnValues \"side\" in [\"buy\",\"sell\"]",
		"ColumnValues \"price\" between 0 and 1000000",
		"ColumnValues \"symbol\" matches \"[A-Z]+\" with threshold > 0.95",
		"ColumnValues \"load_date\" > (now() - 3 days)",
		"DataFreshness \"ts\" <= 2 hours",
		"(IsComplete \"id\") and (IsUnique \"id\")",
		"Completeness \"fee\" > 0.5 where \"side = 'buy'\"",
		"CustomSql \"select count(*) from primary where amount <= 0\" = 0",
		"ReferentialIntegrity \"symbol\" \"ref.{symbol}\" = 1.0",
		"RowCount > avg(last(10)) * 0.8"
	};
	static const dq_case cases[] = {
		{"[ RowCount > 0, ]", "RowCount > 0"},
		{"Rules=[RowCount>0,IsComplete\"x\"]", "RowCount > 0 ; IsComplete \"x\""},
		{"# header\nRules = [ # open\n  RowCount > 0, # one\n  # a whole line\n  IsComplete \"x\" # two\n] # close\n# end",
		"RowCount > 0 ; IsComplete \"x\""},
		{"Rules = [\n  (RowCount > 0) or (RowCount < 0),\n  (IsUnique \"a\")\n]",
		"(RowCount > 0) or (RowCount < 0) ; IsUnique \"a\""},
		/* errors */
		{"Rules = [ ]", "syntax@1:11: a ruleset needs at least one rule"},
		{"Rules = [\n  RowCount > 0\n  RowCount > 1\n]",
		"syntax@3:3: expected \",\" or \"]\", found \"RowCount\""},
		{"Rules = [\n  RowCount > 0,\n  Completeness \"x\" > 0.5 and (IsComplete \"y\")\n]",
		"syntax@3:26: each operand of and/or needs parentheses, as in (A) and (B)"},
		{"Rules = [\n  RowCount > 0,\n  DataFreshness \"ts\" <= 2\n]",
		"syntax@3:25: DataFreshness needs a time unit (hours, days or minutes)"},
		{"Rules = [ RowCount > 0,, ]", "syntax@1:24: expected a rule, found \",\""},
		{"Rules = [ RowCount > 0", "syntax@1:23: expected \",\" or \"]\", found end of input"},
		{"RowCount > 0", "syntax@1:1: expected Rules = [, found \"RowCount\""},
		{"", "syntax@1:1: expected Rules = [, found end of input"},
		{"Rules [ RowCount > 0 ]", "syntax@1:7: expected \"=\", found \"[\""},
		{"Rules = RowCount > 0", "syntax@1:9: expected \"[\", found \"RowCount\""},
		{"Rules = [RowCount > 0] Rules = [RowCount > 1]",
		"syntax@1:24: expected end of input, found \"Rules\""},
		{"Rules = [RowCount > 0] extra", "syntax@1:24: expected end of input, found \"extra\""},
		{"[RowCount > 0] [RowCount > 1]", "syntax@1:16: expected end of input, found \"[\""},
		/* unsupported sections and features */
		{"Rules = [RowCount > 0]\nAnalyzers = [ DistinctValuesCount \"symbol\" ]",
		"unsupported[Analyzers]@2:1: DQDL Analyzers are not supported by gemini_etl"},
		{"Analyzers = [ RowCount ] Rules = [RowCount > 0]",
		"unsupported[Analyzers]@1:1: DQDL Analyzers are not supported by gemini_etl"},
		{"low = \"5\"\nRules = [RowCount > 0]",
		"unsupported[constants]@1:1: DQDL constants are not supported by gemini_etl"},
		{"Rules = [RowCount > $low]",
		"unsupported[constants]@1:21: DQDL constants are not supported by gemini_etl"},
		{"DefaultLabels = [\"team\":\"a\"]\nRules = [RowCount > 0]",
		"unsupported[labels]@1:1: DQDL labels are not supported by gemini_etl"},
		{"Rules = [RowCount > 0 labels=[\"team\":\"a\"]]",
		"unsupported[labels]@1:23: DQDL labels are not supported by gemini_etl"},
		{"Metadata = { \"Version\": \"1.0\" }\nRules = [RowCount > 0]",
		"unsupported[Metadata]@1:1: the DQDL Metadata section is not supported by gemini_etl"},
	};
	char		doc[sizeof(reference_rules) + 256];
	dq_ruleset *rs = NULL;
	dq_error	err;
	size_t		len;
	int			i;

	RUN_DOCS(cases);

	snprintf(doc, sizeof(doc), "%s]\n", reference_rules);
	len = strlen(doc);
	if (CHECK(dq_parse_ruleset(doc, len, &rs, &err) == DQ_OK))
	{
		CHECK_I64(rs->nrules, 14);
		for (i = 0; i < rs->nrules && i < 14; i++)
		{
			const dq_rule *r = rs->rules[i];

			CHECKF(r->end - r->start == (int) strlen(spans[i]) &&
				   memcmp(doc + r->start, spans[i], strlen(spans[i])) == 0,
				   "rule %d spans \"%.*s\", want \"%s\"", i, r->end - r->start,
				   doc + r->start, spans[i]);
		}
		CHECK(rs->rules[9]->kind == DQ_AND && rs->rules[13]->type == DQ_RT_ROWCOUNT);
		CHECK(rs->rules[6]->has_threshold && rs->rules[6]->threshold.op == DQ_OP_GT);
		dq_ruleset_free(rs);
	}
	/* each span, parsed alone, is the same rule */
	if (CHECK(dq_parse_ruleset(doc, len, &rs, &err) == DQ_OK))
	{
		int			same = 1;

		for (i = 0; i < rs->nrules; i++)
		{
			const dq_rule *r = rs->rules[i];
			sbuf		b1;
			const char *alone;

			b1.n = 0;
			b1.buf[0] = '\0';
			render_rule(&b1, r);
			alone = outcome(doc + r->start, (size_t) (r->end - r->start), 0);
			if (strcmp(alone, b1.buf) != 0)
				same = 0;
		}
		CHECK(same);
		/* and the whole ruleset renders as expected */
		CHECK_STR(outcome(doc, len, 1),
				  "RowCount > 0 ; IsComplete \"tid\" ; IsUnique \"tid\" ; "
				  "Completeness \"price\" >= 0.99 ; ColumnValues \"side\" in [\"buy\", \"sell\"] ; "
				  "ColumnValues \"price\" between 0 and 1000000 ; "
				  "ColumnValues \"symbol\" matches \"[A-Z]+\" with threshold > 0.95 ; "
				  "ColumnValues \"load_date\" > (now() - 3 days) ; DataFreshness \"ts\" <= 2 hours ; "
				  "(IsComplete \"id\") and (IsUnique \"id\") ; "
				  "Completeness \"fee\" > 0.5 where \"side = 'buy'\" ; "
				  "CustomSql \"select count(*) from primary where amount <= 0\" = 0 ; "
				  "ReferentialIntegrity \"symbol\" \"ref.{symbol}\" = 1.0 ; "
				  "RowCount > (avg(last(10)) * 0.8)");
		dq_ruleset_free(rs);
	}

	/* the reference's unsupported lines, each named where it stands */
	snprintf(doc, sizeof(doc), "%s  DetectAnomalies \"RowCount\"\n]\n", reference_rules);
	CHECK_STR(DOC(doc),
			  "unsupported[DetectAnomalies]@15:3: DQDL rule type DetectAnomalies is not supported by gemini_etl");
	snprintf(doc, sizeof(doc), "%s]\nAnalyzers = [ DistinctValuesCount \"symbol\", ColumnLength \"symbol\" ]\n",
			 reference_rules);
	CHECK_STR(DOC(doc),
			  "unsupported[Analyzers]@16:1: DQDL Analyzers are not supported by gemini_etl");
}

/* ---------- errors ---------- */

static void
test_errors(void)
{
	static const dq_case cases[] = {
		{"", "syntax@1:1: expected a rule, found end of input"},
		{"  # only a comment", "syntax@1:19: expected a rule, found end of input"},
		{"RowCount", "syntax@1:9: expected a condition (=, !=, >, >=, <, <=, between, in or matches), found end of input"},
		{"RowCount > ", "syntax@1:12: expected a value, found end of input"},
		{"RowCount >\n  foo", "syntax@2:3: expected a value, found \"foo\""},
		{"Foo \"x\"", "syntax@1:1: unknown rule type \"Foo\""},
		{"rowcount > 0", "syntax@1:1: unknown rule type \"rowcount\""},
		{"> 0", "syntax@1:1: expected a rule, found \">\""},
		/* arity */
		{"IsComplete", "syntax@1:11: IsComplete takes 1 quoted argument, found 0"},
		{"IsComplete \"a\" \"b\"", "syntax@1:16: IsComplete takes 1 quoted argument, found 2"},
		{"RowCount \"x\" > 0", "syntax@1:10: RowCount takes no quoted argument, found 1"},
		{"ColumnCount \"x\" = 1", "syntax@1:13: ColumnCount takes no quoted argument, found 1"},
		{"ReferentialIntegrity \"a\" = 1", "syntax@1:26: ReferentialIntegrity takes 2 quoted arguments, found 1"},
		{"ReferentialIntegrity \"a\" \"b\" \"c\" = 1", "syntax@1:30: ReferentialIntegrity takes 2 quoted arguments, found 3"},
		{"Uniqueness > 0.5", "syntax@1:12: Uniqueness takes at least 1 quoted argument, found 0"},
		{"CustomSql \"a\" \"b\" = 1", "syntax@1:15: CustomSql takes 1 quoted argument, found 2"},
		/* conditions, where, with threshold */
		{"IsComplete \"x\" > 0", "syntax@1:16: IsComplete takes no condition"},
		{"IsPrimaryKey \"x\" between 1 and 2", "syntax@1:18: IsPrimaryKey takes no condition"},
		{"Completeness \"x\"", "syntax@1:17: expected a condition (=, !=, >, >=, <, <=, between, in or matches), found end of input"},
		{"Completeness \"x\" > 0.5 with threshold > 0.9",
		"syntax@1:24: with threshold is only allowed on ColumnValues, ColumnDataType and CustomSql"},
		{"ColumnValues \"x\" > 1 with threshold > 0.5 where \"a\"",
		"syntax@1:43: where must come before with threshold"},
		{"CustomSql \"select 1\" = 1 where \"x\"", "syntax@1:26: where is not allowed on CustomSql"},
		{"ColumnCount = 1 where \"x\"", "syntax@1:17: where is not allowed on ColumnCount"},
		{"ColumnExists \"x\" where \"y\"", "syntax@1:18: where is not allowed on ColumnExists"},
		{"ReferentialIntegrity \"a\" \"r.{a}\" = 1 where \"y\"",
		"syntax@1:38: where is not allowed on ReferentialIntegrity"},
		{"Completeness \"x\" > 0.5 where 5", "syntax@1:30: expected a quoted filter after where, found \"5\""},
		{"ColumnValues \"x\" = 1 with 0.5", "syntax@1:27: expected \"threshold\", found \"0.5\""},
		{"ColumnValues \"x\" = 1 with threshold", "syntax@1:36: expected a comparison or between after with threshold, found end of input"},
		{"ColumnValues \"x\" = 1 with threshold in [1]", "syntax@1:37: with threshold takes a comparison or between"},
		{"ColumnValues \"x\" = 1 with threshold > \"a\"", "syntax@1:39: with threshold needs a numeric value"},
		{"DataFreshness \"ts\" <= 2", "syntax@1:23: DataFreshness needs a time unit (hours, days or minutes)"},
		{"DataFreshness \"ts\" between 1 hours and 3", "syntax@1:40: DataFreshness needs a time unit (hours, days or minutes)"},
		{"DataFreshness \"ts\" in [2 hours]", "syntax@1:20: DataFreshness takes a comparison or between"},
		{"DataFreshness \"ts\" < 2 weeks", "syntax@1:22: DataFreshness needs a time unit (hours, days or minutes)"},
		{"RowCount > \"abc\"", "syntax@1:12: RowCount needs a numeric value here"},
		{"Mean \"x\" > now()", "syntax@1:12: Mean needs a numeric value here"},
		{"Sum \"x\" between 1 and 2 days", "syntax@1:23: Sum needs a numeric value here"},
		{"Completeness \"x\" matches \"a\"", "syntax@1:18: matches is only allowed on ColumnValues"},
		{"ColumnDataType \"x\" > 5", "syntax@1:20: ColumnDataType takes =, !=, in or not in"},
		{"ColumnDataType \"x\" = 5", "syntax@1:22: ColumnDataType needs a quoted type name such as \"Integer\""},
		{"ColumnValues \"x\" matches 5", "syntax@1:26: expected a quoted regular expression, found \"5\""},
		{"ColumnValues \"x\" in []", "syntax@1:22: expected a value, found \"]\""},
		{"ColumnValues \"x\" in [1,]", "syntax@1:24: expected a value, found \"]\""},
		{"ColumnValues \"x\" in [1 2]", "syntax@1:24: expected \",\" or \"]\", found \"2\""},
		{"ColumnValues \"x\" in \"a\"", "syntax@1:21: expected \"[\", found string \"a\""},
		{"ColumnValues \"x\" not > 5", "syntax@1:22: expected between, in or matches after not, found \">\""},
		{"RowCount between 1 or 2", "syntax@1:20: expected \"and\", found \"or\""},
		/* values */
		{"RowCount > avg(last(0))", "syntax@1:21: expected a count from 1 to 1000, found \"0\""},
		{"RowCount > avg(last(1001))", "syntax@1:21: expected a count from 1 to 1000, found \"1001\""},
		{"RowCount > avg(last(2.5))", "syntax@1:21: expected a count from 1 to 1000, found \"2.5\""},
		{"RowCount > index(last(3), 3)", "syntax@1:27: expected an index from 0 to 2, found \"3\""},
		{"RowCount > avg(10)", "syntax@1:16: expected last(k), found \"10\""},
		{"RowCount > now", "syntax@1:15: expected \"(\", found end of input"},
		{"RowCount > Avg(last(3))", "syntax@1:12: expected a value, found \"Avg\""},
		{"RowCount > (1 + 2", "syntax@1:18: expected \")\", found end of input"},
		{"RowCount > 1 +", "syntax@1:15: expected a value, found end of input"},
		{"ColumnValues \"x\" = null", "syntax@1:20: expected a value, found \"null\""},
		/* composites */
		{"RowCount > 0 and (RowCount < 5)", "syntax@1:14: each operand of and/or needs parentheses, as in (A) and (B)"},
		{"(RowCount > 0) and (RowCount < 5) or (ColumnCount = 1)",
		"syntax@1:35: and and or cannot be mixed at one level: add parentheses"},
		{"(RowCount > 0) and RowCount < 5",
		"syntax@1:20: expected \"(\" (each operand of and/or needs parentheses), found \"RowCount\""},
		{"(RowCount > 0 and (RowCount < 5))",
		"syntax@1:15: each operand of and/or needs parentheses, as in (A) and (B)"},
		{"(RowCount > 0", "syntax@1:14: expected \")\", found end of input"},
		{"(RowCount > 0) and", "syntax@1:19: expected \"(\" (each operand of and/or needs parentheses), found end of input"},
		{"()", "syntax@1:2: expected a rule, found \")\""},
		{"RowCount > 0,", "syntax@1:13: expected end of input, found \",\""},
		{"RowCount > 0 RowCount > 1", "syntax@1:14: expected end of input, found \"RowCount\""},
		/* tokens */
		{"RowCount > 1.2.3", "syntax@1:12: malformed number \"1.2.3\""},
		{"DataFreshness \"x\" < 3days", "syntax@1:21: malformed number \"3days\""},
		{"RowCount > 1e", "syntax@1:12: malformed number \"1e\""},
		{"RowCount > 1e5000", "syntax@1:12: number too long or exponent out of range"},
		{"ColumnValues \"x\" = \"abc", "syntax@1:20: unterminated string"},
		{"ColumnValues \"x\" = \"abc\\", "syntax@1:20: unterminated string"},
		{"ColumnValues \"x\" = \"a\\qb\"", "syntax@1:22: invalid escape \"\\q\" in string (use \\\" \\\\ \\n or \\t)"},
		{"RowCount ! 5", "syntax@1:10: unexpected character \"!\""},
		{"RowCount > 0 @", "syntax@1:14: unexpected character \"@\""},
		{"RowCount > 0 \xC3\xA9", "syntax@1:14: unexpected character \"\xC3\xA9\""},
		{"RowCount > 0 \xFF", "syntax@1:14: unexpected character \"?\""},
		{"RowCount > $", "syntax@1:12: unexpected character \"$\""},
		/* a long token is quoted up to 40 bytes, control characters blanked */
		{"RowCount > abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
		"syntax@1:12: expected a value, found \"abcdefghijklmnopqrstuvwxyzabcdefghijklmn\""},
		{"ColumnValues \"x\" in \"line one\nline two\"", "syntax@1:21: expected \"[\", found string \"line one line two\""},
	};

	RUN_RULES(cases);

	/* a NUL byte anywhere is refused */
	CHECK_STR(outcome("RowCount\0 > 0", 14, 0), "syntax@1:9: NUL byte in DQDL text");
	CHECK_STR(outcome("ColumnValues \"x\" = \"a\0b\"", 24, 0), "syntax@1:22: NUL byte in DQDL text");
	/* the length is honoured: what follows it is not read */
	CHECK_STR(outcome("RowCount > 12345", 13, 0), "RowCount > 12");
}

static void
test_unsupported(void)
{
	static const char *const types[] = {
		"SchemaMatch", "RowCountMatch", "ColumnNamesMatchPattern", "Variance",
		"Range", "ColumnCorrelation", "DatasetMatch", "AggregateMatch",
		"DetectAnomalies", "FileFreshness", "FileMatch", "FileUniqueness",
		"FileSize", "AllStatistics"
	};
	char		text[128];
	char		want[256];
	size_t		i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
	{
		snprintf(text, sizeof(text), "(RowCount > 0) and (%s \"x\" > 1)", types[i]);
		snprintf(want, sizeof(want),
				 "unsupported[%s]@1:21: DQDL rule type %s is not supported by gemini_etl",
				 types[i], types[i]);
		t_check_str(RULE(text), want, __FILE__, __LINE__, text);
	}
	CHECK_STR(RULE("RowCount > $min"),
			  "unsupported[constants]@1:12: DQDL constants are not supported by gemini_etl");
	CHECK_STR(RULE("IsComplete \"x\" labels=[\"a\":\"b\"]"),
			  "unsupported[labels]@1:16: DQDL labels are not supported by gemini_etl");
	CHECK_STR(RULE("(IsComplete \"x\") or (IsUnique \"x\") labels=[\"a\":\"b\"]"),
			  "unsupported[labels]@1:36: DQDL labels are not supported by gemini_etl");
	CHECK_STR(RULE("Analyzers = [RowCount]"),
			  "unsupported[Analyzers]@1:1: DQDL Analyzers are not supported by gemini_etl");
}

/* ---------- limits ---------- */

/* A malloc'd string of n copies of piece. */
static char *
repeat(const char *piece, int n)
{
	size_t		len = strlen(piece);
	char	   *s = malloc(len * (size_t) n + 1);
	int			i;

	for (i = 0; i < n; i++)
		memcpy(s + len * (size_t) i, piece, len);
	s[len * (size_t) n] = '\0';
	return s;
}

/* prefix + n x open + middle + n x close + suffix, parsed as a rule. */
static const char *
nested(const char *prefix, const char *open, int n, const char *middle,
	   const char *close, const char *suffix, int document)
{
	char	   *o = repeat(open, n);
	char	   *c = repeat(close, n);
	size_t		len = strlen(prefix) + strlen(o) + strlen(middle) + strlen(c) + strlen(suffix);
	char	   *s = malloc(len + 1);
	const char *r;

	snprintf(s, len + 1, "%s%s%s%s%s", prefix, o, middle, c, suffix);
	r = outcome(s, len, document);
	free(o);
	free(c);
	free(s);
	return r;
}

static void
test_limits(void)
{
	char	   *s;
	char	   *t;
	size_t		len;
	char		want[128];

	/* parentheses around rules and values: 32 levels, not 33 */
	CHECK_STR(nested("", "(", 32, "RowCount > 0", ")", "", 0), "RowCount > 0");
	CHECK_STR(nested("", "(", 33, "RowCount > 0", ")", "", 0),
			  "syntax@1:33: nesting too deep (limit 32)");
	CHECK_STR(nested("RowCount > ", "(", 32, "1", ")", "", 0), "RowCount > 1");
	CHECK_STR(nested("RowCount > ", "(", 33, "1", ")", "", 0),
			  "syntax@1:44: nesting too deep (limit 32)");
	/* composites and values share the count */
	CHECK_STR(nested("", "(", 16, "RowCount > ((((((((((((((((1))))))))))))))))", ")", "", 0),
			  "RowCount > 1");
	CHECK_STR(nested("", "(", 17, "RowCount > ((((((((((((((((1))))))))))))))))", ")", "", 0),
			  "syntax@1:44: nesting too deep (limit 32)");
	/* unary minus and abs() nest too: a long run of them is cheap to refuse */
	CHECK_STR(nested("RowCount > ", "- ", 100000, "1", "", "", 0),
			  "syntax@1:76: nesting too deep (limit 32)");
	CHECK_STR(nested("RowCount > ", "abs(", 100000, "1", ")", "", 0),
			  "syntax@1:140: nesting too deep (limit 32)");
	CHECK_STR(nested("", "(", 100000, "RowCount > 0", ")", "", 0),
			  "syntax@1:33: nesting too deep (limit 32)");
	CHECK_STR(nested("Rules = [", "(", 100000, "", "", "", 1),
			  "syntax@1:42: nesting too deep (limit 32)");

	/* a chain of operators without parentheses: tree height 32, not 33 */
	CHECK(strncmp(nested("RowCount > 1", "+1", 32, "", "", "", 0), "RowCount > (((", 14) == 0);
	CHECK_STR(nested("RowCount > 1", "+1", 33, "", "", "", 0),
			  "syntax@1:77: expression nested too deeply (limit 32)");
	CHECK_STR(nested("RowCount > 1", "*1", 100000, "", "", "", 0),
			  "syntax@1:77: expression nested too deeply (limit 32)");

	/* 32 quoted arguments, not 33 */
	s = repeat(" \"c\"", 32);
	len = strlen(s);
	t = malloc(len + 64);
	snprintf(t, len + 64, "IsPrimaryKey%s", s);
	CHECK(strncmp(RULE(t), "IsPrimaryKey \"c\"", 16) == 0);
	snprintf(t, len + 64, "IsPrimaryKey%s \"c\"", s);
	snprintf(want, sizeof(want), "syntax@1:%zu: too many quoted arguments (limit 32)", 13 + len + 1);
	CHECK_STR(RULE(t), want);
	free(t);
	free(s);

	/* 10000 values in a list, not 10001 */
	s = repeat("1,", 10000);
	len = strlen(s);
	t = malloc(len + 64);
	snprintf(t, len + 64, "ColumnValues \"x\" in [%.*s]", (int) len - 1, s);
	CHECK(strncmp(RULE(t), "ColumnValues \"x\" in [1, 1, ", 26) == 0);
	snprintf(t, len + 64, "ColumnValues \"x\" in [%s1]", s);
	snprintf(want, sizeof(want), "syntax@1:%zu: too many values in the list (limit 10000)", 21 + len + 1);
	CHECK_STR(RULE(t), want);
	free(t);
	free(s);

	/* 1000 rules in a document, not 1001 */
	s = repeat("RowCount > 0,", 1000);
	len = strlen(s);
	t = malloc(len + 64);
	snprintf(t, len + 64, "Rules = [%s]", s);
	{
		dq_ruleset *rs = NULL;
		dq_error	err;

		if (CHECK(dq_parse_ruleset(t, strlen(t), &rs, &err) == DQ_OK))
		{
			CHECK_I64(rs->nrules, 1000);
			CHECK(rs->rules[999]->start == (int) (9 + 13 * 999) &&
				  rs->rules[999]->end == (int) (9 + 13 * 999 + 12));
			dq_ruleset_free(rs);
		}
	}
	snprintf(t, len + 64, "Rules = [%sRowCount > 1]", s);
	snprintf(want, sizeof(want), "syntax@1:%zu: too many rules (limit 1000)", 9 + len + 1);
	CHECK_STR(DOC(t), want);
	free(t);
	free(s);

	/* 1000 operands in one composite, not 1001 */
	s = repeat(" and (RowCount > 0)", 1000);
	len = strlen(s);
	t = malloc(len + 64);
	snprintf(t, len + 64, "(RowCount > 0)%.*s", (int) (len - 19), s);
	{
		dq_ruleset *rs = NULL;
		dq_error	err;

		if (CHECK(dq_parse_rule(t, strlen(t), &rs, &err) == DQ_OK))
		{
			CHECK(rs->rules[0]->kind == DQ_AND && rs->rules[0]->nchildren == 1000);
			dq_ruleset_free(rs);
		}
	}
	snprintf(t, len + 64, "(RowCount > 0)%s", s);
	snprintf(want, sizeof(want),
			 "syntax@1:%zu: too many operands in one composite rule (limit 1000)", 14 + len - 19 + 6);
	CHECK_STR(RULE(t), want);
	free(t);
	free(s);
}

static void
test_names(void)
{
	static const char *const names[DQ_RT_COUNT] = {
		"RowCount", "ColumnCount", "ColumnExists", "IsComplete", "Completeness",
		"IsUnique", "Uniqueness", "IsPrimaryKey", "UniqueValueRatio",
		"DistinctValuesCount", "ColumnValues", "ColumnLength", "ColumnDataType",
		"Mean", "Sum", "StandardDeviation", "Entropy", "DataFreshness",
		"ReferentialIntegrity", "CustomSql"
	};
	int			t;
	int			all = 1;

	for (t = 0; t < DQ_RT_COUNT; t++)
		if (strcmp(dq_rule_type_name((dq_rule_type) t), names[t]) != 0)
			all = 0;
	CHECK(all);
	CHECK_STR(dq_rule_type_name((dq_rule_type) DQ_RT_COUNT), "unknown");

	/* NULL text is an empty rule; err may be NULL */
	{
		dq_ruleset *rs = (dq_ruleset *) &all;

		CHECK(dq_parse_rule(NULL, 0, &rs, NULL) == DQ_ERR_SYNTAX && rs == NULL);
		dq_ruleset_free(NULL);
	}
}

void
test_dqdl(void)
{
	test_rule_types();
	test_values();
	test_strings();
	test_composites();
	test_rulesets();
	test_errors();
	test_unsupported();
	test_limits();
	test_names();
}
