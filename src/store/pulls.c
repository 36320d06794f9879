/*
 * pulls.c
 *	  gemini.pulls: one row per successful pull, with its counters.
 *
 * It is written in the pull's own transaction, so it exists exactly when
 * the trades it describes do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "store/store.h"
#include "store/spi_util.h"

static SPIPlanPtr plan_slot = NULL;

void
store_pull_record(const PullRecord *rec)
{
	Oid			argtypes[14] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT8OID, TIMESTAMPTZOID,
		INT8OID, INT4OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		v[14];
	char		nulls[15] = "              ";
	SPIPlanPtr	plan = spi_keep_plan(&plan_slot,
									 "INSERT INTO gemini.pulls (run_id, symbol, started_at, start_mode, start_tid, start_time,"
									 " last_tid, pages, requests, trades_seen, trades_new, trades_updated, quarantined, finished_at)"
									 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
									 14, argtypes);
	bool		by_tid = strcmp(rec->start_mode, "since_tid") == 0;

	v[0] = Int64GetDatum(rec->run_id);
	v[1] = CStringGetTextDatum(rec->symbol);
	v[2] = TimestampTzGetDatum(rec->started_at);
	v[3] = CStringGetTextDatum(rec->start_mode);
	v[4] = Int64GetDatum(rec->start_tid);
	nulls[4] = by_tid ? ' ' : 'n';
	v[5] = TimestampTzGetDatum(rec->start_time);
	nulls[5] = by_tid ? 'n' : ' ';
	v[6] = Int64GetDatum(rec->last_tid);
	nulls[6] = rec->last_tid > 0 ? ' ' : 'n';
	v[7] = Int32GetDatum(rec->pages);
	v[8] = Int32GetDatum(rec->requests);
	v[9] = Int64GetDatum(rec->trades_seen);
	v[10] = Int64GetDatum(rec->trades_new);
	v[11] = Int64GetDatum(rec->trades_updated);
	v[12] = Int64GetDatum(rec->quarantined);
	v[13] = TimestampTzGetDatum(GetCurrentTimestamp());
	spi_exec_checked(plan, v, nulls, SPI_OK_INSERT, "recording the pull");
}
