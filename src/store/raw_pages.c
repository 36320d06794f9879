/*
 * raw_pages.c
 *	  The raw layer: each REST body stored exactly as received.
 *
 * This is the "raw bucket" of the design gemini_etl replaces: not
 * manipulated, so any curated row can be traced back to the bytes Gemini
 * sent, and re-derived.  The body must be valid text in the database
 * encoding; the caller checks that before (a body that is not is malformed
 * input, and the pull fails with a clear error).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr raw_plan = NULL;

void
store_raw_page(int64 run_id, int page_no, TimestampTz fetched_at, const char *endpoint,
			   const char *symbol, const char *url, int http_status, int attempts,
			   const char *body, size_t body_len)
{
	Oid			argtypes[9] = {INT8OID, INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
	INT4OID, INT4OID, TEXTOID};
	Datum		values[9];
	char		nulls[9] = "         ";
	SPIPlanPtr	plan;
	DateADT		day = store_day_of(fetched_at);

	store_ensure_day_partitions("gemini.raw_pages", day, day);
	plan = spi_keep_plan(&raw_plan,
						 "INSERT INTO gemini.raw_pages (run_id, page_no, fetched_at, endpoint, symbol, url,"
						 " http_status, attempts, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
						 9, argtypes);
	values[0] = Int64GetDatum(run_id);
	values[1] = Int32GetDatum(page_no);
	values[2] = TimestampTzGetDatum(fetched_at);
	values[3] = CStringGetTextDatum(endpoint);
	values[4] = symbol ? CStringGetTextDatum(symbol) : (Datum) 0;
	nulls[4] = symbol ? ' ' : 'n';
	values[5] = CStringGetTextDatum(url);
	values[6] = Int32GetDatum(http_status);
	values[7] = Int32GetDatum(attempts);
	values[8] = PointerGetDatum(cstring_to_text_with_len(body, (int) body_len));
	spi_exec_checked(plan, values, nulls, SPI_OK_INSERT, "storing a raw page");
}
