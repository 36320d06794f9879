/*
 * trades_sink.c
 *	  Batched, idempotent writes of trades into gemini.trades.
 *
 * A batch goes in as one INSERT ... SELECT FROM unnest(arrays) with ON
 * CONFLICT on the table's unique key (symbol, tid, traded_at): one statement
 * and one plan per page instead of 500, which is what keeps the pull near
 * COPY speed.  Prices and amounts travel as text and are cast to numeric by
 * numeric_in in SQL, so they never pass through a double.  A trade already
 * stored is left alone unless it now comes back broken, the one change
 * Gemini makes to a published trade.
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

/* New trades only; SPI_processed is then exactly the number newly stored. */
static const char *insert_sql =
"INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, broken, source, run_id)"
"  SELECT $1, u.tid, u.ts, u.price::numeric, u.amount::numeric, u.side, u.broken, $8, $9"
"    FROM unnest($2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[])"
"         AS u(tid, ts, price, amount, side, broken)"
"  ON CONFLICT (symbol, tid, traded_at) DO NOTHING";

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
" WHERE t.symbol = $1 AND t.tid = ANY ($2) AND t.traded_at = ANY ($3)"
"   AND t.tid = u.tid AND t.traded_at = u.ts AND NOT t.broken";


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
		Oid			bargtypes[3] = {TEXTOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
		Datum		bvalues[3];
		int			k = 0;

		for (int i = 0; i < n; i++)
			if (trades[i].broken)
			{
				tids[k] = Int64GetDatum(trades[i].tid);
				ts[k] = TimestampTzGetDatum(trades[i].traded_at);
				k++;
			}
		bvalues[0] = values[0];
		bvalues[1] = PointerGetDatum(construct_array(tids, k, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		bvalues[2] = PointerGetDatum(construct_array(ts, k, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (SPI_execute_with_args(break_sql, 3, bargtypes, bvalues, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "gemini_etl: marking broken trades failed");
		*updated += (int64) SPI_processed;
	}
}
