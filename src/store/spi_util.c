/*
 * spi_util.c
 *	  Prepared-plan, error and transaction helpers for the storage layer.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "utils/lsyscache.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "store/spi_util.h"

SPIPlanPtr
spi_keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "gemini_etl: SPI_prepare failed (%s) for: %s",
				 SPI_result_code_string(SPI_result), sql);
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "gemini_etl: SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

void
spi_exec_checked(SPIPlanPtr plan, Datum *values, const char *nulls, int expected, const char *what)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	/*
	 * SQL errors raise by themselves; this catches only SPI-level surprises,
	 * which are internal bugs and so may use elog.
	 */
	if (rc != expected)
		elog(ERROR, "gemini_etl: %s: unexpected SPI result %s", what, SPI_result_code_string(rc));
}

/*
 * A text[] of the n C strings found every stride bytes from strs, built in
 * one allocation (construct_array would first need a text datum for each of
 * the 1500 strings of a page).  The layout is construct_md_array's: 4-byte
 * headers, each element int-aligned, padding zeroed.
 */
Datum
spi_text_array(const char *const *strs, int n, size_t stride)
{
	ArrayType  *arr;
	Size		nbytes = 0;
	char	   *p;

	if (n <= 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	for (int i = 0; i < n; i++)
	{
		const char *s = *(const char *const *) ((const char *) strs + i * stride);

		nbytes += INTALIGN(VARHDRSZ + strlen(s));
		if (!AllocSizeIsValid(nbytes))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxAllocSize)));
	}
	nbytes += ARR_OVERHEAD_NONULLS(1);
	arr = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(arr, nbytes);
	arr->ndim = 1;
	arr->dataoffset = 0;
	arr->elemtype = TEXTOID;
	ARR_DIMS(arr)[0] = n;
	ARR_LBOUND(arr)[0] = 1;
	p = ARR_DATA_PTR(arr);
	for (int i = 0; i < n; i++)
	{
		const char *s = *(const char *const *) ((const char *) strs + i * stride);
		size_t		len = strlen(s);

		SET_VARSIZE(p, VARHDRSZ + len);
		memcpy(VARDATA(p), s, len);
		p += INTALIGN(VARHDRSZ + len);
	}
	return PointerGetDatum(arr);
}

/*
 * The worker_spi sequence, for code outside a caller's transaction (the
 * stream worker, the backfill, the supervisor): start a transaction, connect
 * SPI, push a snapshot; and the reverse.  Commit leaves TopMemoryContext
 * current, so spi_xact_commit goes back to the context the caller names,
 * or its allocations would pile up there.
 */
void
spi_xact_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

void
spi_xact_commit(MemoryContext back_to)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(back_to);
}

Oid
store_gemini_relid(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("gemini", false));

	/* a library newer than the installed objects (same version, edited) */
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("gemini_etl: table gemini.%s does not exist", name),
				 errdetail("The gemini_etl library loaded expects objects this installation of the extension does not have."),
				 errhint("Reinstall the extension with the library's SQL script: DROP EXTENSION gemini_etl; CREATE EXTENSION gemini_etl; (dump your data first).")));
	return relid;
}
