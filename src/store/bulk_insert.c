/*
 * bulk_insert.c
 *	  Rows into a table the way COPY FROM writes them.
 *
 * An INSERT ... SELECT FROM unnest(...) through SPI pays, per row, for the
 * executor's projection, a tuplestore of the unnested arrays, one WAL
 * record per heap tuple and, with ON CONFLICT, a probe of the unique index
 * and a speculative-insertion token before the real insertion.  COPY pays
 * for none of it: it routes each row to its partition, buffers the rows of
 * one partition, writes them with table_multi_insert (one WAL record per
 * heap page) and then adds their index entries.  This file does the same
 * for the extension's own tables, with PostgreSQL's own routing
 * (ExecFindPartition) and index code (ExecInsertIndexTuples, which raises
 * unique_violation like any INSERT).  It is what copyfrom.c's CopyFrom()
 * does, for rows that arrive as Datums instead of text.
 *
 * It is only a faster way to write rows nobody else can hold the keys of;
 * the callers decide when that is so (trades_sink.c).  Where the table has
 * anything an INSERT would do that this does not (row or statement insert
 * triggers, row level security, a foreign partition, a column with a
 * default or NOT NULL that the caller does not fill, another type than the
 * caller's), bulk_insert_open() returns NULL and the caller uses its
 * INSERT statement instead: never a write that skips what the table asks.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "catalog/pg_class.h"
#include "access/genam.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "store/bulk_insert.h"

/* as copyfrom.c: enough rows per write to fill many pages, bounded memory */
#define BULK_MAX_ROWS	1000

struct BulkInsert
{
	MemoryContext cxt;			/* everything below, freed by bulk_insert_close */
	MemoryContext batch_cxt;	/* the buffered rows' values, reset per flush */
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *root;
	ModifyTableState *mtstate;	/* what ExecFindPartition needs of a plan */
	PartitionTupleRouting *proute;	/* NULL: not partitioned */
	BulkInsertState bistate;
	CommandId	cid;
	int			ncols;
	AttrNumber *attnos;			/* caller's column i is attribute attnos[i] */
	TupleTableSlot *row;		/* the row being filled, root's descriptor */
	/* the buffer: rows of one leaf relation */
	ResultRelInfo *leaf;
	TupleDesc	leaf_desc;			/* an unpinned copy of leaf's descriptor */
	TupleTableSlot *slots[BULK_MAX_ROWS];
	int			nslots;			/* slots made for leaf (as rows come) */
	int			nbuffered;
	int64		written;
};

static bool
rls_applies(Oid relid)
{
	return check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED;
}

/*
 * Does INSERT into this relation do anything besides storing the row?
 * The TriggerDesc flags count an insert trigger whether or not it is
 * enabled; partition_has_insert_side_effects() answers the same way.
 */
static bool
has_insert_side_effects(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;

	if (td && (td->trig_insert_before_row || td->trig_insert_after_row ||
			   td->trig_insert_instead_row || td->trig_insert_before_statement ||
			   td->trig_insert_after_statement || td->trig_insert_new_table))
		return true;
	return rls_applies(RelationGetRelid(rel));
}

/*
 * has_insert_side_effects() of a partition by its OID, read from pg_trigger
 * by its index and not through the relcache: a long-lived stream worker
 * would otherwise keep a relcache entry for every daily partition ever
 * made.  It must give the same answer (a disabled trigger counts too):
 * bulk_insert_row() checks each partition it opens with that function, and
 * a partition called plain here but not there would fail every direct
 * write to it.
 */
static bool
partition_has_insert_side_effects(Oid relid)
{
	Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		found = TRIGGER_FOR_INSERT(t->tgtype);
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return found || rls_applies(relid);
}

/*
 * Known answers of partitions_plain(), forgotten at any relcache
 * invalidation (CREATE TRIGGER, ATTACH or DETACH PARTITION all send one).
 * bulk_insert_open() locks the table before it asks, and taking a lock
 * reads the invalidations other transactions have committed.
 */
#define PLAIN_CACHE_SIZE 8
static Oid	plain_relid[PLAIN_CACHE_SIZE];
static bool plain_answer[PLAIN_CACHE_SIZE];
static int	plain_next = 0;
static bool plain_callback_set = false;

static void
forget_plain(Datum arg, Oid relid)
{
	memset(plain_relid, 0, sizeof(plain_relid));
}

/*
 * Are all the partitions of relid plain tables without insert triggers
 * or row security?  (A trigger can be made on one partition.)  A trigger
 * made on a partition after the answer, while a transaction writes to it,
 * is caught when the partition is opened (bulk_insert_row).
 */
static bool
partitions_plain(Oid relid)
{
	List	   *all;
	ListCell   *lc;
	bool		plain = true;

	if (!plain_callback_set)
	{
		CacheRegisterRelcacheCallback(forget_plain, (Datum) 0);
		plain_callback_set = true;
	}
	for (int i = 0; i < PLAIN_CACHE_SIZE; i++)
		if (plain_relid[i] == relid)
			return plain_answer[i];
	all = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, all)
	{
		Oid			child = lfirst_oid(lc);

		if (child == relid)
			continue;
		if (get_rel_relkind(child) == RELKIND_FOREIGN_TABLE || partition_has_insert_side_effects(child))
		{
			plain = false;
			break;
		}
	}
	list_free(all);
	plain_relid[plain_next] = relid;
	plain_answer[plain_next] = plain;
	plain_next = (plain_next + 1) % PLAIN_CACHE_SIZE;
	return plain;
}

/*
 * Map the caller's columns to attributes; false when a column is missing or
 * of another type, or when a column the caller leaves out would get a
 * value (a default, an identity, a generated column) or must have one.
 */
static bool
map_columns(Relation rel, const BulkColumn *cols, int ncols, AttrNumber *attnos)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < ncols; i++)
	{
		AttrNumber	a = get_attnum(RelationGetRelid(rel), cols[i].name);
		Form_pg_attribute att;

		if (a == InvalidAttrNumber || a < 1)
			return false;
		att = TupleDescAttr(desc, a - 1);
		if (att->atttypid != cols[i].type || att->atttypmod != -1 || att->attgenerated)
			return false;
		attnos[i] = a;
	}
	for (int a = 1; a <= desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a - 1);
		bool		given = false;

		if (att->attisdropped)
			continue;
		for (int i = 0; i < ncols; i++)
			given |= attnos[i] == a;
		if (!given && (att->atthasdef || att->attnotnull || att->attidentity || att->attgenerated))
			return false;
	}
	return true;
}

BulkInsert *
bulk_insert_open(Oid relid, const BulkColumn *cols, int ncols)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "gemini_etl bulk insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	BulkInsert *b = palloc0(sizeof(BulkInsert));
	RangeTblEntry *rte;
	Relation	rel;

	b->cxt = cxt;
	b->ncols = ncols;
	b->attnos = palloc(sizeof(AttrNumber) * ncols);
	rel = table_open(relid, RowExclusiveLock);
	if ((rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) ||
		has_insert_side_effects(rel) || !map_columns(rel, cols, ncols, b->attnos) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK ||
		(rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE && !partitions_plain(relid)))
	{
		/* the lock stays until the transaction ends, as an INSERT's would */
		table_close(rel, NoLock);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return NULL;
	}

	/* the executor state of a one-relation INSERT, as CopyFrom() builds it */
	b->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	ExecInitRangeTable(b->estate, list_make1(rte));
	b->root = makeNode(ResultRelInfo);
	ExecInitResultRelation(b->estate, b->root, 1);
	table_close(rel, NoLock);	/* the range table holds it open now */
	b->rel = b->root->ri_RelationDesc;
	CheckValidResultRel(b->root, CMD_INSERT);

	b->mtstate = makeNode(ModifyTableState);
	b->mtstate->ps.plan = NULL;
	b->mtstate->ps.state = b->estate;
	b->mtstate->operation = CMD_INSERT;
	b->mtstate->mt_nrels = 1;
	b->mtstate->resultRelInfo = b->root;
	b->mtstate->rootResultRelInfo = b->root;

	if (b->rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		b->proute = ExecSetupPartitionTupleRouting(b->estate, b->rel);
	else
		ExecOpenIndices(b->root, false);

	b->bistate = GetBulkInsertState();
	b->cid = GetCurrentCommandId(true);
	b->row = MakeSingleTupleTableSlot(RelationGetDescr(b->rel), &TTSOpsVirtual);
	b->batch_cxt = AllocSetContextCreate(cxt, "gemini_etl bulk insert rows", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(old);
	return b;
}

MemoryContext
bulk_insert_row_context(BulkInsert *b)
{
	return b->batch_cxt;
}

/*
 * Write the buffered rows of the current leaf, then their index entries.
 * reset_values: also free the values of the rows (not when the row about
 * to be buffered has its values there already: a change of leaf).
 */
static void
flush(BulkInsert *b, bool reset_values)
{
	ResultRelInfo *leaf = b->leaf;
	MemoryContext old;

	if (b->nbuffered == 0)
		return;
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(b->estate));
	table_multi_insert(leaf->ri_RelationDesc, b->slots, b->nbuffered, b->cid, 0, b->bistate);
	for (int i = 0; i < b->nbuffered; i++)
	{
		if (leaf->ri_NumIndices > 0)
		{
			List	   *recheck = ExecInsertIndexTuples(leaf, b->slots[i], b->estate,
														false, false, NULL, NIL);

			list_free(recheck);
		}
		ExecClearTuple(b->slots[i]);
		ResetPerTupleExprContext(b->estate);
	}
	MemoryContextSwitchTo(old);
	b->written += b->nbuffered;
	b->nbuffered = 0;
	if (reset_values)
		MemoryContextReset(b->batch_cxt);
}

/* Make leaf the relation the buffer holds rows of. */
static void
use_leaf(BulkInsert *b, ResultRelInfo *leaf)
{
	if (leaf == b->leaf)
		return;
	flush(b, false);
	for (int i = 0; i < b->nslots; i++)
		ExecDropSingleTupleTableSlot(b->slots[i]);
	b->nslots = 0;
	/* the pinned page belongs to the previous relation (as CopyFrom does) */
	ReleaseBulkInsertStatePin(b->bistate);
	b->leaf = leaf;

	/*
	 * The buffer's slots share a copy of the descriptor: a slot of the
	 * relation's own descriptor pins it in the resource owner, and hundreds
	 * of pins per batch made the owner's list search a tenth of the time.
	 */
	if (leaf != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		b->leaf_desc = CreateTupleDescCopy(RelationGetDescr(leaf->ri_RelationDesc));
		MemoryContextSwitchTo(old);
	}
}

/* The next free slot of the buffer, made the first time it is needed. */
static TupleTableSlot *
next_slot(BulkInsert *b)
{
	if (b->nbuffered == b->nslots)
	{
		Relation	r = b->leaf->ri_RelationDesc;
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		b->slots[b->nslots++] = MakeSingleTupleTableSlot(b->leaf_desc, table_slot_callbacks(r));
		MemoryContextSwitchTo(old);
	}
	return b->slots[b->nbuffered];
}

void
bulk_insert_row(BulkInsert *b, const Datum *values, const bool *isnull)
{
	TupleTableSlot *row = b->row;
	ResultRelInfo *leaf = b->root;
	TupleTableSlot *dst;

	ExecClearTuple(row);
	memset(row->tts_isnull, true, sizeof(bool) * row->tts_tupleDescriptor->natts);
	for (int i = 0; i < b->ncols; i++)
	{
		row->tts_values[b->attnos[i] - 1] = values[i];
		row->tts_isnull[b->attnos[i] - 1] = isnull ? isnull[i] : false;
	}
	ExecStoreVirtualTuple(row);

	if (b->proute)
	{
		leaf = ExecFindPartition(b->mtstate, b->root, b->proute, row, b->estate);
		/*
		 * A partition that became foreign or got an insert trigger since
		 * partitions_plain() looked (in this transaction): the rows must go
		 * through an INSERT, and some may be written already.  Rare; the
		 * statement fails and the next attempt takes the INSERT path.
		 */
		if (leaf->ri_FdwRoutine != NULL || has_insert_side_effects(leaf->ri_RelationDesc))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition \"%s\" of \"%s\" got an insert trigger or became foreign during this transaction",
							RelationGetRelationName(leaf->ri_RelationDesc), RelationGetRelationName(b->rel)),
					 errdetail("gemini_etl had chosen to write the rows directly, as COPY does, which would skip the trigger."),
					 errhint("Run the statement again: it will see the trigger and use INSERT.")));
	}
	use_leaf(b, leaf);
	dst = next_slot(b);
	ExecClearTuple(dst);
	if (leaf->ri_RootToPartitionMap != NULL)
		dst = execute_attr_map_slot(leaf->ri_RootToPartitionMap->attrMap, row, dst);
	else
	{
		int			natts = dst->tts_tupleDescriptor->natts;

		memcpy(dst->tts_values, row->tts_values, sizeof(Datum) * natts);
		memcpy(dst->tts_isnull, row->tts_isnull, sizeof(bool) * natts);
		ExecStoreVirtualTuple(dst);
	}
	/* NOT NULL and CHECK constraints, as an INSERT checks them */
	if (leaf->ri_RelationDesc->rd_att->constr)
		ExecConstraints(leaf, dst, b->estate);
	ResetPerTupleExprContext(b->estate);
	if (++b->nbuffered == BULK_MAX_ROWS)
		flush(b, true);
}

int64
bulk_insert_close(BulkInsert *b)
{
	int64		written;

	use_leaf(b, NULL);			/* flushes, drops the slots */
	written = b->written;
	ExecDropSingleTupleTableSlot(b->row);
	FreeBulkInsertState(b->bistate);
	if (b->proute)
		ExecCleanupTupleRouting(b->mtstate, b->proute);
	ExecCloseResultRelations(b->estate);
	ExecCloseRangeTableRelations(b->estate);
	FreeExecutorState(b->estate);
	MemoryContextDelete(b->cxt);
	return written;
}
