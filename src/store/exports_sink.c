/*
 * exports_sink.c
 *	  gemini.exports: one row per object an export wrote, recorded after S3
 *	  accepted the object.  A re-export of an hour first forgets the hour's
 *	  rows, so the table always lists what the hour's keys hold now.
 *
 * Callers run these as the extension's owner (the table is read-only to
 * users), in the export's transaction.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "store/spi_util.h"
#include "store/store.h"

void
store_exports_forget(const char *bucket, const char *key_prefix)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];

	spi_keep_plan(&plan, "DELETE FROM gemini.exports WHERE bucket = $1 AND pg_catalog.starts_with(key, $2)",
				  2, types);
	v[0] = CStringGetTextDatum(bucket);
	v[1] = CStringGetTextDatum(key_prefix);
	spi_exec_checked(plan, v, NULL, SPI_OK_DELETE, "forget exported objects");
}

void
store_export(const StoreExport *e)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[13] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID,
	INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID, OIDOID};
	Datum		v[13];
	char		n[14] = "             ";

	spi_keep_plan(&plan,
				  "INSERT INTO gemini.exports (bucket, key, source, format, interval_start, interval_end, part_no,"
				  " rows, bytes, etag, sha256, run_id, exported_by)"
				  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::pg_catalog.regrole)"
				  " ON CONFLICT (bucket, key) DO UPDATE SET source = EXCLUDED.source, format = EXCLUDED.format,"
				  " interval_start = EXCLUDED.interval_start, interval_end = EXCLUDED.interval_end,"
				  " part_no = EXCLUDED.part_no, rows = EXCLUDED.rows, bytes = EXCLUDED.bytes,"
				  " etag = EXCLUDED.etag, sha256 = EXCLUDED.sha256, run_id = EXCLUDED.run_id,"
				  " exported_by = EXCLUDED.exported_by, exported_at = pg_catalog.now()",
				  13, types);
	v[0] = CStringGetTextDatum(e->bucket);
	v[1] = CStringGetTextDatum(e->key);
	v[2] = CStringGetTextDatum(e->source);
	v[3] = CStringGetTextDatum(e->format);
	v[4] = TimestampTzGetDatum(e->interval_start);
	v[5] = TimestampTzGetDatum(e->interval_end);
	n[4] = n[5] = e->has_interval ? ' ' : 'n';
	v[6] = Int32GetDatum(e->part_no);
	v[7] = Int64GetDatum(e->rows);
	v[8] = Int64GetDatum(e->bytes);
	v[9] = CStringGetTextDatum(e->etag);
	v[10] = CStringGetTextDatum(e->sha256);
	v[11] = Int64GetDatum(e->run_id);
	n[11] = e->run_id > 0 ? ' ' : 'n';
	v[12] = ObjectIdGetDatum(e->exported_by);
	spi_exec_checked(plan, v, n, SPI_OK_INSERT, "record an exported object");
}
