/*
 * trades_sink.c
 *	  Batched, idempotent writes of trades into gemini.trades.
 *
 * A batch goes in as one statement over unnest(arrays): one plan per page
 * instead of 500, which is what keeps the pull near COPY speed.  (A
 * multi-array unnest() in FROM is parser syntax that only the bare name gets;
 * it is safe bare because every caller pins search_path.)  Prices and
 * amounts travel as text and are cast to numeric by numeric_in in SQL, so
 * they never pass through a double.
 *
 * A trade is stored once per (symbol, tid), whatever time each source
 * reports for it.  gemini.trades cannot enforce that itself (a unique key of
 * a partitioned table must hold the partition key, traded_at), so the same
 * statement first claims each key in gemini.trade_ids (ON CONFLICT DO
 * NOTHING, which also settles a race with a concurrent writer) and inserts
 * into gemini.trades only the trades it claimed.  A trade already stored is
 * left alone unless it now comes back broken, the one change Gemini makes to
 * a published trade; that update finds the row through the time the
 * registry recorded, not the time this source reported.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr insert_plan = NULL;

/*
 * New trades only; SPI_processed is then exactly the number newly stored.
 * DISTINCT ON keeps one row of a tid that a batch repeats (a snapshot and a
 * live message can carry the same trade).
 */
static const char *insert_sql =
"WITH u AS MATERIALIZED ("
"  SELECT DISTINCT ON (u.tid) u.*"
"    FROM unnest($2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[])"
"         AS u(tid, ts, price, amount, side, broken)"
"   ORDER BY u.tid),"
"  claimed AS ("
"  INSERT INTO gemini.trade_ids (symbol, tid, traded_at)"
"  SELECT $1, u.tid, u.ts FROM u"
"  ON CONFLICT (symbol, tid) DO NOTHING"
"  RETURNING tid)"
"INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, broken, source, run_id)"
"  SELECT $1, u.tid, u.ts, u.price::pg_catalog.numeric, u.amount::pg_catalog.numeric, u.side, u.broken, $8, $9"
"    FROM u JOIN claimed c ON c.tid = u.tid";

/* Where the registry says the batch's broken trades are stored. */
static const char *stored_at_sql =
"SELECT k.tid, k.traded_at FROM gemini.trade_ids k"
" WHERE k.symbol = $1 AND k.tid OPERATOR(pg_catalog.=) ANY ($2)";

/*
 * Trades of the batch that came back broken but were stored unbroken.  Run
 * only when the batch has broken trades that the INSERT did not store (see
 * store_trades), so the common page costs one statement.  It is planned
 * afresh each time (not a kept plan) with "traded_at = ANY($3)", so the
 * planner prunes to the partitions of those days: a generic plan would lock
 * every partition, DEFAULT included, until the pull commits, and block the
 * worker that attaches new partitions.  "tid = ANY($2)" gives the unique
 * index (symbol, tid, traded_at) a condition on its second column: without
 * it the scan is on symbol alone and reads every trade of the symbol in
 * those partitions, per page (a pull then grows quadratically).
 */
static const char *break_sql =
"UPDATE gemini.trades t SET broken = true"
"  FROM unnest($2::int8[], $3::timestamptz[]) AS u(tid, ts)"
" WHERE t.symbol = $1 AND t.tid OPERATOR(pg_catalog.=) ANY ($2) AND t.traded_at OPERATOR(pg_catalog.=) ANY ($3)"
"   AND t.tid = u.tid AND t.traded_at = u.ts AND NOT t.broken";

/* Mark stored trades broken; tids[] holds the broken trades' tids (k of them). */
static int64
mark_broken(Datum symbol, Datum *tids, int k)
{
	Oid			argtypes[3] = {TEXTOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		values[3];
	Datum	   *stids;
	Datum	   *sts;
	uint64		n;

	values[0] = symbol;
	values[1] = PointerGetDatum(construct_array(tids, k, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(stored_at_sql, 2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: reading gemini.trade_ids failed");
	n = SPI_processed;
	if (n == 0)
		return 0;
	stids = palloc(sizeof(Datum) * n);
	sts = palloc(sizeof(Datum) * n);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		stids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		sts[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
	}
	values[1] = PointerGetDatum(construct_array(stids, (int) n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(sts, (int) n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(break_sql, 3, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gemini_etl: marking broken trades failed");
	return (int64) SPI_processed;
}

void
store_trades(const char *symbol, const char *source, int64 run_id,
			 const StoreTrade *trades, int n, int64 *inserted, int64 *updated)
{
	Oid			argtypes[9] = {TEXTOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLARRAYOID, TEXTOID, INT8OID};
	Datum		values[9];
	char		nulls[9] = "         ";
	Datum	   *tids,
			   *ts,
			   *broken;
	int			nbroken = 0;
	SPIPlanPtr	plan;

	if (n <= 0)
		return;
	plan = spi_keep_plan(&insert_plan, insert_sql, 9, argtypes);

	tids = palloc(sizeof(Datum) * n);
	ts = palloc(sizeof(Datum) * n);
	broken = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		tids[i] = Int64GetDatum(trades[i].tid);
		ts[i] = TimestampTzGetDatum(trades[i].traded_at);
		broken[i] = BoolGetDatum(trades[i].broken);
		nbroken += trades[i].broken ? 1 : 0;
	}
	values[0] = CStringGetTextDatum(symbol);
	values[1] = PointerGetDatum(construct_array(tids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(ts, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = spi_text_array(&trades[0].price, n, sizeof(StoreTrade));
	values[4] = spi_text_array(&trades[0].amount, n, sizeof(StoreTrade));
	values[5] = spi_text_array(&trades[0].side, n, sizeof(StoreTrade));
	values[6] = PointerGetDatum(construct_array(broken, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	values[7] = CStringGetTextDatum(source);
	values[8] = Int64GetDatum(run_id);
	if (run_id <= 0)
		nulls[8] = 'n';

	spi_exec_checked(plan, values, nulls, SPI_OK_INSERT, "storing trades");
	*inserted += (int64) SPI_processed;

	/*
	 * When the INSERT stored all n trades, each broken one of them was just
	 * stored broken, and no other row has its key: nothing to mark.  Only a
	 * batch with trades already stored (a re-pull, an overlap, a repeated
	 * trade) needs the UPDATE.
	 */
	if (nbroken > 0 && SPI_processed < (uint64) n)
	{
		int			k = 0;

		for (int i = 0; i < n; i++)
			if (trades[i].broken)
				tids[k++] = Int64GetDatum(trades[i].tid);
		*updated += mark_broken(values[0], tids, k);
	}
}
