/*
 * quality_api.c
 *	  The SQL-facing data-quality functions: gemini_add_rule,
 *	  gemini_add_ruleset, gemini_drop_rule, gemini_enable_rule and
 *	  gemini_check_quality (and quality_check, which the pipeline reuses).
 *
 * Privileges, as pg_cron binds a job to its owner: a rule belongs to the role
 * that added it, only that role (or a superuser) drops or switches it, and
 * it is evaluated as that role, so a `where` filter or a CustomSql statement
 * never runs with anyone else's rights.  Adding a rule needs SELECT on the
 * target (and DELETE for 'quarantine'); checking needs SELECT.  The rule and
 * result tables are written as the extension's owner.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "jobs/privilege.h"
#include "jobs/quality.h"

PG_FUNCTION_INFO_V1(gemini_add_rule);
PG_FUNCTION_INFO_V1(gemini_add_ruleset);
PG_FUNCTION_INFO_V1(gemini_drop_rule);
PG_FUNCTION_INFO_V1(gemini_enable_rule);
PG_FUNCTION_INFO_V1(gemini_check_quality);
PG_FUNCTION_INFO_V1(gemini_quality_scan_sql);

/* Rule text in messages: whole if short, else its start. */
static char *
cut_text(const char *s)
{
	return strlen(s) > 200 ? psprintf("%.200s...", s) : pstrdup(s);
}

/* Default name: the rule's text, whitespace collapsed (Glue names rules by their text). */
static char *
default_name(const char *s, int len)
{
	StringInfoData buf;
	bool		space = false;

	initStringInfo(&buf);
	for (int i = 0; i < len && buf.len < 200; i++)
	{
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			space = buf.len > 0;
		else
		{
			if (space)
				appendStringInfoChar(&buf, ' ');
			space = false;
			appendStringInfoChar(&buf, s[i]);
		}
	}
	return buf.data;
}

/* The line of text holding pos, and a caret under it. */
static char *
caret(const char *text, size_t len, const dq_error *e)
{
	int			start = e->pos,
				end = e->pos;

	while (start > 0 && text[start - 1] != '\n')
		start--;
	while ((size_t) end < len && text[end] != '\n')
		end++;
	if (end - start > 200)
	{
		start = Max(start, e->pos - 100);
		end = Min(end, start + 200);
	}
	return psprintf("%.*s\n%*s^", end - start, text + start, e->pos - start, "");
}

static dq_ruleset *
parse_or_error(const char *text, size_t len, bool whole_ruleset)
{
	dq_ruleset *rs = NULL;
	dq_error	e;
	dq_status	st;

	/* the parser's memory is about 45 times its input: keep it small */
	if (len > 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("DQDL text of %zu bytes is too long", len),
				 errdetail("A rule or ruleset is at most 1MB."),
				 errhint("Split the ruleset into several gemini_add_ruleset() calls.")));
	memset(&e, 0, sizeof(e));
	st = whole_ruleset ? dq_parse_ruleset(text, len, &rs, &e) : dq_parse_rule(text, len, &rs, &e);
	if (st == DQ_OK)
		return rs;
	if (st == DQ_ERR_NOMEM)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory parsing DQDL")));
	if (st == DQ_ERR_UNSUPPORTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s", e.message),
				 errdetail("At line %d, column %d:\n%s", e.line, e.column, caret(text, len, &e)),
				 errhint("gemini_etl supports the DQDL rule types RowCount, ColumnCount, ColumnExists, IsComplete, Completeness, IsUnique, Uniqueness, IsPrimaryKey, UniqueValueRatio, DistinctValuesCount, ColumnValues, ColumnLength, ColumnDataType, Mean, Sum, StandardDeviation, Entropy, DataFreshness, ReferentialIntegrity and CustomSql.")));
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("DQDL syntax error at line %d, column %d: %s", e.line, e.column, e.message),
			 errdetail("%s", caret(text, len, &e)),
			 errhint(whole_ruleset ? "A ruleset is Rules = [ rule, rule, ... ]; # starts a comment."
					 : "A rule is e.g. ColumnValues \"side\" in [\"buy\", \"sell\"] or Completeness \"price\" >= 0.99.")));
	return NULL;				/* not reached */
}

static void
require_privilege(Oid relid, AclMode mode, const char *what)
{
	if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("%s", what),
				 errhint("GRANT the privilege on the table, or have its owner add the rule.")));
}

static void
check_severity(const char *severity)
{
	if (strcmp(severity, "warn") != 0 && strcmp(severity, "quarantine") != 0 && strcmp(severity, "fail") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid severity \"%s\"", cut_text(severity)),
				 errdetail("A rule's severity is warn (record only), quarantine (failing rows move to gemini.quarantine) or fail (the pipeline run fails)."),
				 errhint("Pass 'warn', 'quarantine' or 'fail'.")));
}

/*
 * Compile the rule for the target and run it once over no rows (as the
 * caller, who will own it): wrong columns, types, references and SQL are
 * found now, not at the next hourly check.
 */
static void
validate_rule(const QTarget *t, const dq_rule *r, const char *text, const char *severity, int rule_id)
{
	QRule		qr;
	QRule	   *list[1] = {&qr};
	QMoved		moved = {0};
	QNode	   *n = quality_compile(r, t, rule_id, cut_text(text));
	List	   *todo = list_make1(n);

	if (strcmp(severity, "quarantine") == 0 && !n->row_level)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s rule cannot quarantine rows", r->kind == DQ_LEAF ? dq_rule_type_name(r->type) : "composite"),
				 errdetail("Rule: %s", cut_text(text)),
				 errhint("quarantine applies to rules judged row by row (ColumnValues, IsComplete, Completeness, ColumnLength, ColumnDataType, DataFreshness, ReferentialIntegrity, and composites of them); use 'fail' or 'warn'.")));
	memset(&qr, 0, sizeof(qr));
	qr.rule_id = rule_id;
	qr.rule_name = qr.rule_text = (char *) text;
	qr.severity = "warn";
	qr.node = n;
	quality_evaluate(t, list, 1, "false", &moved);
	for (int i = 0; i < list_length(todo); i++)
	{
		QNode	   *c = list_nth(todo, i);

		if (c->kind == QK_COMPOSITE)
		{
			for (int k = 0; k < c->nchildren; k++)
				todo = lappend(todo, c->children[k]);
			continue;
		}
		if (c->outcome && strcmp(c->outcome, "error") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rule cannot run on %s: %s", t->qualname, c->detail),
					 errdetail("Rule: %s", cut_text(text)),
					 errhint("Check the column types and the SQL of where filters and CustomSql; rules run with search_path = pg_catalog, pg_temp, so qualify table names.")));
	}
}

static bool
rule_name_taken(Oid target, const char *name)
{
	Oid			types[2] = {REGCLASSOID, TEXTOID};
	Datum		v[2] = {ObjectIdGetDatum(target), CStringGetTextDatum(name)};

	if (SPI_execute_with_args("SELECT 1 FROM gemini.quality_rule_defs WHERE target = $1 AND rule_name = $2",
							  2, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not read gemini.quality_rule_defs");
	return SPI_processed > 0;
}

/* Check and store one rule; returns its id.  SPI connected. */
static int
add_one(const QTarget *t, const dq_rule *r, const char *text, int len, const char *severity, const char *name)
{
	GeminiUserSwitch sw;
	Oid			types[6] = {INT4OID, REGCLASSOID, TEXTOID, TEXTOID, TEXTOID, OIDOID};
	Datum		v[6];
	char	   *rule_text = pnstrdup(text, len);
	char	   *rule_name = name ? pstrdup(name) : default_name(text, len);
	bool		isnull;
	int			id;

	if (rule_name[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a rule name cannot be empty")));
	gemini_become_owner(&sw);
	if (SPI_execute("SELECT pg_catalog.nextval('gemini.quality_rule_id_seq')::integer", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not allocate a rule id");
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (rule_name_taken(t->relid, rule_name))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s already has a rule named \"%s\"", t->qualname, cut_text(rule_name)),
				 errdetail("Rule names are unique per target; a rule added without a name is named by its text."),
				 errhint("Give the rule another rule_name, or drop the old one: SELECT rule_id FROM gemini.quality_rules WHERE target = '%s'::regclass;",
						 t->qualname)));
	gemini_restore_user(&sw);

	validate_rule(t, r, rule_text, severity, id);

	v[0] = Int32GetDatum(id);
	v[1] = ObjectIdGetDatum(t->relid);
	v[2] = CStringGetTextDatum(rule_name);
	v[3] = CStringGetTextDatum(rule_text);
	v[4] = CStringGetTextDatum(severity);
	v[5] = ObjectIdGetDatum(GetUserId());
	gemini_become_owner(&sw);
	if (SPI_execute_with_args("INSERT INTO gemini.quality_rule_defs (rule_id, target, rule_name, rule, severity, owner)"
							  " VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.regrole)",
							  6, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gemini_etl: could not store the rule");
	gemini_restore_user(&sw);
	return id;
}

static QTarget *
open_target_for_rules(Oid relid, const char *severity)
{
	check_severity(severity);
	require_privilege(relid, ACL_SELECT, "Adding a quality rule needs SELECT on its target.");
	if (strcmp(severity, "quarantine") == 0)
		require_privilege(relid, ACL_DELETE, "A quarantine rule moves failing rows out of its target, which needs DELETE.");
	return quality_target_open(relid);
}

static void
require_args(FunctionCallInfo fcinfo, int n, const char *const *names)
{
	for (int i = 0; i < n; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", names[i])));
}

Datum
gemini_add_rule(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"target", "rule", "severity"};
	text	   *rule;
	char	   *severity;
	dq_ruleset *rs;
	QTarget    *t;
	int			id;

	require_args(fcinfo, 3, names);
	rule = PG_GETARG_TEXT_PP(1);
	severity = text_to_cstring(PG_GETARG_TEXT_PP(2));
	t = open_target_for_rules(PG_GETARG_OID(0), severity);
	rs = parse_or_error(VARDATA_ANY(rule), VARSIZE_ANY_EXHDR(rule), false);
	SPI_connect();
	PG_TRY();
	{
		const dq_rule *r = rs->rules[0];

		id = add_one(t, r, VARDATA_ANY(rule) + r->start, r->end - r->start, severity,
					 PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	}
	PG_FINALLY();
	{
		dq_ruleset_free(rs);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(id);
}

Datum
gemini_add_ruleset(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"target", "ruleset", "severity"};
	text	   *doc;
	char	   *severity;
	dq_ruleset *rs;
	QTarget    *t;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	require_args(fcinfo, 3, names);
	doc = PG_GETARG_TEXT_PP(1);
	severity = text_to_cstring(PG_GETARG_TEXT_PP(2));
	t = open_target_for_rules(PG_GETARG_OID(0), severity);
	rs = parse_or_error(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), true);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SPI_connect();
	PG_TRY();
	{
		/* all or nothing: any error aborts the statement, and every insert with it */
		for (int i = 0; i < rs->nrules; i++)
		{
			const dq_rule *r = rs->rules[i];
			Datum		v[1];
			bool		nulls[1] = {false};

			v[0] = Int32GetDatum(add_one(t, r, VARDATA_ANY(doc) + r->start, r->end - r->start, severity, NULL));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	}
	PG_FINALLY();
	{
		dq_ruleset_free(rs);
	}
	PG_END_TRY();
	SPI_finish();
	return (Datum) 0;
}

/* Finds rule_id; checks the caller owns it.  Returns builtin. */
static bool
own_rule(int rule_id)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1] = {Int32GetDatum(rule_id)};
	GeminiUserSwitch sw;
	bool		isnull,
				builtin;
	Oid			owner;

	gemini_become_owner(&sw);
	if (SPI_execute_with_args("SELECT owner, builtin FROM gemini.quality_rule_defs WHERE rule_id = $1 FOR UPDATE",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not read gemini.quality_rule_defs");
	gemini_restore_user(&sw);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("quality rule %d does not exist", rule_id),
				 errdetail("gemini.quality_rules lists the rules and their ids."),
				 errhint("SELECT rule_id, target, rule_name FROM gemini.quality_rules;")));
	owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	builtin = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (!gemini_user_owns(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("quality rule %d belongs to another role", rule_id),
				 errdetail("Only its owner, a member of its owner, or a superuser may change it."),
				 errhint("Add a rule of your own with gemini_add_rule(); SELECT rule_id, owner FROM gemini.quality_rules;")));
	return builtin;
}

Datum
gemini_drop_rule(PG_FUNCTION_ARGS)
{
	int			rule_id = PG_GETARG_INT32(0);
	Datum		v[1] = {Int32GetDatum(rule_id)};
	Oid			types[1] = {INT4OID};
	GeminiUserSwitch sw;

	SPI_connect();
	if (own_rule(rule_id))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("quality rule %d is one of gemini_etl's default rules and cannot be dropped", rule_id),
				 errdetail("CREATE EXTENSION installs the default rules (ids below 0); a dump keeps whether they are on."),
				 errhint("Switch it off instead: SELECT gemini_enable_rule(%d, false);", rule_id)));
	gemini_become_owner(&sw);
	if (SPI_execute_with_args("DELETE FROM gemini.quality_rule_defs WHERE rule_id = $1", 1, types, v, NULL, false, 0)
		!= SPI_OK_DELETE)
		elog(ERROR, "gemini_etl: could not drop the rule");
	gemini_restore_user(&sw);
	SPI_finish();
	PG_RETURN_BOOL(true);
}

Datum
gemini_enable_rule(PG_FUNCTION_ARGS)
{
	int			rule_id = PG_GETARG_INT32(0);
	bool		enabled = PG_GETARG_BOOL(1);
	Datum		v[2] = {Int32GetDatum(rule_id), BoolGetDatum(enabled)};
	Oid			types[2] = {INT4OID, BOOLOID};
	GeminiUserSwitch sw;
	bool		builtin;
	const char *sql;

	SPI_connect();
	builtin = own_rule(rule_id);
	if (!builtin)
		sql = "UPDATE gemini.quality_rule_defs SET enabled = $2 WHERE rule_id = $1";
	else if (enabled)
		sql = "DELETE FROM gemini.quality_builtin_off WHERE rule_id = $1 AND $2";
	else
		sql = "INSERT INTO gemini.quality_builtin_off (rule_id) SELECT $1 WHERE NOT $2 ON CONFLICT DO NOTHING";
	gemini_become_owner(&sw);
	if (SPI_execute_with_args(sql, 2, types, v, NULL, false, 0) < 0)
		elog(ERROR, "gemini_etl: could not switch the rule");
	gemini_restore_user(&sw);
	SPI_finish();
	PG_RETURN_BOOL(enabled);
}

/* ---------- checking ---------- */

typedef struct CompileArg
{
	QRule	   *rule;
	const QTarget *target;
} CompileArg;

static void
compile_one(void *arg)
{
	CompileArg *c = arg;

	c->rule->node = quality_compile(c->rule->parsed->rules[0], c->target, c->rule->rule_id,
									cut_text(c->rule->rule_text));
}

/* Compile one stored rule; a rule that no longer fits its table is an 'error' outcome. */
static void
compile_stored(QRule *r, const QTarget *t)
{
	dq_error	e;
	CompileArg	arg = {r, t};
	char	   *why = NULL;

	r->node = NULL;
	if (dq_parse_rule(r->rule_text, strlen(r->rule_text), &r->parsed, &e) != DQ_OK)
		why = psprintf("the rule no longer parses: %s", e.message);
	else if (!quality_guarded(compile_one, &arg, &why))
		r->node = NULL;
	if (r->node == NULL)
	{
		r->node = palloc0(sizeof(QNode));
		r->node->kind = QK_CATALOG;
		r->node->scan_col = -1;
		r->node->failing = -1;
		r->node->outcome = "error";
		r->node->detail = why;
	}
}

static void
free_parsed(QRule **rules, int n)
{
	for (int i = 0; i < n; i++)
		if (rules[i]->parsed)
		{
			dq_ruleset_free(rules[i]->parsed);
			rules[i]->parsed = NULL;
		}
}

/*
 * The enabled rules of a table, defaults first.  Read as the extension's
 * owner: the caller's right was checked on the table itself.  SPI connected.
 */
static QRule **
load_rules(Oid relid, int *nrules)
{
	Oid			types[1] = {REGCLASSOID};
	Datum		v[1] = {ObjectIdGetDatum(relid)};
	GeminiUserSwitch sw;
	SPITupleTable *tt;
	QRule	  **rules;

	gemini_become_owner(&sw);
	if (SPI_execute_with_args("SELECT rule_id, rule_name, rule, severity, owner FROM gemini.quality_rules"
							  " WHERE target = $1 AND enabled ORDER BY builtin DESC, pg_catalog.abs(rule_id)",
							  1, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not read gemini.quality_rules");
	gemini_restore_user(&sw);
	tt = SPI_tuptable;
	*nrules = (int) SPI_processed;
	rules = palloc0(sizeof(QRule *) * Max(*nrules, 1));
	for (int i = 0; i < *nrules; i++)
	{
		bool		isnull;
		QRule	   *r = palloc0(sizeof(QRule));

		r->rule_id = DatumGetInt32(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		r->rule_name = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		r->rule_text = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
		r->severity = SPI_getvalue(tt->vals[i], tt->tupdesc, 4);
		r->owner = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 5, &isnull));
		rules[i] = r;
	}
	return rules;
}

QRule **
quality_check(Oid relid, bool has_start, TimestampTz start, bool has_end, TimestampTz end,
			  int64 run_id, int *nrules_out, int64 *evaluation_id)
{
	GeminiUserSwitch sw;
	QTarget    *t;
	QRule	  **rules;
	int			nrules;
	char	   *interval_sql;
	QMoved		moved = {0};
	int			passed = 0,
				failed = 0,
				errored = 0;
	int64		quarantined = 0;
	TimestampTz began = GetCurrentTimestamp();

	require_privilege(relid, ACL_SELECT, "Checking the quality of a table needs SELECT on it.");
	t = quality_target_open(relid);
	if ((has_start || has_end) && t->time_col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no time column, so it cannot be checked over an interval", t->qualname),
				 errdetail("The interval applies to the range-partition key, else to the table's only timestamptz column, else to the only timestamptz column of its primary key."),
				 errhint("Check it whole: SELECT * FROM gemini_check_quality('%s');", t->qualname)));
	if (has_start && has_end && start >= end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interval_start must be before interval_end"),
				 errdetail("The interval is [interval_start, interval_end): its end is excluded."),
				 errhint("Pass e.g. '2024-05-01 10:00+00' and '2024-05-01 11:00+00' for one hour.")));
	interval_sql = quality_interval_sql(t, has_start, start, has_end, end);

	rules = load_rules(relid, &nrules);

	PG_TRY();
	{
		/* rules are evaluated as their owner: one group (one scan) per owner */
		bool	   *done = palloc0(sizeof(bool) * Max(nrules, 1));

		for (int i = 0; i < nrules; i++)
		{
			QRule	  **group;
			int			ng = 0;
			Oid			owner = rules[i]->owner;
			Oid			save_user;
			int			save_ctx;
			char	   *problem = NULL;

			if (done[i])
				continue;
			group = palloc(sizeof(QRule *) * nrules);
			for (int k = i; k < nrules; k++)
				if (!done[k] && rules[k]->owner == owner)
				{
					done[k] = true;
					compile_stored(rules[k], t);
					group[ng++] = rules[k];
				}
			if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
				problem = psprintf("the rule's owner (role %u) no longer exists", owner);
			else if (pg_class_aclcheck(relid, owner, ACL_SELECT) != ACLCHECK_OK)
				problem = psprintf("the rule's owner %s may no longer read %s", GetUserNameFromId(owner, false), t->qualname);
			if (problem)
			{
				for (int k = 0; k < ng; k++)
				{
					group[k]->node->outcome = "error";
					group[k]->node->detail = problem;
					group[k]->started = group[k]->finished = GetCurrentTimestamp();
				}
				continue;
			}
			GetUserIdAndSecContext(&save_user, &save_ctx);
			SetUserIdAndSecContext(owner, save_ctx | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
			quality_evaluate(t, group, ng, interval_sql, &moved);
			SetUserIdAndSecContext(save_user, save_ctx);
		}
	}
	PG_FINALLY();
	{
		free_parsed(rules, nrules);
	}
	PG_END_TRY();

	for (int i = 0; i < nrules; i++)
	{
		const char *o = rules[i]->node->outcome;

		passed += o[0] == 'p';
		failed += o[0] == 'f';
		errored += o[0] == 'e';
	}

	gemini_become_owner(&sw);
	quarantined = store_quality_quarantine(t, &moved, run_id);
	*evaluation_id = store_quality_evaluation(relid, has_start, start, has_end, end, run_id, nrules, passed,
											  failed, errored, quarantined, began, GetCurrentTimestamp());
	for (int i = 0; i < nrules; i++)
	{
		store_quality_result(*evaluation_id, rules[i], relid, has_start, start, has_end, end, run_id);
		if (rules[i]->node->outcome[0] != 'p')
			store_quality_notify(rules[i], t, has_start, start, has_end, end, run_id);
	}
	gemini_restore_user(&sw);
	*nrules_out = nrules;
	return rules;
}

Datum
gemini_check_quality(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QRule	  **rules;
	int			n;
	int64		evaluation_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target must not be NULL")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	SPI_connect();
	rules = quality_check(PG_GETARG_OID(0), !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1),
						  !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2), 0, &n, &evaluation_id);
	for (int i = 0; i < n; i++)
	{
		QNode	   *nd = rules[i]->node;
		Datum		v[5];
		bool		nulls[5] = {false, false, nd->metric == NULL, nd->failing < 0, nd->detail == NULL};

		v[0] = CStringGetTextDatum(rules[i]->rule_name);
		v[1] = CStringGetTextDatum(nd->outcome);
		v[2] = nd->metric ? DirectFunctionCall3(numeric_in, CStringGetDatum(nd->metric),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)) : (Datum) 0;
		v[3] = Int64GetDatum(nd->failing);
		v[4] = nd->detail ? CStringGetTextDatum(nd->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * The one scan gemini_check_quality would run for target over the interval
 * (all owners' per-row rules together), for EXPLAIN: which partitions it
 * reads, and what it computes.
 */
Datum
gemini_quality_scan_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	QTarget    *t;
	QRule	  **rules;
	int			nrules;
	List	   *scan = NIL;
	char	   *sql;
	text	   *result;
	MemoryContext cxt = CurrentMemoryContext;

	require_privilege(relid, ACL_SELECT, "Reading the quality scan of a table needs SELECT on it.");
	t = quality_target_open(relid);
	SPI_connect();
	rules = load_rules(relid, &nrules);
	for (int i = 0; i < nrules; i++)
	{
		compile_stored(rules[i], t);
		quality_collect_scan_nodes(rules[i]->node, &scan);
	}
	free_parsed(rules, nrules);
	sql = quality_scan_sql(t, scan, quality_interval_sql(t, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1),
													  !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2)));
	MemoryContextSwitchTo(cxt);
	result = cstring_to_text(sql);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
