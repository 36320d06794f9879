/*
 * quality_target.c
 *	  What a quality check needs to know about its table: the columns, the
 *	  interval column, a key to name failing rows by, and whether unique
 *	  indexes already prove a uniqueness rule.
 *
 * The interval column is the range-partition key when the table is
 * partitioned on one timestamptz column, else its only timestamptz column,
 * else the only timestamptz column of its primary key (gemini.candles:
 * bucket_start, not updated_at); a table with none of these can be checked
 * only whole.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/relcache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "jobs/quality.h"

/* The plain key columns of an index, or NULL if it has expressions or a predicate. */
static List *
index_plain_columns(Oid indexoid, bool *unique)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index idx;
	List	   *cols = NIL;

	if (!HeapTupleIsValid(tup))
		return NIL;
	idx = (Form_pg_index) GETSTRUCT(tup);
	*unique = idx->indisunique && idx->indimmediate;
	if (idx->indisvalid &&
		heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL))
	{
		for (int i = 0; i < idx->indnkeyatts; i++)
			cols = lappend_int(cols, idx->indkey.values[i]);
	}
	ReleaseSysCache(tup);
	return cols;
}

/*
 * A key to name a failing row by: the columns of a unique index (of the
 * table, or of its first partition that has one), else of any plain index,
 * else the row's physical position.
 */
static char *
choose_key_sql(Relation rel)
{
	List	   *rels = list_make1_oid(RelationGetRelid(rel));
	List	   *best = NIL;
	Oid			best_rel = InvalidOid;
	bool		best_unique = false;
	StringInfoData buf;
	ListCell   *lc;

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		rels = list_concat(rels, find_inheritance_children(RelationGetRelid(rel), AccessShareLock));
	foreach(lc, rels)
	{
		Relation	r = table_open(lfirst_oid(lc), AccessShareLock);
		List	   *indexes = RelationGetIndexList(r);
		ListCell   *li;

		foreach(li, indexes)
		{
			bool		unique = false;
			List	   *cols = index_plain_columns(lfirst_oid(li), &unique);

			if (cols == NIL)
				continue;
			if (best == NIL || (unique && !best_unique))
			{
				best = cols;
				best_rel = RelationGetRelid(r);
				best_unique = unique;
			}
		}
		table_close(r, AccessShareLock);
		if (best_unique)
			break;
	}

	initStringInfo(&buf);
	if (best == NIL)
	{
		appendStringInfoString(&buf, rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE
							   ? "(t.tableoid::pg_catalog.regclass::text OPERATOR(pg_catalog.||) t.ctid::text)"
							   : "t.ctid::text");
		return buf.data;
	}
	if (list_length(best) > 1)
		appendStringInfoString(&buf, "ROW(");
	foreach(lc, best)
	{
		char	   *name = get_attname(best_rel, (AttrNumber) lfirst_int(lc), false);

		if (lc != list_head(best))
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "t.%s", quote_identifier(name));
	}
	appendStringInfoString(&buf, list_length(best) > 1 ? ")::text" : "::text");
	return buf.data;
}

QTarget *
quality_target_open(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	QTarget    *t = palloc0(sizeof(QTarget));
	int			ntz = 0,
				tzcol = -1;
	int			sym = -1,
				tid = -1;

	if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", RelationGetRelationName(rel)),
				 errdetail("Quality rules and exports read tables (plain or partitioned)."),
				 errhint("Check the table the view reads from.")));
	t->relid = relid;
	t->qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											 RelationGetRelationName(rel));
	t->partitioned = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
	t->cols = palloc0(sizeof(QColumn) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		QColumn    *c;

		if (a->attisdropped)
			continue;
		c = &t->cols[t->ncols];
		c->name = pstrdup(NameStr(a->attname));
		c->typid = a->atttypid;
		c->notnull = a->attnotnull;
		c->typmod = a->atttypmod;
		if (a->atttypid == TIMESTAMPTZOID)
		{
			ntz++;
			tzcol = t->ncols;
		}
		if (strcmp(c->name, "symbol") == 0 && a->atttypid == TEXTOID)
			sym = t->ncols;
		if (strcmp(c->name, "tid") == 0 && a->atttypid == INT8OID)
			tid = t->ncols;
		t->ncols++;
	}
	t->has_symbol_tid = sym >= 0 && tid >= 0;
	t->time_col = ntz == 1 ? tzcol : -1;
	if (ntz > 1)
	{
		Oid			pk = RelationGetPrimaryKeyIndex(rel);
		bool		unique;
		List	   *pkcols = OidIsValid(pk) ? index_plain_columns(pk, &unique) : NIL;
		ListCell   *lc;
		int			found = -1,
					n = 0;

		foreach(lc, pkcols)
		{
			AttrNumber	att = (AttrNumber) lfirst_int(lc);

			if (att > 0 && TupleDescAttr(desc, att - 1)->atttypid == TIMESTAMPTZOID)
			{
				found = quality_target_column(t, NameStr(TupleDescAttr(desc, att - 1)->attname));
				n++;
			}
		}
		if (n == 1)
			t->time_col = found;
	}
	if (t->partitioned)
	{
		PartitionKey key = RelationGetPartitionKey(rel);

		if (key->strategy == PARTITION_STRATEGY_RANGE && key->partnatts == 1 &&
			key->partattrs[0] != 0 && key->parttypid[0] == TIMESTAMPTZOID)
		{
			const char *kname = NameStr(TupleDescAttr(desc, key->partattrs[0] - 1)->attname);

			t->time_col = quality_target_column(t, kname);
		}
	}
	t->key_sql = choose_key_sql(rel);
	table_close(rel, AccessShareLock);
	return t;
}

int
quality_target_column(const QTarget *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* The leaf tables a scan of the interval reads, after plan-time pruning. */
static List *
leaves_in_interval(const QTarget *t, const char *interval_sql)
{
	StringInfoData sql;
	SPIPlanPtr	plan;
	CachedPlan *cplan;
	List	   *leaves = NIL;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM %s t WHERE %s", t->qualname, interval_sql);
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "gemini_etl: could not plan %s: %s", sql.data, SPI_result_code_string(SPI_result));
	cplan = SPI_plan_get_cached_plan(plan);
	foreach(lc, cplan->stmt_list)
	{
		PlannedStmt *ps = lfirst_node(PlannedStmt, lc);
		ListCell   *rc;

		foreach(rc, ps->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, rc);

			if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_RELATION)
				leaves = list_append_unique_oid(leaves, rte->relid);
		}
	}
	/* an unsaved plan's cached plan is not tied to a resource owner */
	ReleaseCachedPlan(cplan, NULL);
	SPI_freeplan(plan);
	return leaves;
}

/* Does leaf have a unique index on a subset of names, all NOT NULL? */
static char *
leaf_unique_index(Oid leaf, const QTarget *t, const int *cols, int ncols)
{
	Relation	r = table_open(leaf, AccessShareLock);
	List	   *indexes = RelationGetIndexList(r);
	ListCell   *li;
	char	   *found = NULL;

	foreach(li, indexes)
	{
		bool		unique = false;
		List	   *icols = index_plain_columns(lfirst_oid(li), &unique);
		ListCell   *ic;
		bool		ok = unique && icols != NIL;

		foreach(ic, icols)
		{
			AttrNumber	att = (AttrNumber) lfirst_int(ic);
			const char *name;
			bool		in_rule = false;

			if (!ok)
				break;
			name = get_attname(leaf, att, false);
			for (int i = 0; i < ncols; i++)
				in_rule |= strcmp(t->cols[cols[i]].name, name) == 0;
			ok = in_rule && TupleDescAttr(RelationGetDescr(r), att - 1)->attnotnull;
		}
		if (ok)
		{
			found = get_rel_name(lfirst_oid(li));
			break;
		}
	}
	table_close(r, AccessShareLock);
	return found;
}

bool
quality_unique_proven(const QTarget *t, const int *cols, int ncols, const char *interval_sql, char **why)
{
	List	   *leaves;
	ListCell   *lc;
	char	   *index = NULL;

	if (t->partitioned)
		leaves = leaves_in_interval(t, interval_sql);
	else
		leaves = list_make1_oid(t->relid);

	if (list_length(leaves) > 1)
	{
		/* rows of different partitions differ in the key only if it is a rule column */
		bool		key_in = false;

		for (int i = 0; i < ncols; i++)
			key_in |= cols[i] == t->time_col;
		if (!key_in)
			return false;
	}
	foreach(lc, leaves)
	{
		index = leaf_unique_index(lfirst_oid(lc), t, cols, ncols);
		if (index == NULL)
			return false;
	}
	if (list_length(leaves) == 0)
		*why = pstrdup("no partition holds rows of the interval");
	else if (list_length(leaves) == 1)
		*why = psprintf("proven by unique index %s", quote_identifier(index));
	else
		*why = psprintf("proven by unique indexes on each of the %d partitions", list_length(leaves));
	return true;
}
