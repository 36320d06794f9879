/*
 * reference_sink.c
 *	  gemini.symbols and gemini.candles upserts.
 *
 * Decimals arrive as exact text and are cast by numeric_in in SQL.  Upserts
 * count only rows that are new or whose values changed, so re-running a
 * refresh reports 0 when nothing moved.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr candle_plan = NULL;
static SPIPlanPtr symbol_plan = NULL;
static SPIPlanPtr delist_plan = NULL;

static inline Datum
opt_text(const char *s, char *null_flag)
{
	*null_flag = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

int64
store_candles(const char *symbol, const char *timeframe, const char *source,
			  const StoreCandle *candles, int n)
{
	Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID};
	SPIPlanPtr	plan = spi_keep_plan(&candle_plan,
									 "INSERT INTO gemini.candles AS c (symbol, timeframe, source, bucket_start, open, high, low, close, volume)"
									 " VALUES ($1, $2, $3, $4, $5::pg_catalog.numeric, $6::pg_catalog.numeric, $7::pg_catalog.numeric, $8::pg_catalog.numeric, $9::pg_catalog.numeric)"
									 " ON CONFLICT (symbol, timeframe, bucket_start, source) DO UPDATE"
									 " SET open = excluded.open, high = excluded.high, low = excluded.low,"
									 "     close = excluded.close, volume = excluded.volume, updated_at = pg_catalog.now()"
									 " WHERE (c.open, c.high, c.low, c.close, c.volume)"
									 "       IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)",
									 9, argtypes);
	int64		changed = 0;

	for (int i = 0; i < n; i++)
	{
		Datum		v[9];

		v[0] = CStringGetTextDatum(symbol);
		v[1] = CStringGetTextDatum(timeframe);
		v[2] = CStringGetTextDatum(source);
		v[3] = TimestampTzGetDatum(candles[i].bucket_start);
		v[4] = CStringGetTextDatum(candles[i].open);
		v[5] = CStringGetTextDatum(candles[i].high);
		v[6] = CStringGetTextDatum(candles[i].low);
		v[7] = CStringGetTextDatum(candles[i].close);
		v[8] = CStringGetTextDatum(candles[i].volume);
		spi_exec_checked(plan, v, NULL, SPI_OK_INSERT, "storing a candle");
		changed += SPI_processed;
	}
	return changed;
}

void
store_symbol(const StoreSymbol *s)
{
	Oid			argtypes[10] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID};
	Datum		v[10];
	char		nulls[11] = "          ";
	SPIPlanPtr	plan = spi_keep_plan(&symbol_plan,
									 "INSERT INTO gemini.symbols AS s (symbol, base_currency, quote_currency, tick_size,"
									 " quote_increment, min_order_size, status, product_type, contract_type, details, listed, updated_at)"
									 " VALUES ($1, $2, $3, $4::pg_catalog.numeric, $5::pg_catalog.numeric, $6::pg_catalog.numeric, $7, $8, $9, $10::pg_catalog.jsonb, true, pg_catalog.now())"
									 " ON CONFLICT (symbol) DO UPDATE SET base_currency = excluded.base_currency,"
									 " quote_currency = excluded.quote_currency, tick_size = excluded.tick_size,"
									 " quote_increment = excluded.quote_increment, min_order_size = excluded.min_order_size,"
									 " status = excluded.status, product_type = excluded.product_type,"
									 " contract_type = excluded.contract_type, details = excluded.details,"
									 " listed = true, updated_at = pg_catalog.now()",
									 10, argtypes);

	v[0] = CStringGetTextDatum(s->symbol);
	v[1] = opt_text(s->base_currency, &nulls[1]);
	v[2] = opt_text(s->quote_currency, &nulls[2]);
	v[3] = opt_text(s->tick_size, &nulls[3]);
	v[4] = opt_text(s->quote_increment, &nulls[4]);
	v[5] = opt_text(s->min_order_size, &nulls[5]);
	v[6] = opt_text(s->status, &nulls[6]);
	v[7] = opt_text(s->product_type, &nulls[7]);
	v[8] = opt_text(s->contract_type, &nulls[8]);
	v[9] = opt_text(s->details_json, &nulls[9]);
	spi_exec_checked(plan, v, nulls, SPI_OK_INSERT, "storing a symbol");
}

void
store_symbols_delist_others(const char **symbols, int n)
{
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		v[1];
	SPIPlanPtr	plan = spi_keep_plan(&delist_plan,
									 "UPDATE gemini.symbols SET listed = false, updated_at = pg_catalog.now()"
									 " WHERE listed AND symbol <> ALL ($1)",
									 1, argtypes);

	v[0] = spi_text_array(symbols, n, sizeof(char *));
	spi_exec_checked(plan, v, NULL, SPI_OK_UPDATE, "delisting symbols");
}
