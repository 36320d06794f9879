/*
 * trade_registry.c
 *	  Reads and writes of the registry of stored trades' keys.
 *
 * The registry is two tables.  gemini.trade_ids holds a row per trade
 * written through INSERT ... ON CONFLICT, whose unique key settles races
 * between writers.  gemini.trade_id_spans holds a row per batch written
 * directly (the way COPY writes, bulk_insert.c): the batch's tids in order
 * and the time each is stored under.  A row per trade in trade_ids cost a
 * third of a pull (a heap tuple and a unique index entry per trade, as many
 * as the trades themselves); a span costs one row per 500 trades.
 *
 * A batch is written directly only when its lowest tid is above every key
 * of the symbol in both tables (registry_max_tid), decided under the
 * symbol's writers lock held exclusive (trades_sink.c), so a symbol's spans
 * never overlap and come in tid order.  The span that may hold a tid is the
 * first one whose tid_hi is >= it, and the spans overlapping a batch are
 * read by walking the primary key (symbol, tid_hi) forward from the batch's
 * lowest tid until a span starts above its highest.
 *
 * Both reads use a dirty snapshot, which also sees rows of transactions
 * still in progress, as a unique index check does.  For the maximum that is
 * the point (a key being written counts); the spans are read before
 * trade_ids because keys move only from a span to trade_ids (the delete
 * trigger), so a key cannot slip between the two reads.  The span lookup,
 * which decides that trades are stored already, must not trust a span that
 * may still roll back or be moved: when one holds trades of the batch, it
 * waits for that span's writer to end and looks again, as
 * check_exclusion_or_unique_constraint does in execIndexing.c.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "access/xact.h"

#include "store/bulk_insert.h"
#include "store/spi_util.h"
#include "store/trade_registry.h"

/*
 * The key column of the last entry of table's primary key among the
 * symbol's (the primary key is (symbol, column)), dirty: -1 when none.
 */
static int64
last_key_of(const char *table, const char *column, const char *symbol)
{
	Relation	rel = table_open(store_gemini_relid(table), AccessShareLock);
	Relation	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	SnapshotData dirty;
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int64		max = -1;

	InitDirtySnapshot(dirty);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0],
						   F_TEXTEQ, CStringGetTextDatum(symbol));
	scan = index_beginscan(rel, idx, &dirty, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, get_attnum(RelationGetRelid(rel), column), &isnull);

		if (!isnull)
			max = DatumGetInt64(d);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return max;
}

int64
registry_max_tid(const char *symbol)
{
	/*
	 * The spans first: keys only ever move from a span to trade_ids (the
	 * delete trigger, at its commit), so a key missed in the spans because
	 * it moved meanwhile is in trade_ids by the time that is read.
	 */
	int64		spans_max = last_key_of("trade_id_spans", "tid_hi", symbol);
	int64		ids_max = last_key_of("trade_ids", "tid", symbol);

	return Max(spans_max, ids_max);
}

/*
 * Mark the trades of v that the span (tids ascending, times at) holds.
 * Both lists are in tid order, so one merge walk finds them.
 */
static int
match_span(const StoreTrade **v, int nu, int64 lo, int64 hi, ArrayType *tids_arr, ArrayType *at_arr,
		   bool *found, TimestampTz *at)
{
	Datum	   *tids;
	Datum	   *times;
	int			ntids;
	int			ntimes;
	int			n = 0;
	int			j = 0;

	/* no null flags wanted: a NULL element is an error (22004) */
	deconstruct_array(tids_arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &tids, NULL, &ntids);
	deconstruct_array(at_arr, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &times, NULL, &ntimes);
	if (ntids != ntimes)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a row of gemini.trade_id_spans has %d tids and %d times", ntids, ntimes),
				 errhint("The table's check constraint forbids this; was it altered?")));
	for (int i = 0; i < nu && v[i]->tid <= hi; i++)
	{
		if (v[i]->tid < lo || found[i])
			continue;
		while (j < ntids && DatumGetInt64(tids[j]) < v[i]->tid)
			j++;
		if (j == ntids)
			break;
		if (DatumGetInt64(tids[j]) == v[i]->tid)
		{
			found[i] = true;
			at[i] = DatumGetTimestampTz(times[j]);
			n++;
		}
	}
	pfree(tids);
	pfree(times);
	return n;
}

int
registry_spans_lookup(const char *symbol, const StoreTrade **v, int nu, bool *found, TimestampTz *at)
{
	Relation	rel = table_open(store_gemini_relid("trade_id_spans"), AccessShareLock);
	Relation	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	AttrNumber	lo_att = get_attnum(RelationGetRelid(rel), "tid_lo");
	AttrNumber	hi_att = get_attnum(RelationGetRelid(rel), "tid_hi");
	AttrNumber	tids_att = get_attnum(RelationGetRelid(rel), "tids");
	AttrNumber	at_att = get_attnum(RelationGetRelid(rel), "traded_at");
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Datum		symbol_text = CStringGetTextDatum(symbol);
	int			nfound;

	for (;;)
	{
		SnapshotData dirty;
		ScanKeyData keys[2];
		IndexScanDesc scan;
		TransactionId xwait = InvalidTransactionId;
		ItemPointerData wait_tid;

		CHECK_FOR_INTERRUPTS();
		memset(found, 0, sizeof(bool) * nu);
		nfound = 0;
		InitDirtySnapshot(dirty);
		ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0],
							   F_TEXTEQ, symbol_text);
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid, InvalidOid,
							   F_INT8GE, Int64GetDatum(v[0]->tid));
		scan = index_beginscan(rel, idx, &dirty, 2, 0);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			int64		lo = DatumGetInt64(slot_getattr(slot, lo_att, &isnull));
			int64		hi = DatumGetInt64(slot_getattr(slot, hi_att, &isnull));
			Datum		tids_d;
			Datum		at_d;
			ArrayType  *tids_arr;
			ArrayType  *at_arr;
			int			hits;
			/* set by the dirty snapshot for this tuple: its writer or deleter, if in progress */
			TransactionId busy = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;

			/* spans come in tid order and do not overlap */
			if (lo > v[nu - 1]->tid)
				break;
			tids_d = slot_getattr(slot, tids_att, &isnull);
			at_d = slot_getattr(slot, at_att, &isnull);
			tids_arr = DatumGetArrayTypeP(tids_d);
			at_arr = DatumGetArrayTypeP(at_d);
			hits = match_span(v, nu, lo, hi, tids_arr, at_arr, found, at);
			/* detoasted copies: a scan over many spans frees as it goes */
			if ((Pointer) tids_arr != DatumGetPointer(tids_d))
				pfree(tids_arr);
			if ((Pointer) at_arr != DatumGetPointer(at_d))
				pfree(at_arr);
			if (hits == 0)
				continue;

			/*
			 * Written, or being changed, by a transaction still in progress:
			 * it may yet roll back (or move these keys into trade_ids), so
			 * wait for it and look again.  Only for a span that holds trades
			 * of this batch: a stream's flush does not wait for a pull that
			 * merely works in the same tid range.
			 */
			if (TransactionIdIsValid(busy))
			{
				xwait = busy;
				wait_tid = slot->tts_tid;
				break;
			}

			/*
			 * Committed.  A transaction-snapshot caller (REPEATABLE READ)
			 * that cannot see the span cannot see its trades either, and
			 * would mark none of them broken: the same serialization
			 * failure ON CONFLICT raises when it meets a key committed
			 * after the snapshot.
			 */
			if (IsolationUsesXactSnapshot() &&
				!table_tuple_satisfies_snapshot(rel, slot, GetTransactionSnapshot()))
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update"),
						 errdetail("Trades of %s in this batch were stored by a transaction that committed after this one took its snapshot.",
								   symbol),
						 errhint("Run the transaction again.")));
			nfound += hits;
		}
		index_endscan(scan);
		if (!TransactionIdIsValid(xwait))
			break;
		ExecClearTuple(slot);	/* no buffer pin held while waiting */
		XactLockTableWait(xwait, rel, &wait_tid, XLTW_InsertIndexUnique);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return nfound;
}

bool
registry_write_span(const char *symbol, const StoreTrade **v, int nu)
{
	static const BulkColumn cols[] = {
		{"symbol", TEXTOID}, {"tid_lo", INT8OID}, {"tid_hi", INT8OID},
		{"tids", INT8ARRAYOID}, {"traded_at", TIMESTAMPTZARRAYOID}
	};
	BulkInsert *b = bulk_insert_open(store_gemini_relid("trade_id_spans"), cols, lengthof(cols));
	Datum	   *tids;
	Datum	   *times;
	Datum		values[5];

	if (b == NULL)
		return false;
	tids = palloc(sizeof(Datum) * nu);
	times = palloc(sizeof(Datum) * nu);
	for (int i = 0; i < nu; i++)
	{
		tids[i] = Int64GetDatum(v[i]->tid);
		times[i] = TimestampTzGetDatum(v[i]->traded_at);
	}
	values[0] = CStringGetTextDatum(symbol);
	values[1] = Int64GetDatum(v[0]->tid);
	values[2] = Int64GetDatum(v[nu - 1]->tid);
	values[3] = PointerGetDatum(construct_array(tids, nu, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(times, nu, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	bulk_insert_row(b, values, NULL);
	bulk_insert_close(b);
	pfree(DatumGetPointer(values[3]));
	pfree(DatumGetPointer(values[4]));
	pfree(tids);
	pfree(times);
	return true;
}
