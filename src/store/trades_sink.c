/*
 * trades_sink.c
 *	  Batched, idempotent writes of trades into gemini.trades.
 *
 * A trade is stored once per (symbol, tid), whatever time each source
 * reports for it.  gemini.trades cannot enforce that itself (a unique key of
 * a partitioned table must hold the partition key, traded_at), so every
 * stored trade has a key in the registry (trade_registry.c): a row of
 * gemini.trade_ids, or a place in a row of gemini.trade_id_spans.  A trade
 * already stored is left alone unless it now comes back broken, the one
 * change Gemini makes to a published trade; that update finds the row
 * through the time the registry recorded, not the time this source
 * reported.  The batch is made unique by tid here first (a snapshot and a
 * live message can carry the same trade), so nothing below sorts.
 *
 * Most batches hold only trades above every tid stored for the symbol: a
 * pull paging forward, the stream's live trades.  Nobody can hold their
 * keys, so there is nothing for ON CONFLICT to find, and they are written
 * the way COPY writes (bulk_insert.c), with one span row for the batch's
 * keys; that costs about as much as COPY of the same rows.  Whether a batch
 * is such a batch is decided under a per-symbol lock that every writer of
 * the symbol's trades takes: the direct writer takes it exclusive (without
 * waiting) and reads the highest tid of both registry tables with a dirty
 * snapshot (which also sees keys other transactions have written and not
 * committed yet), and writes its span before letting go.
 *
 * Other batches go through INSERT ... ON CONFLICT, holding the lock shared:
 * first the spans are asked which of the batch's trades they hold (waiting
 * for a span's writer to commit or roll back), then the rest claim their
 * keys in gemini.trade_ids (ON CONFLICT DO NOTHING, which also settles a
 * race with another claimer: the second one waits for the first and claims
 * nothing), and exactly the claimed trades are inserted, with a plain
 * INSERT.  So a key is either in the registry before the direct writer
 * looks (and its batch takes this path), or it is looked for after the
 * direct writer's span is there.  The lock is held for one batch, never
 * while waiting for the network.  It cannot close a deadlock: the exclusive
 * mode is only ever tried, never waited for, and the shared mode waits only
 * behind a direct writer's batch, which waits for nobody (its keys cannot
 * conflict); a claimer may wait for another transaction while holding it
 * shared, as ON CONFLICT waits, and the deadlock detector sees those waits.
 * A direct writer that finds the lock taken uses ON CONFLICT.
 *
 * A batch goes in as one statement over unnest(arrays): one plan per page
 * instead of 500.  (A multi-array unnest() in FROM is parser syntax that
 * only the bare name gets; it is safe bare because every caller pins
 * search_path.)  Prices and amounts travel as text and are cast to numeric
 * by numeric_in, in SQL or here, so they never pass through a double.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "store/store.h"
#include "store/bulk_insert.h"
#include "store/trade_registry.h"
#include "store/spi_util.h"

/* lock class of the writers of a symbol's trades (locks.c), keyed by its hash */
#define TRADE_WRITERS_LOCK_CLASS	0x54524457	/* "TRDW" */

static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr insert_plan = NULL;

/* Claim the keys; RETURNING says which were not stored yet. */
static const char *claim_sql =
"INSERT INTO gemini.trade_ids (symbol, tid, traded_at)"
"  SELECT $1, u.tid, u.ts FROM unnest($2::int8[], $3::timestamptz[]) AS u(tid, ts)"
"  ON CONFLICT (symbol, tid) DO NOTHING"
"  RETURNING tid";

/* The claimed trades: nobody else can hold their keys. */
static const char *insert_sql =
"INSERT INTO gemini.trades (symbol, tid, traded_at, price, amount, side, broken, source, run_id)"
"  SELECT $1, u.tid, u.ts, u.price::pg_catalog.numeric, u.amount::pg_catalog.numeric, u.side, u.broken, $8, $9"
"    FROM unnest($2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[])"
"         AS u(tid, ts, price, amount, side, broken)";

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

/*
 * Mark stored trades broken; tids[] holds the broken trades' tids (k of
 * them).  Where gemini.trade_ids has no key, known_tids/known_ts (nknown)
 * say where the spans store some of them.
 */
static int64
mark_broken(Datum symbol, Datum *tids, int k, const Datum *known_tids, const Datum *known_ts, int nknown)
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
	if (n + nknown == 0)
		return 0;
	stids = palloc(sizeof(Datum) * (n + nknown));
	sts = palloc(sizeof(Datum) * (n + nknown));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		stids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		sts[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
	}
	for (int i = 0; i < nknown; i++)
	{
		stids[n + i] = known_tids[i];
		sts[n + i] = known_ts[i];
	}
	n += nknown;
	values[1] = PointerGetDatum(construct_array(stids, (int) n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(sts, (int) n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(break_sql, 3, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gemini_etl: marking broken trades failed");
	return (int64) SPI_processed;
}

static int
cmp_trade_ptr_tid(const void *a, const void *b)
{
	int64		x = (*(const StoreTrade *const *) a)->tid;
	int64		y = (*(const StoreTrade *const *) b)->tid;

	return (x > y) - (x < y);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The batch by tid, each tid once (its first occurrence in tid order).  A
 * pull's page comes sorted already; a stream's buffer is sorted here.
 */
static const StoreTrade **
unique_by_tid(const StoreTrade *trades, int n, int *nunique)
{
	const StoreTrade **v = palloc(sizeof(StoreTrade *) * n);
	bool		sorted = true;
	int			k = 0;

	for (int i = 0; i < n; i++)
	{
		v[i] = &trades[i];
		if (i > 0 && trades[i - 1].tid > trades[i].tid)
			sorted = false;
	}
	if (!sorted)
		qsort(v, n, sizeof(StoreTrade *), cmp_trade_ptr_tid);
	for (int i = 0; i < n; i++)
		if (k == 0 || v[k - 1]->tid != v[i]->tid)
			v[k++] = v[i];
	*nunique = k;
	return v;
}

/* text[] of the field at `offset` of each trade in v. */
static Datum
text_array_of(const StoreTrade **v, int n, size_t offset)
{
	const char **strs = palloc(sizeof(char *) * n);

	for (int i = 0; i < n; i++)
		strs[i] = *(const char *const *) ((const char *) v[i] + offset);
	return spi_text_array(strs, n, sizeof(char *));
}

static uint32
writers_key(const char *symbol)
{
	return hash_bytes((const unsigned char *) symbol, (int) strlen(symbol));
}

/*
 * The direct path (see the header): v holds nu trades sorted by tid, each
 * once.  false when the batch must take the ON CONFLICT path; then nothing
 * was written.
 */
static bool
store_trades_direct(const char *symbol, const char *source, int64 run_id,
					const StoreTrade **v, int nu)
{
	static const BulkColumn trade_cols[] = {
		{"symbol", TEXTOID}, {"tid", INT8OID}, {"traded_at", TIMESTAMPTZOID},
		{"price", NUMERICOID}, {"amount", NUMERICOID}, {"side", TEXTOID}, {"broken", BOOLOID},
		{"source", TEXTOID}, {"run_id", INT8OID}, {"ingested_at", TIMESTAMPTZOID}
	};
	uint32		lock_key = writers_key(symbol);
	BulkInsert *rows = NULL;
	Datum		values[10];
	bool		isnull[10] = {0};

	if (!store_private_lock_mode(TRADE_WRITERS_LOCK_CLASS, lock_key, ExclusiveLock, false))
		return false;
	/* the keys first: the span is written only if the rows can be */
	if (v[0]->tid <= registry_max_tid(symbol) ||
		(rows = bulk_insert_open(store_gemini_relid("trades"), trade_cols, lengthof(trade_cols))) == NULL ||
		!registry_write_span(symbol, v, nu))
	{
		if (rows != NULL)
			bulk_insert_close(rows);	/* holds no row yet: writes nothing */
		store_private_unlock_mode(TRADE_WRITERS_LOCK_CLASS, lock_key, ExclusiveLock);
		return false;
	}

	values[0] = CStringGetTextDatum(symbol);
	values[7] = CStringGetTextDatum(source);
	values[8] = Int64GetDatum(run_id);
	isnull[8] = run_id <= 0;
	values[9] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	for (int i = 0; i < nu; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(bulk_insert_row_context(rows));

		values[1] = Int64GetDatum(v[i]->tid);
		values[2] = TimestampTzGetDatum(v[i]->traded_at);
		/* numeric_in, as the INSERT's cast: exact, and the same errors */
		values[3] = DirectFunctionCall3(numeric_in, CStringGetDatum(v[i]->price),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[4] = DirectFunctionCall3(numeric_in, CStringGetDatum(v[i]->amount),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[5] = CStringGetTextDatum(v[i]->side);
		values[6] = BoolGetDatum(v[i]->broken);
		MemoryContextSwitchTo(old);
		bulk_insert_row(rows, values, isnull);
	}
	bulk_insert_close(rows);
	store_private_unlock_mode(TRADE_WRITERS_LOCK_CLASS, lock_key, ExclusiveLock);
	return true;
}

void
store_trades(const char *symbol, const char *source, int64 run_id,
			 const StoreTrade *trades, int n, int64 *inserted, int64 *updated, bool *stored)
{
	Oid			claim_types[3] = {TEXTOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Oid			argtypes[9] = {TEXTOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLARRAYOID, TEXTOID, INT8OID};
	Datum		values[9];
	char		nulls[9] = "         ";
	const StoreTrade **v;
	Datum	   *tids,
			   *ts,
			   *broken;
	int			nu;
	int			nbroken = 0;
	uint64		claimed;
	bool	   *in_span;
	TimestampTz *span_at;
	Datum	   *known_tids = NULL;
	Datum	   *known_ts = NULL;
	int			nknown = 0;

	if (n <= 0)
		return;
	if (stored)
		memset(stored, 0, sizeof(bool) * n);
	v = unique_by_tid(trades, n, &nu);
	if (store_trades_direct(symbol, source, run_id, v, nu))
	{
		elog(DEBUG1, "gemini_etl: %d trades of %s written directly (tids " INT64_FORMAT " to " INT64_FORMAT ")",
			 nu, symbol, v[0]->tid, v[nu - 1]->tid);
		/* every trade was new: a broken one was stored broken */
		*inserted += nu;
		for (int i = 0; stored && i < nu; i++)
			stored[v[i] - trades] = true;
		return;
	}
	values[0] = CStringGetTextDatum(symbol);
	for (int i = 0; i < nu; i++)
		nbroken += v[i]->broken ? 1 : 0;
	elog(DEBUG1, "gemini_etl: %d trades of %s written through INSERT ... ON CONFLICT", nu, symbol);

	/*
	 * Shared with other claims, excluding a direct writer's look (see the
	 * header).  Trades a span holds are stored already: the claim is for
	 * the others (whose keys can only be in gemini.trade_ids).
	 */
	store_private_lock_mode(TRADE_WRITERS_LOCK_CLASS, writers_key(symbol), ShareLock, true);
	in_span = palloc(sizeof(bool) * nu);
	span_at = palloc(sizeof(TimestampTz) * nu);
	if (registry_spans_lookup(symbol, v, nu, in_span, span_at) > 0)
	{
		int			k = 0;

		known_tids = palloc(sizeof(Datum) * nu);
		known_ts = palloc(sizeof(Datum) * nu);
		for (int i = 0; i < nu; i++)
		{
			if (!in_span[i])
				v[k++] = v[i];
			else if (v[i]->broken)
			{
				known_tids[nknown] = Int64GetDatum(v[i]->tid);
				known_ts[nknown++] = TimestampTzGetDatum(span_at[i]);
			}
		}
		nu = k;
	}
	tids = palloc(sizeof(Datum) * Max(nu, 1));
	ts = palloc(sizeof(Datum) * Max(nu, 1));
	broken = palloc(sizeof(Datum) * Max(nu, 1));
	for (int i = 0; i < nu; i++)
	{
		tids[i] = Int64GetDatum(v[i]->tid);
		ts[i] = TimestampTzGetDatum(v[i]->traded_at);
	}
	claimed = 0;
	if (nu > 0)
	{
		values[1] = PointerGetDatum(construct_array(tids, nu, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[2] = PointerGetDatum(construct_array(ts, nu, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		spi_exec_checked(spi_keep_plan(&claim_plan, claim_sql, 3, claim_types), values, NULL,
						 SPI_OK_INSERT_RETURNING, "claiming trade ids");
		claimed = SPI_processed;
	}
	store_private_unlock_mode(TRADE_WRITERS_LOCK_CLASS, writers_key(symbol), ShareLock);

	/*
	 * Usually every trade is new and the arrays serve as they are; otherwise
	 * keep the claimed ones (RETURNING order is not the input's).
	 */
	if (claimed < (uint64) nu)
	{
		int64	   *got = palloc(sizeof(int64) * Max(claimed, 1));
		int			k = 0;

		for (uint64 i = 0; i < claimed; i++)
		{
			bool		isnull;

			got[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		}
		qsort(got, claimed, sizeof(int64), cmp_int64);
		for (int i = 0; i < nu; i++)
			if (bsearch(&v[i]->tid, got, claimed, sizeof(int64), cmp_int64) != NULL)
			{
				v[k] = v[i];
				tids[k] = tids[i];
				ts[k] = ts[i];
				k++;
			}
		values[1] = PointerGetDatum(construct_array(tids, k, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[2] = PointerGetDatum(construct_array(ts, k, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		nu = k;
	}
	if (nu > 0)
	{
		for (int i = 0; i < nu; i++)
			broken[i] = BoolGetDatum(v[i]->broken);
		values[3] = text_array_of(v, nu, offsetof(StoreTrade, price));
		values[4] = text_array_of(v, nu, offsetof(StoreTrade, amount));
		values[5] = text_array_of(v, nu, offsetof(StoreTrade, side));
		values[6] = PointerGetDatum(construct_array(broken, nu, BOOLOID, 1, true, TYPALIGN_CHAR));
		values[7] = CStringGetTextDatum(source);
		values[8] = Int64GetDatum(run_id);
		if (run_id <= 0)
			nulls[8] = 'n';
		spi_exec_checked(spi_keep_plan(&insert_plan, insert_sql, 9, argtypes), values, nulls,
						 SPI_OK_INSERT, "storing trades");
		if (SPI_processed != (uint64) nu)
			elog(ERROR, "gemini_etl: stored " UINT64_FORMAT " of %d claimed trades", SPI_processed, nu);
		*inserted += nu;
		for (int i = 0; stored && i < nu; i++)
			stored[v[i] - trades] = true;
	}

	/*
	 * A broken trade that was already stored (a re-pull, an overlap) may
	 * need marking; when every trade of the batch was new, each broken one
	 * was just stored broken.
	 */
	if (nbroken > 0 && claimed < (uint64) n)
	{
		Datum	   *btids = palloc(sizeof(Datum) * n);
		int			k = 0;

		for (int i = 0; i < n; i++)
			if (trades[i].broken)
				btids[k++] = Int64GetDatum(trades[i].tid);
		*updated += mark_broken(values[0], btids, k, known_tids, known_ts, nknown);
	}
}
