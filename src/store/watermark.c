/*
 * watermark.c
 *	  Per-symbol watermarks (the last tid stored) and run ids.
 *
 * The watermark is written in the same transaction as the trades it covers,
 * so it can never point past rows that were rolled back.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr get_plan = NULL;
static SPIPlanPtr set_plan = NULL;

bool
store_get_watermark(const char *symbol, int64 *last_tid, TimestampTz *last_traded_at)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(symbol)};
	bool		isnull;
	SPIPlanPtr	plan = spi_keep_plan(&get_plan,
									 "SELECT last_tid, last_traded_at FROM gemini.watermarks WHERE symbol = $1",
									 1, argtypes);

	spi_exec_checked(plan, values, NULL, SPI_OK_SELECT, "reading the watermark");
	if (SPI_processed == 0)
		return false;
	*last_tid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		return false;
	*last_traded_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull)
		*last_traded_at = 0;
	return true;
}

void
store_set_watermark(const char *symbol, int64 last_tid, TimestampTz last_traded_at, int64 run_id)
{
	Oid			argtypes[4] = {TEXTOID, INT8OID, TIMESTAMPTZOID, INT8OID};
	Datum		values[4];
	char		nulls[4] = "    ";
	SPIPlanPtr	plan = spi_keep_plan(&set_plan,
									 "INSERT INTO gemini.watermarks AS w (symbol, last_tid, last_traded_at, run_id, updated_at)"
									 " VALUES ($1, $2, $3, $4, pg_catalog.now())"
									 " ON CONFLICT (symbol) DO UPDATE"
									 " SET last_tid = excluded.last_tid, last_traded_at = excluded.last_traded_at,"
									 "     run_id = excluded.run_id, updated_at = pg_catalog.now()"
									 " WHERE excluded.last_tid > w.last_tid",
									 4, argtypes);

	values[0] = CStringGetTextDatum(symbol);
	values[1] = Int64GetDatum(last_tid);
	values[2] = TimestampTzGetDatum(last_traded_at);
	nulls[2] = last_traded_at == 0 ? 'n' : ' ';
	values[3] = Int64GetDatum(run_id);
	spi_exec_checked(plan, values, nulls, SPI_OK_INSERT, "moving the watermark");
}

int64
store_next_run_id(void)
{
	bool		isnull;

	if (SPI_execute("SELECT pg_catalog.nextval('gemini.run_id_seq')", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "gemini_etl: could not take a run id");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}
