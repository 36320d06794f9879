/*
 * stream_sink.c
 *	  What a stream's flush writes besides trades: order-book changes, the
 *	  top of book, dead letters, computed candles and the stream's status.
 *
 * Book changes have no key: they are written the way COPY writes
 * (bulk_insert.c), or, when the table asks for more than that (a trigger
 * of the user's, say), as one INSERT ... SELECT FROM unnest(arrays) per
 * flush.  (A multi-array unnest() in FROM is parser syntax that only the
 * bare name gets; it is safe bare because every caller pins search_path.)
 * Candles are recomputed from gemini.trades for the minutes a flush touched,
 * so a late trade (from the websocket or the REST backfill) updates its
 * candle and a candle always agrees with the trades table.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/numeric.h"

#include "mb/pg_wchar.h"

#include "gemini_parse.h"
#include "store/bulk_insert.h"
#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr book_plan = NULL;
static SPIPlanPtr top_plan = NULL;
static SPIPlanPtr dead_plan = NULL;
static SPIPlanPtr status_plan = NULL;
static SPIPlanPtr desired_plan = NULL;
static SPIPlanPtr candles_plan = NULL;

/* The direct path; false when the table needs the INSERT (nothing written). */
static bool
store_book_changes_direct(int stream_id, const StoreBookChange *c, int n)
{
	static const BulkColumn cols[] = {
		{"symbol", TEXTOID}, {"received_at", TIMESTAMPTZOID}, {"side", TEXTOID},
		{"price", NUMERICOID}, {"size", NUMERICOID}, {"snapshot", BOOLOID},
		{"update_id", INT8OID}, {"stream_id", INT4OID}
	};
	BulkInsert *b = bulk_insert_open(store_gemini_relid("book_changes"), cols, lengthof(cols));
	Datum		bid = CStringGetTextDatum("bid");
	Datum		ask = CStringGetTextDatum("ask");
	Datum		values[8];
	bool		isnull[8] = {0};
	const char *symbol = NULL;

	if (b == NULL)
		return false;
	values[7] = Int32GetDatum(stream_id);
	for (int i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(bulk_insert_row_context(b));

		/* a flush holds a few symbols: one text datum per run of the same one */
		if (symbol == NULL || strcmp(symbol, c[i].symbol) != 0)
		{
			MemoryContextSwitchTo(old);
			symbol = c[i].symbol;
			values[0] = CStringGetTextDatum(symbol);
			MemoryContextSwitchTo(bulk_insert_row_context(b));
		}
		values[1] = TimestampTzGetDatum(c[i].received_at);
		values[2] = c[i].is_bid ? bid : ask;
		values[3] = DirectFunctionCall3(numeric_in, CStringGetDatum(c[i].price),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[4] = DirectFunctionCall3(numeric_in, CStringGetDatum(c[i].size),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[5] = BoolGetDatum(c[i].snapshot);
		values[6] = Int64GetDatum(c[i].update_id);
		isnull[6] = c[i].update_id == 0;
		MemoryContextSwitchTo(old);
		bulk_insert_row(b, values, isnull);
	}
	bulk_insert_close(b);
	return true;
}

void
store_book_changes(int stream_id, const StoreBookChange *c, int n)
{
	Oid			argtypes[8] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID, BOOLARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLARRAYOID, INT8ARRAYOID, INT4OID};
	Datum		v[8];
	char		nulls[8] = "        ";
	Datum	   *ts,
			   *bid,
			   *snap,
			   *uid;
	bool	   *uid_null;
	int			dims[1] = {n};
	int			lbs[1] = {1};
	SPIPlanPtr	plan;
	DateADT		lo = 0,
				hi = 0;

	if (n <= 0)
		return;
	ts = palloc(sizeof(Datum) * n);
	bid = palloc(sizeof(Datum) * n);
	snap = palloc(sizeof(Datum) * n);
	uid = palloc(sizeof(Datum) * n);
	uid_null = palloc(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		DateADT		d = store_day_of(c[i].received_at);

		ts[i] = TimestampTzGetDatum(c[i].received_at);
		bid[i] = BoolGetDatum(c[i].is_bid);
		snap[i] = BoolGetDatum(c[i].snapshot);
		uid[i] = Int64GetDatum(c[i].update_id);
		uid_null[i] = c[i].update_id == 0;
		if (i == 0 || d < lo)
			lo = d;
		if (i == 0 || d > hi)
			hi = d;
	}
	store_ensure_day_partitions("gemini.book_changes", lo, hi);
	if (store_book_changes_direct(stream_id, c, n))
		return;
	plan = spi_keep_plan(&book_plan,
						 "INSERT INTO gemini.book_changes (symbol, received_at, side, price, size, snapshot, update_id, stream_id)"
						 " SELECT u.s, u.t, CASE WHEN u.b THEN 'bid' ELSE 'ask' END, u.p::pg_catalog.numeric, u.z::pg_catalog.numeric, u.n, u.id, $8"
						 "   FROM unnest($1::text[], $2::timestamptz[], $3::bool[], $4::text[], $5::text[], $6::bool[], $7::int8[])"
						 "        AS u(s, t, b, p, z, n, id)",
						 8, argtypes);
	v[0] = spi_text_array(&c[0].symbol, n, sizeof(StoreBookChange));
	v[1] = PointerGetDatum(construct_array(ts, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[2] = PointerGetDatum(construct_array(bid, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	v[3] = spi_text_array(&c[0].price, n, sizeof(StoreBookChange));
	v[4] = spi_text_array(&c[0].size, n, sizeof(StoreBookChange));
	v[5] = PointerGetDatum(construct_array(snap, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	v[6] = PointerGetDatum(construct_md_array(uid, uid_null, 1, dims, lbs, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[7] = Int32GetDatum(stream_id);
	spi_exec_checked(plan, v, nulls, SPI_OK_INSERT, "storing book changes");
}

void
store_top_of_book(const char *symbol, const char *bid, const char *bid_size,
				  const char *ask, const char *ask_size, TimestampTz at)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		v[6];
	char		nulls[6] = "      ";
	SPIPlanPtr	plan = spi_keep_plan(&top_plan,
									 "INSERT INTO gemini.top_of_book AS t (symbol, bid, bid_size, ask, ask_size, updated_at)"
									 " VALUES ($1, $2::pg_catalog.numeric, $3::pg_catalog.numeric, $4::pg_catalog.numeric, $5::pg_catalog.numeric, $6)"
									 " ON CONFLICT (symbol) DO UPDATE SET bid = excluded.bid, bid_size = excluded.bid_size,"
									 " ask = excluded.ask, ask_size = excluded.ask_size, updated_at = excluded.updated_at",
									 6, argtypes);

	v[0] = CStringGetTextDatum(symbol);
	v[1] = bid ? CStringGetTextDatum(bid) : (Datum) 0;
	nulls[1] = bid ? ' ' : 'n';
	v[2] = bid_size ? CStringGetTextDatum(bid_size) : (Datum) 0;
	nulls[2] = bid_size ? ' ' : 'n';
	v[3] = ask ? CStringGetTextDatum(ask) : (Datum) 0;
	nulls[3] = ask ? ' ' : 'n';
	v[4] = ask_size ? CStringGetTextDatum(ask_size) : (Datum) 0;
	nulls[4] = ask_size ? ' ' : 'n';
	v[5] = TimestampTzGetDatum(at);
	spi_exec_checked(plan, v, nulls, SPI_OK_INSERT, "storing the top of book");
}

/*
 * A frame as received may hold NUL, invalid UTF-8, or bytes the database
 * encoding cannot hold: such bytes are written as \xNN (gp_text_escape), so
 * every dead letter can be stored and read, whatever the peer sent.
 */
static Datum
storable_text(const char *bytes, size_t len)
{
	size_t		out_len;
	char	   *esc = gp_text_escape(bytes, len, GetDatabaseEncoding() == PG_UTF8, &out_len);
	Datum		d;

	if (esc == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory storing a dead letter")));
	d = PointerGetDatum(cstring_to_text_with_len(esc, (int) out_len));
	free(esc);
	return d;
}

void
store_dead_letter(int stream_id, const char *reason, const char *raw, size_t raw_len)
{
	Oid			argtypes[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		v[3];
	SPIPlanPtr	plan = spi_keep_plan(&dead_plan,
									 "INSERT INTO gemini.dead_letters (stream_id, reason, raw) VALUES ($1, $2, $3)",
									 3, argtypes);

	v[0] = Int32GetDatum(stream_id);
	v[1] = storable_text(reason, strlen(reason));
	v[2] = storable_text(raw, raw_len);
	spi_exec_checked(plan, v, NULL, SPI_OK_INSERT, "storing a dead letter");
}

void
store_computed_candles(const char *symbol, const TimestampTz *minutes, int n)
{
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZARRAYOID};
	Datum		v[2];
	Datum	   *m;

	if (n <= 0)
		return;
	m = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		m[i] = TimestampTzGetDatum(minutes[i]);
	v[0] = CStringGetTextDatum(symbol);
	v[1] = PointerGetDatum(construct_array(m, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	/*
	 * Planned afresh each time, so the bounds prune to the right daily
	 * partitions (see trades_sink.c on why a generic plan would not).
	 */
	if (SPI_execute_with_args(
							  "INSERT INTO gemini.candles AS c (symbol, timeframe, bucket_start, open, high, low, close, volume, source)"
							  " SELECT $1, '1m', b, (pg_catalog.array_agg(price ORDER BY traded_at, tid))[1], pg_catalog.max(price), pg_catalog.min(price),"
							  "        (pg_catalog.array_agg(price ORDER BY traded_at DESC, tid DESC))[1], pg_catalog.sum(amount), 'computed'"
							  "   FROM (SELECT pg_catalog.date_trunc('minute', traded_at, 'UTC') AS b, traded_at, tid, price, amount"
							  "           FROM gemini.trades"
							  "          WHERE symbol = $1 AND NOT broken"
							  "            AND traded_at >= (SELECT pg_catalog.min(x) FROM pg_catalog.unnest($2) x)"
							  "            AND traded_at < (SELECT pg_catalog.max(x) FROM pg_catalog.unnest($2) x) + interval '1 minute') t"
							  "  WHERE b = ANY ($2)"
							  "  GROUP BY b"
							  " ON CONFLICT (symbol, timeframe, bucket_start, source) DO UPDATE"
							  " SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,"
							  "     volume = excluded.volume, updated_at = pg_catalog.now()"
							  " WHERE (c.open, c.high, c.low, c.close, c.volume)"
							  "       IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)",
							  2, argtypes, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "gemini_etl: computing candles failed");
}

/*
 * The first and last trade of each minute by (traded_at, tid), and its high,
 * low and volume, in one pass over the trades of those minutes (top-1
 * sorts, no sort of the whole minute).  Planned afresh each time, for the
 * partition pruning (see trades_sink.c).
 */
static const char *candles_from_trades_sql =
"WITH t AS MATERIALIZED ("
"  SELECT pg_catalog.date_trunc('minute', traded_at, 'UTC') AS b, traded_at, tid, price, amount"
"    FROM gemini.trades"
"   WHERE symbol = $1 AND NOT broken"
"     AND traded_at >= (SELECT pg_catalog.min(x) FROM pg_catalog.unnest($2) x)"
"     AND traded_at < (SELECT pg_catalog.max(x) FROM pg_catalog.unnest($2) x) + interval '1 minute')"
" SELECT m.b, f.traded_at, f.tid, f.price, l.traded_at, l.tid, l.price, m.high, m.low, m.volume"
"   FROM (SELECT b, pg_catalog.max(price) AS high, pg_catalog.min(price) AS low, pg_catalog.sum(amount) AS volume"
"           FROM t WHERE b = ANY ($2) GROUP BY b) m,"
"        LATERAL (SELECT traded_at, tid, price FROM t WHERE t.b = m.b ORDER BY traded_at, tid LIMIT 1) f,"
"        LATERAL (SELECT traded_at, tid, price FROM t WHERE t.b = m.b ORDER BY traded_at DESC, tid DESC LIMIT 1) l";

int
store_candles_from_trades(const char *symbol, const TimestampTz *minutes, int n,
						  MemoryContext into, StoreMinuteCandle **out)
{
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZARRAYOID};
	Datum		v[2];
	Datum	   *m;
	StoreMinuteCandle *c;
	MemoryContext old;

	*out = NULL;
	if (n <= 0)
		return 0;
	m = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		m[i] = TimestampTzGetDatum(minutes[i]);
	v[0] = CStringGetTextDatum(symbol);
	v[1] = PointerGetDatum(construct_array(m, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(candles_from_trades_sql, 2, argtypes, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: computing candles failed");
	if (SPI_processed == 0)
		return 0;
	old = MemoryContextSwitchTo(into);
	c = palloc0(sizeof(StoreMinuteCandle) * SPI_processed);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

#define COL(k) SPI_getbinval(tup, desc, (k), &isnull)
		c[i].minute = DatumGetTimestampTz(COL(1));
		c[i].open_at = DatumGetTimestampTz(COL(2));
		c[i].open_tid = DatumGetInt64(COL(3));
		c[i].open = datumCopy(COL(4), false, -1);
		c[i].close_at = DatumGetTimestampTz(COL(5));
		c[i].close_tid = DatumGetInt64(COL(6));
		c[i].close = datumCopy(COL(7), false, -1);
		c[i].high = datumCopy(COL(8), false, -1);
		c[i].low = datumCopy(COL(9), false, -1);
		c[i].volume = datumCopy(COL(10), false, -1);
#undef COL
	}
	MemoryContextSwitchTo(old);
	*out = c;
	return (int) SPI_processed;
}

void
store_candles_write(const char *symbol, const StoreMinuteCandle *c, int n)
{
	Oid			argtypes[7] = {TEXTOID, TIMESTAMPTZARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID};
	Datum		v[7];
	Datum	   *cols[6];

	if (n <= 0)
		return;
	for (int k = 0; k < 6; k++)
		cols[k] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		cols[0][i] = TimestampTzGetDatum(c[i].minute);
		cols[1][i] = c[i].open;
		cols[2][i] = c[i].high;
		cols[3][i] = c[i].low;
		cols[4][i] = c[i].close;
		cols[5][i] = c[i].volume;
	}
	v[0] = CStringGetTextDatum(symbol);
	v[1] = PointerGetDatum(construct_array(cols[0], n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	for (int k = 1; k < 6; k++)
		v[k + 1] = PointerGetDatum(construct_array(cols[k], n, NUMERICOID, -1, false, TYPALIGN_INT));
	spi_exec_checked(spi_keep_plan(&candles_plan,
								   "INSERT INTO gemini.candles AS c (symbol, timeframe, bucket_start, open, high, low, close, volume, source)"
								   " SELECT $1, '1m', u.b, u.o, u.h, u.l, u.c, u.v, 'computed'"
								   "   FROM unnest($2::timestamptz[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[])"
								   "        AS u(b, o, h, l, c, v)"
								   " ON CONFLICT (symbol, timeframe, bucket_start, source) DO UPDATE"
								   " SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,"
								   "     volume = excluded.volume, updated_at = pg_catalog.now()"
								   " WHERE (c.open, c.high, c.low, c.close, c.volume)"
								   "       IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)",
								   7, argtypes),
					 v, NULL, SPI_OK_INSERT, "writing computed candles");
}

void
store_stream_status(int stream_id, const StreamStatusDelta *d)
{
	Oid			argtypes[13] = {INT4OID, TEXTOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
		INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID};
	Datum		v[13];
	char		nulls[13] = "             ";
	SPIPlanPtr	plan = spi_keep_plan(&status_plan,
									 "UPDATE gemini.streams SET state = $2, pid = COALESCE($3, pid),"
									 " connected_since = $4, last_message_at = COALESCE($5, last_message_at),"
									 " last_event_at = COALESCE($6, last_event_at),"
									 " messages = messages + $7, trades_written = trades_written + $8,"
									 " book_changes = book_changes + $9, dead_letters = dead_letters + $10,"
									 " backfilled = backfilled + $11, reconnects = reconnects + $12,"
									 " last_error = COALESCE($13, last_error),"
									 " last_error_at = CASE WHEN $13 IS NULL THEN last_error_at ELSE pg_catalog.now() END,"
									 " stopped_at = CASE WHEN $2 = 'stopped' THEN pg_catalog.now() ELSE stopped_at END"
									 " WHERE stream_id = $1",
									 13, argtypes);

	v[0] = Int32GetDatum(stream_id);
	v[1] = CStringGetTextDatum(d->state);
	v[2] = Int32GetDatum(d->pid);
	nulls[2] = d->pid ? ' ' : 'n';
	v[3] = TimestampTzGetDatum(d->connected_since);
	nulls[3] = d->connected_since ? ' ' : 'n';
	v[4] = TimestampTzGetDatum(d->last_message_at);
	nulls[4] = d->last_message_at ? ' ' : 'n';
	v[5] = TimestampTzGetDatum(d->last_event_at);
	nulls[5] = d->last_event_at ? ' ' : 'n';
	v[6] = Int64GetDatum(d->messages);
	v[7] = Int64GetDatum(d->trades_written);
	v[8] = Int64GetDatum(d->book_changes);
	v[9] = Int64GetDatum(d->dead_letters);
	v[10] = Int64GetDatum(d->backfilled);
	v[11] = Int64GetDatum(d->reconnects);
	v[12] = d->error ? CStringGetTextDatum(d->error) : (Datum) 0;
	nulls[12] = d->error ? ' ' : 'n';
	spi_exec_checked(plan, v, nulls, SPI_OK_UPDATE, "updating the stream's status");
}

bool
store_stream_wanted(int stream_id)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		v[1] = {Int32GetDatum(stream_id)};
	bool		isnull;
	SPIPlanPtr	plan = spi_keep_plan(&desired_plan,
									 "SELECT desired = 'running' FROM gemini.streams WHERE stream_id = $1",
									 1, argtypes);

	spi_exec_checked(plan, v, NULL, SPI_OK_SELECT, "reading the stream's desired state");
	if (SPI_processed == 0)
		return false;
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The stream's failure count and the time before which the supervisor must
 * not start it again: kept in the row, so backoff survives the worker.
 * retry_at 0 = none.
 */
void
store_stream_backoff(int stream_id, int failures, TimestampTz retry_at)
{
	Oid			argtypes[3] = {INT4OID, INT4OID, TIMESTAMPTZOID};
	Datum		v[3];
	char		nulls[3] = "   ";

	v[0] = Int32GetDatum(stream_id);
	v[1] = Int32GetDatum(failures);
	v[2] = TimestampTzGetDatum(retry_at);
	nulls[2] = retry_at ? ' ' : 'n';
	if (SPI_execute_with_args("UPDATE gemini.streams SET failures = $2, retry_at = $3 WHERE stream_id = $1",
							  3, argtypes, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gemini_etl: recording the stream's backoff failed");
}

/* The stream's recent connection attempts (the connect budget), newest last. */
void
store_stream_connects(int stream_id, const TimestampTz *at, int n)
{
	Oid			argtypes[2] = {INT4OID, TIMESTAMPTZARRAYOID};
	Datum		v[2];
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = TimestampTzGetDatum(at[i]);
	v[0] = Int32GetDatum(stream_id);
	v[1] = PointerGetDatum(construct_array(d, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args("UPDATE gemini.streams SET recent_connects = $2 WHERE stream_id = $1",
							  2, argtypes, v, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "gemini_etl: recording the stream's connection attempt failed");
}
