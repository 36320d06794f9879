/*
 * quarantine.c
 *	  Rows that could not be stored, kept with the reason and the raw text.
 *
 * Nothing is dropped silently: a trade with an impossible time or a broken
 * shape lands here, and the pull reports how many did.  A trade seen again
 * by a later pull is not quarantined twice (returns false then).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr q_plan = NULL;

bool
store_quarantine(const char *source, const char *symbol, const int64 *tid,
				 const char *reason, const char *raw, int64 run_id)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[6];
	char		nulls[6] = "      ";
	SPIPlanPtr	plan = spi_keep_plan(&q_plan,
									 "INSERT INTO gemini.quarantine (source, symbol, tid, reason, raw, run_id)"
									 " VALUES ($1, $2, $3, $4, $5, $6)"
									 " ON CONFLICT (source, symbol, tid) WHERE tid IS NOT NULL DO NOTHING",
									 6, argtypes);

	values[0] = CStringGetTextDatum(source);
	values[1] = symbol ? CStringGetTextDatum(symbol) : (Datum) 0;
	nulls[1] = symbol ? ' ' : 'n';
	values[2] = tid ? Int64GetDatum(*tid) : (Datum) 0;
	nulls[2] = tid ? ' ' : 'n';
	values[3] = CStringGetTextDatum(reason);
	values[4] = raw ? CStringGetTextDatum(raw) : (Datum) 0;
	nulls[4] = raw ? ' ' : 'n';
	values[5] = Int64GetDatum(run_id);
	nulls[5] = run_id > 0 ? ' ' : 'n';
	spi_exec_checked(plan, values, nulls, SPI_OK_INSERT, "quarantining a row");
	return SPI_processed > 0;
}
