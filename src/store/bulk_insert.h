/*
 * bulk_insert.h
 *	  Rows into one of the extension's tables the way COPY FROM writes them
 *	  (bulk_insert.c).
 *
 * Only for rows whose keys nobody else can hold: a unique index still
 * raises unique_violation, but nothing here does ON CONFLICT.
 */
#ifndef GEMINI_BULK_INSERT_H
#define GEMINI_BULK_INSERT_H

#include "postgres.h"

typedef struct BulkInsert BulkInsert;

/* A column the caller fills, by name and type (typmod -1). */
typedef struct BulkColumn
{
	const char *name;
	Oid			type;
} BulkColumn;

/*
 * Open relid (a table or a partitioned table) for rows of these columns.
 * NULL when an INSERT would do more than store the rows (triggers, row
 * level security, a default of a column left out, another column type...):
 * the caller then uses an INSERT statement.
 */
extern BulkInsert *bulk_insert_open(Oid relid, const BulkColumn *cols, int ncols);

/* Memory for values of rows not yet written (reset as rows are written). */
extern MemoryContext bulk_insert_row_context(BulkInsert *b);

/* One row, values in the order of the columns; isnull may be NULL. */
extern void bulk_insert_row(BulkInsert *b, const Datum *values, const bool *isnull);

/* Write what is buffered and release everything; returns the rows written. */
extern int64 bulk_insert_close(BulkInsert *b);

#endif
