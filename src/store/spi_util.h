/*
 * spi_util.h
 *	  Small helpers shared by the storage files: one place that turns an
 *	  SPI failure into an error, one that keeps prepared plans, and the
 *	  begin/commit of a worker's own short transaction.
 */
#ifndef GEMINI_SPI_UTIL_H
#define GEMINI_SPI_UTIL_H

#include "postgres.h"
#include "executor/spi.h"

/* Prepare once per backend and keep (plancache revalidates after DDL). */
extern SPIPlanPtr spi_keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes);

/* Execute a kept plan; raise a clear error on anything but expected. */
extern void spi_exec_checked(SPIPlanPtr plan, Datum *values, const char *nulls, int expected, const char *what);

/*
 * A text[] of n C strings found every `stride` bytes from strs (stride =
 * sizeof(char *) for a plain array, or the size of a struct holding them).
 */
extern Datum spi_text_array(const char *const *strs, int n, size_t stride);

/* A short transaction of its own, SPI connected (workers; see spi_util.c). */
extern void spi_xact_begin(void);
extern void spi_xact_commit(MemoryContext back_to);

/* The OID of the extension's table gemini.<name> (InvalidOid when missing). */
extern Oid	store_gemini_relid(const char *name);

#endif
