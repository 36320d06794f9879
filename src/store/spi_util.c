/*
 * spi_util.c
 *	  Prepared-plan and error helpers for the storage layer.
 */
#include "postgres.h"

#include "executor/spi.h"

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
