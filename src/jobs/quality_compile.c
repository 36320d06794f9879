/*
 * quality_compile.c
 *	  A parsed DQDL rule + the target's columns -> the SQL that measures it.
 *
 * Every name is quoted here and every literal goes through quote_literal,
 * so rule text cannot inject SQL through column names or values.  The two
 * places where DQDL itself carries SQL (a `where` filter and CustomSql) are
 * checked with PostgreSQL's own parser to be exactly one expression / one
 * query, and run as the rule's owner, read-only (quality_eval.c).
 *
 * Semantics follow Glue's DQDL: a row whose value is NULL fails ColumnValues,
 * ColumnLength, ColumnDataType and DataFreshness unless the rule names NULL;
 * `between` is exclusive; rows removed by `where` count as passed.
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/varlena.h"

#include "jobs/quality.h"

/* A rule's own error: unknown column, wrong type and the like. */
#define RULE_ERROR(code, rule_text, ...) \
	ereport(ERROR, (errcode(code), errmsg(__VA_ARGS__), \
					errdetail("Rule: %s", rule_text), \
					errhint("SELECT column_name, data_type FROM information_schema.columns lists the target's columns.")))

/* ---------- values and conditions ---------- */

/* A DQDL number, checked to be only a decimal before it is put in SQL. */
static void
append_number(StringInfo buf, const char *text)
{
	for (const char *p = text; *p; p++)
		if (!isdigit((unsigned char) *p) && *p != '.' && *p != 'e' && *p != 'E' && *p != '+' && *p != '-')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("\"%s\" is not a number", text)));
	appendStringInfo(buf, "(%s)", text);
}

static void
append_history(StringInfo buf, int rule_id, int k, int offset)
{
	appendStringInfo(buf, "SELECT r.metric FROM gemini.quality_results r WHERE r.rule_id = %d"
					 " AND r.metric IS NOT NULL AND r.outcome <> 'error' ORDER BY r.result_id DESC",
					 rule_id);
	if (offset > 0)
		appendStringInfo(buf, " OFFSET %d", offset);
	appendStringInfo(buf, " LIMIT %d", k);
}

void
quality_value_sql(StringInfo buf, const dq_value *v, int rule_id)
{
	static const char *const aggs[] = {
		"pg_catalog.avg(h.metric)", "pg_catalog.min(h.metric)", "pg_catalog.max(h.metric)",
		"pg_catalog.sum(h.metric)",
		"(pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY h.metric::pg_catalog.float8))::pg_catalog.numeric",
	"pg_catalog.stddev_pop(h.metric)"};

	switch (v->kind)
	{
		case DQ_V_NUMBER:
			append_number(buf, v->text);
			break;
		case DQ_V_STRING:
			appendStringInfoString(buf, quote_literal_cstr(v->text));
			break;
		case DQ_V_NULL:
			appendStringInfoString(buf, "NULL");
			break;
		case DQ_V_EMPTY:
			appendStringInfoString(buf, "''");
			break;
		case DQ_V_WHITESPACES_ONLY:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("WHITESPACES_ONLY can only be compared with = or != or listed with in")));
			break;
		case DQ_V_DURATION:
			{
				StringInfoData num;

				initStringInfo(&num);
				append_number(&num, v->text);	/* validates */
				appendStringInfo(buf, "pg_catalog.make_interval(secs => %s * %d)", num.data,
								 v->unit == DQ_UNIT_DAYS ? 86400 : v->unit == DQ_UNIT_HOURS ? 3600 :
								 v->unit == DQ_UNIT_MINUTES ? 60 : 1);
				break;
			}
		case DQ_V_NOW:
			appendStringInfoString(buf, "pg_catalog.now()");
			break;
		case DQ_V_LAST:
			/* Glue: with no history, last() is 0 */
			appendStringInfo(buf, "(SELECT COALESCE(%s, 0) FROM (", aggs[v->agg]);
			append_history(buf, rule_id, v->k, 0);
			appendStringInfoString(buf, ") h)");
			break;
		case DQ_V_INDEX:
			appendStringInfoString(buf, "COALESCE((");
			append_history(buf, rule_id, 1, v->index);
			appendStringInfoString(buf, "), 0)");
			break;
		case DQ_V_ABS:
			appendStringInfoString(buf, "pg_catalog.abs(");
			quality_value_sql(buf, v->left, rule_id);
			appendStringInfoChar(buf, ')');
			break;
		case DQ_V_NEG:
			appendStringInfoString(buf, "(- ");
			quality_value_sql(buf, v->left, rule_id);
			appendStringInfoChar(buf, ')');
			break;
		case DQ_V_BINOP:
			appendStringInfoChar(buf, '(');
			quality_value_sql(buf, v->left, rule_id);
			appendStringInfo(buf, " %c ", v->binop);
			quality_value_sql(buf, v->right, rule_id);
			appendStringInfoChar(buf, ')');
			break;
	}
}

static const char *
op_sql(dq_op op)
{
	switch (op)
	{
		case DQ_OP_EQ:
			return "=";
		case DQ_OP_NE:
			return "<>";
		case DQ_OP_GT:
			return ">";
		case DQ_OP_GE:
			return ">=";
		case DQ_OP_LT:
			return "<";
		case DQ_OP_LE:
			return "<=";
		default:
			return NULL;
	}
}

/* lhs compared with one value, NULL / EMPTY / WHITESPACES_ONLY understood. */
static void
append_compare(StringInfo buf, const char *lhs, dq_op op, const dq_value *v, int rule_id)
{
	if (v->kind == DQ_V_NULL && (op == DQ_OP_EQ || op == DQ_OP_NE))
		appendStringInfo(buf, "(%s IS %sNULL)", lhs, op == DQ_OP_NE ? "NOT " : "");
	else if (v->kind == DQ_V_WHITESPACES_ONLY && (op == DQ_OP_EQ || op == DQ_OP_NE))
		appendStringInfo(buf, "(%s(%s)::text ~ '^\\s+$')", op == DQ_OP_NE ? "NOT " : "", lhs);
	else
	{
		appendStringInfo(buf, "(%s %s ", lhs, op_sql(op));
		quality_value_sql(buf, v, rule_id);
		appendStringInfoChar(buf, ')');
	}
}

void
quality_cond_sql(StringInfo buf, const char *lhs, const dq_cond *c, int rule_id)
{
	switch (c->op)
	{
		case DQ_OP_NONE:
			appendStringInfoString(buf, "true");
			break;
		case DQ_OP_EQ:
		case DQ_OP_NE:
		case DQ_OP_GT:
		case DQ_OP_GE:
		case DQ_OP_LT:
		case DQ_OP_LE:
			append_compare(buf, lhs, c->op, c->values[0], rule_id);
			break;
		case DQ_OP_BETWEEN:
		case DQ_OP_NOT_BETWEEN:
			appendStringInfo(buf, "(%s(%s > ", c->op == DQ_OP_NOT_BETWEEN ? "NOT " : "", lhs);
			quality_value_sql(buf, c->values[0], rule_id);
			appendStringInfo(buf, " AND %s < ", lhs);
			quality_value_sql(buf, c->values[1], rule_id);
			appendStringInfoString(buf, "))");
			break;
		case DQ_OP_IN:
		case DQ_OP_NOT_IN:
			{
				int			plain = 0;

				appendStringInfo(buf, "(%s(false", c->op == DQ_OP_NOT_IN ? "NOT " : "");
				for (int i = 0; i < c->nvalues; i++)
				{
					const dq_value *v = c->values[i];

					if (v->kind == DQ_V_NULL)
						appendStringInfo(buf, " OR %s IS NULL", lhs);
					else if (v->kind == DQ_V_WHITESPACES_ONLY)
						appendStringInfo(buf, " OR (%s)::text ~ '^\\s+$'", lhs);
					else
						plain++;
				}
				if (plain > 0)
				{
					appendStringInfo(buf, " OR %s IN (", lhs);
					plain = 0;
					for (int i = 0; i < c->nvalues; i++)
					{
						const dq_value *v = c->values[i];

						if (v->kind == DQ_V_NULL || v->kind == DQ_V_WHITESPACES_ONLY)
							continue;
						if (plain++ > 0)
							appendStringInfoString(buf, ", ");
						quality_value_sql(buf, v, rule_id);
					}
					appendStringInfoChar(buf, ')');
				}
				appendStringInfoString(buf, "))");
				break;
			}
		case DQ_OP_MATCHES:
		case DQ_OP_NOT_MATCHES:
			{
				/* DQDL (Java) matches the whole value */
				char	   *re = psprintf("^(?:%s)$", c->values[0]->text);

				appendStringInfo(buf, "(%s(%s)::text ~ %s)", c->op == DQ_OP_NOT_MATCHES ? "NOT " : "",
								 lhs, quote_literal_cstr(re));
				break;
			}
	}
}

/* ---------- SQL carried by DQDL: `where` filters and CustomSql ---------- */

/* Is sql exactly one plain SELECT (wrapped as given)?  Uses PostgreSQL's parser. */
static bool
is_one_select(const char *sql, bool want_no_from)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	RawStmt    *rs;
	SelectStmt *sel;

	if (list_length(raw) != 1)
		return false;
	rs = linitial_node(RawStmt, raw);
	if (!IsA(rs->stmt, SelectStmt))
		return false;
	sel = (SelectStmt *) rs->stmt;
	if (sel->op != SETOP_NONE || sel->intoClause != NULL || sel->lockingClause != NIL)
		return false;
	if (want_no_from && (sel->fromClause != NIL || sel->groupClause != NIL || sel->havingClause != NULL ||
						 sel->sortClause != NIL || sel->limitCount != NULL || sel->withClause != NULL ||
						 list_length(sel->targetList) != 1))
		return false;
	return true;
}

/* is_one_select, with a syntax error meaning "no" */
static bool
parses_as_one_select(const char *sql, bool want_no_from)
{
	MemoryContext mcx = CurrentMemoryContext;
	bool		ok = false;

	PG_TRY();
	{
		ok = is_one_select(sql, want_no_from);
	}
	PG_CATCH();
	{
		/* raw_parser only allocates: dropping the error is safe here */
		MemoryContextSwitchTo(mcx);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static char *
compile_where(const char *where, const char *rule_text)
{
	if (!parses_as_one_select(psprintf("SELECT 1 WHERE (%s)", where), true))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the where filter of a rule must be one SQL boolean expression"),
				 errdetail("Rule: %s", rule_text),
				 errhint("Write the filter as in a WHERE clause over the target's columns, e.g. where \"side = 'buy'\".")));
	return psprintf("(%s)", where);
}

/*
 * CustomSql: `primary` (outside quotes and comments) names the target's rows
 * in the interval; it becomes the CTE "primary" that quality_eval.c puts in
 * front.  The statement must be one query.
 */
static char *
compile_custom(const char *sql, const char *rule_text)
{
	StringInfoData out;
	const char *p = sql;

	initStringInfo(&out);
	while (*p)
	{
		if (*p == '\'' || *p == '"')
		{
			char		q = *p;

			appendStringInfoChar(&out, *p++);
			while (*p && *p != q)
				appendStringInfoChar(&out, *p++);
			if (*p)
				appendStringInfoChar(&out, *p++);
		}
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				appendStringInfoChar(&out, *p++);
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			const char *e = strstr(p + 2, "*/");
			size_t		n = e ? (size_t) (e + 2 - p) : strlen(p);

			appendBinaryStringInfo(&out, p, n);
			p += n;
		}
		else if (pg_strncasecmp(p, "primary", 7) == 0 &&
				 (p == sql || !(isalnum((unsigned char) p[-1]) || p[-1] == '_' || p[-1] == '.' || p[-1] == '$')) &&
				 !(isalnum((unsigned char) p[7]) || p[7] == '_' || p[7] == '$' || p[7] == '.'))
		{
			appendStringInfoString(&out, "\"primary\"");
			p += 7;
		}
		else
			appendStringInfoChar(&out, *p++);
	}

	if (!parses_as_one_select(out.data, false))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the statement of a CustomSql rule must be one SELECT query"),
				 errdetail("Rule: %s", rule_text),
				 errhint("Write e.g. CustomSql \"select count(*) from primary where amount <= 0\" = 0; primary stands for the target's rows in the interval.")));
	return out.data;
}

/* ---------- rule types ---------- */

static int
need_column(const QTarget *t, const char *name, const dq_rule *r, const char *rule_text)
{
	int			i = quality_target_column(t, name);

	if (i < 0)
		RULE_ERROR(ERRCODE_UNDEFINED_COLUMN, rule_text, "column \"%s\" of %s does not exist (rule %s)",
				   name, t->qualname, dq_rule_type_name(r->type));
	return i;
}

static char *
col_sql(const QTarget *t, int i)
{
	return psprintf("t.%s", quote_identifier(t->cols[i].name));
}

static bool
is_text_type(Oid typid)
{
	return typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID || typid == NAMEOID;
}

/* Glue's type names, and what text of that type looks like. */
static const struct
{
	const char *name;
	const char *regex;
	Oid			types[3];
}			data_types[] = {
	{"boolean", "^([tT][rR][uU][eE]|[fF][aA][lL][sS][eE])$", {BOOLOID}},
	{"date", "^\\d{4}-\\d{2}-\\d{2}$", {DATEOID}},
	{"timestamp", "^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([zZ]|[+-]\\d{2}(:?\\d{2})?)?$", {TIMESTAMPOID, TIMESTAMPTZOID}},
	{"integer", "^[+-]?\\d{1,9}$", {INT2OID, INT4OID}},
	{"long", "^[+-]?\\d{1,18}$", {INT8OID, INT4OID, INT2OID}},
	{"float", "^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$", {FLOAT4OID, NUMERICOID}},
	{"double", "^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$", {FLOAT8OID, FLOAT4OID, NUMERICOID}},
};

static void
append_datatype_test(StringInfo buf, const char *lhs, Oid typid, const char *name, const char *rule_text)
{
	for (size_t i = 0; i < lengthof(data_types); i++)
	{
		if (pg_strcasecmp(name, data_types[i].name) != 0)
			continue;
		if (is_text_type(typid))
			appendStringInfo(buf, "(%s ~ %s)", lhs, quote_literal_cstr(data_types[i].regex));
		else
		{
			bool		same = false;

			for (int k = 0; k < 3; k++)
				same |= data_types[i].types[k] == typid && typid != InvalidOid;
			appendStringInfo(buf, "(%s IS NOT NULL AND %s)", lhs, same ? "true" : "false");
		}
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown ColumnDataType type \"%s\"", name),
			 errdetail("Rule: %s", rule_text),
			 errhint("Use one of Boolean, Date, Timestamp, Integer, Long, Float, Double.")));
}

static void
compile_datatype(QNode *n, const QTarget *t, int col, const char *rule_text)
{
	const dq_cond *c = &n->rule->cond;
	char	   *lhs = col_sql(t, col);
	StringInfoData buf;
	bool		neg = c->op == DQ_OP_NE || c->op == DQ_OP_NOT_IN;

	if (c->op != DQ_OP_EQ && c->op != DQ_OP_NE && c->op != DQ_OP_IN && c->op != DQ_OP_NOT_IN)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("ColumnDataType takes = \"Type\" or in [\"Type\", ...]"),
				 errdetail("Rule: %s", rule_text)));
	initStringInfo(&buf);
	appendStringInfo(&buf, "COALESCE(%s(false", neg ? "NOT " : "");
	for (int i = 0; i < c->nvalues; i++)
	{
		if (c->values[i]->kind != DQ_V_STRING)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("ColumnDataType compares with type names in quotes"),
					 errdetail("Rule: %s", rule_text)));
		appendStringInfoString(&buf, " OR ");
		append_datatype_test(&buf, is_text_type(t->cols[col].typid) ? psprintf("%s::text", lhs) : lhs,
							 t->cols[col].typid, c->values[i]->text, rule_text);
	}
	appendStringInfoString(&buf, "), false)");
	n->row_pass = buf.data;
}

/* ReferentialIntegrity "c1,c2" "schema.table.{r1,r2}" */
static void
compile_refint(QNode *n, const QTarget *t, const char *rule_text)
{
	const dq_rule *r = n->rule;
	char	   *mine = pstrdup(r->args[0]);
	char	   *ref = pstrdup(r->args[1]);
	char	   *brace = strstr(ref, ".{");
	char	   *close = brace ? strchr(brace, '}') : NULL;
	List	   *mycols = NIL,
			   *refcols = NIL;
	RangeVar   *rv;
	Oid			refrel;
	StringInfoData buf;
	ListCell   *a,
			   *b;

	if (brace == NULL || close == NULL || close[1] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("ReferentialIntegrity's reference must be \"schema.table.{column, ...}\""),
				 errdetail("Rule: %s", rule_text),
				 errhint("For example: ReferentialIntegrity \"symbol\" \"gemini.symbols.{symbol}\" = 1.0")));
	*brace = '\0';
	*close = '\0';
	if (!SplitIdentifierString(mine, ',', &mycols) || !SplitIdentifierString(brace + 2, ',', &refcols) ||
		list_length(mycols) != list_length(refcols) || mycols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("ReferentialIntegrity needs as many reference columns as columns"),
				 errdetail("Rule: %s", rule_text)));
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(ref));
	if (rv->schemaname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("the reference table \"%s\" of a ReferentialIntegrity rule must be schema-qualified", ref),
				 errdetail("Rule: %s", rule_text),
				 errhint("Rules run with search_path = pg_catalog, pg_temp; write e.g. gemini.symbols.{symbol}.")));
	refrel = RangeVarGetRelid(rv, AccessShareLock, false);
	initStringInfo(&buf);
	appendStringInfo(&buf, "EXISTS (SELECT 1 FROM %s r WHERE true",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(refrel)),
												get_rel_name(refrel)));
	forboth(a, mycols, b, refcols)
	{
		int			c = need_column(t, (char *) lfirst(a), r, rule_text);

		if (get_attnum(refrel, (char *) lfirst(b)) == InvalidAttrNumber)
			RULE_ERROR(ERRCODE_UNDEFINED_COLUMN, rule_text, "column \"%s\" of reference table %s does not exist",
					   (char *) lfirst(b), ref);
		appendStringInfo(&buf, " AND r.%s = %s", quote_identifier((char *) lfirst(b)), col_sql(t, c));
	}
	appendStringInfoChar(&buf, ')');
	n->row_pass = buf.data;
}

static void
require_numeric(const QTarget *t, int col, const dq_rule *r, const char *rule_text)
{
	char		cat;
	bool		pref;

	get_type_category_preferred(t->cols[col].typid, &cat, &pref);
	if (cat != TYPCATEGORY_NUMERIC)
		RULE_ERROR(ERRCODE_DATATYPE_MISMATCH, rule_text, "%s needs a numeric column; \"%s\" is %s",
				   dq_rule_type_name(r->type), t->cols[col].name, format_type_be(t->cols[col].typid));
}

static QNode *
compile_leaf(const dq_rule *r, const QTarget *t, int rule_id, const char *rule_text)
{
	QNode	   *n = palloc0(sizeof(QNode));
	int			col = -1;
	StringInfoData buf;

	n->rule = r;
	n->cond = &r->cond;
	n->judge = QJ_COND;
	n->scan_col = -1;
	n->failing = -1;
	if (r->where)
		n->filter = compile_where(r->where, rule_text);
	/* the single-column rule types */
	if (r->nargs >= 1 && r->type != DQ_RT_CUSTOMSQL && r->type != DQ_RT_REFERENTIALINTEGRITY &&
		r->type != DQ_RT_COLUMNEXISTS)
		col = need_column(t, r->args[0], r, rule_text);
	initStringInfo(&buf);

	switch (r->type)
	{
		case DQ_RT_ROWCOUNT:
			n->kind = QK_SCAN_AGG;
			n->agg = pstrdup("pg_catalog.count(*)");
			break;
		case DQ_RT_COLUMNCOUNT:
			n->kind = QK_CATALOG;
			n->catalog_metric = psprintf("%d", t->ncols);
			break;
		case DQ_RT_COLUMNEXISTS:
			n->kind = QK_CATALOG;
			n->judge = QJ_ONE;
			n->catalog_metric = pstrdup(quality_target_column(t, r->args[0]) >= 0 ? "1" : "0");
			break;
		case DQ_RT_ISCOMPLETE:
		case DQ_RT_COMPLETENESS:
			n->kind = QK_SCAN_ROWS;
			n->judge = r->type == DQ_RT_ISCOMPLETE ? QJ_ALL_ROWS : QJ_COND;
			n->row_pass = psprintf("(%s IS NOT NULL)", col_sql(t, col));
			break;
		case DQ_RT_ISUNIQUE:
		case DQ_RT_UNIQUENESS:
		case DQ_RT_ISPRIMARYKEY:
		case DQ_RT_UNIQUEVALUERATIO:
		case DQ_RT_DISTINCTVALUESCOUNT:
		case DQ_RT_ENTROPY:
			n->kind = QK_GROUP;
			n->judge = (r->type == DQ_RT_ISUNIQUE || r->type == DQ_RT_ISPRIMARYKEY) ? QJ_ALL_ROWS : QJ_COND;
			n->ngcols = r->nargs;
			n->gcols = palloc(sizeof(int) * r->nargs);
			for (int i = 0; i < r->nargs; i++)
				n->gcols[i] = need_column(t, r->args[i], r, rule_text);
			break;
		case DQ_RT_COLUMNVALUES:
			n->kind = QK_SCAN_ROWS;
			n->judge = r->has_threshold ? QJ_THRESHOLD : QJ_ALL_ROWS;
			appendStringInfoString(&buf, "COALESCE(");
			quality_cond_sql(&buf, col_sql(t, col), &r->cond, rule_id);
			appendStringInfoString(&buf, ", false)");
			n->row_pass = buf.data;
			break;
		case DQ_RT_COLUMNLENGTH:
			n->kind = QK_SCAN_ROWS;
			n->judge = QJ_ALL_ROWS;
			appendStringInfoString(&buf, "COALESCE(");
			quality_cond_sql(&buf, psprintf("pg_catalog.length(%s::text)", col_sql(t, col)), &r->cond, rule_id);
			appendStringInfoString(&buf, ", false)");
			n->row_pass = buf.data;
			break;
		case DQ_RT_COLUMNDATATYPE:
			n->kind = QK_SCAN_ROWS;
			n->judge = r->has_threshold ? QJ_THRESHOLD : QJ_ALL_ROWS;
			compile_datatype(n, t, col, rule_text);
			break;
		case DQ_RT_MEAN:
		case DQ_RT_SUM:
		case DQ_RT_STANDARDDEVIATION:
			require_numeric(t, col, r, rule_text);
			n->kind = QK_SCAN_AGG;
			/* trim_scale: avg() of 1.5 and 2.5 is 2, not 2.0000000000000000 (same value) */
			n->agg = psprintf(r->type == DQ_RT_SUM ? "pg_catalog.%s(%s::pg_catalog.numeric)"
							  : "pg_catalog.trim_scale(pg_catalog.%s(%s::pg_catalog.numeric))",
							  r->type == DQ_RT_MEAN ? "avg" : r->type == DQ_RT_SUM ? "sum" : "stddev_pop",
							  col_sql(t, col));
			break;
		case DQ_RT_DATAFRESHNESS:
			{
				Oid			typ = t->cols[col].typid;

				if (typ != TIMESTAMPTZOID && typ != TIMESTAMPOID && typ != DATEOID)
					RULE_ERROR(ERRCODE_DATATYPE_MISMATCH, rule_text,
							   "DataFreshness needs a date or timestamp column; \"%s\" is %s",
							   t->cols[col].name, format_type_be(typ));
				n->kind = QK_SCAN_ROWS;
				n->judge = QJ_ALL_ROWS;
				appendStringInfoString(&buf, "COALESCE(");
				quality_cond_sql(&buf, psprintf("(pg_catalog.now() - %s::pg_catalog.timestamptz)", col_sql(t, col)),
								 &r->cond, rule_id);
				appendStringInfoString(&buf, ", false)");
				n->row_pass = buf.data;
				break;
			}
		case DQ_RT_REFERENTIALINTEGRITY:
			n->kind = QK_SCAN_ROWS;
			n->judge = QJ_COND;
			compile_refint(n, t, rule_text);
			break;
		case DQ_RT_CUSTOMSQL:
			n->kind = QK_CUSTOM;
			n->judge = r->has_threshold ? QJ_THRESHOLD : QJ_COND;
			n->custom_sql = compile_custom(r->args[0], rule_text);
			break;
	}
	if (n->judge == QJ_THRESHOLD)
		n->cond = &r->threshold;
	n->row_level = n->kind == QK_SCAN_ROWS;
	return n;
}

QNode *
quality_compile(const dq_rule *r, const QTarget *t, int rule_id, const char *rule_text)
{
	QNode	   *n;
	StringInfoData buf;

	if (r->kind == DQ_LEAF)
		return compile_leaf(r, t, rule_id, rule_text);

	n = palloc0(sizeof(QNode));
	n->rule = r;
	n->kind = QK_COMPOSITE;
	n->scan_col = -1;
	n->failing = -1;
	n->nchildren = r->nchildren;
	n->children = palloc(sizeof(QNode *) * r->nchildren);
	n->row_level = true;
	for (int i = 0; i < r->nchildren; i++)
	{
		n->children[i] = quality_compile(r->children[i], t, rule_id, rule_text);
		n->row_level &= n->children[i]->row_level;
	}
	if (!n->row_level)
		return n;
	/* a row passes the composite when it passes (or is filtered out of) each side */
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int i = 0; i < n->nchildren; i++)
	{
		QNode	   *c = n->children[i];

		if (i > 0)
			appendStringInfoString(&buf, r->kind == DQ_AND ? " AND " : " OR ");
		if (c->filter)
			appendStringInfo(&buf, "(COALESCE(NOT %s, true) OR %s)", c->filter, c->row_pass);
		else
			appendStringInfoString(&buf, c->row_pass);
	}
	appendStringInfoChar(&buf, ')');
	n->row_pass = buf.data;
	return n;
}
