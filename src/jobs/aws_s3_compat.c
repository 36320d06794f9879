/*
 * aws_s3_compat.c
 *	  gemini.query_export_to_s3(): the worker behind the gemini_etl_aws_s3
 *	  extension's aws_s3.query_export_to_s3, the function RDS and Aurora
 *	  users call, over the native uploader.
 *
 * The query's rows are written by PostgreSQL's own COPY (BeginCopyTo /
 * DoCopyTo), so `options` means exactly what it means to COPY, as on RDS
 * ('format csv, header true', delimiter, null, quote, escape, force_quote,
 * encoding): the options text is parsed by the SQL parser as the option
 * list of a COPY statement.  COPY writes to a temporary file in the
 * database's pgsql_tmp directory (cleaned at server start after a crash),
 * which then streams to S3 in parts, so memory stays bounded whatever the
 * result's size.  'format parquet', which COPY lacks, writes the rows
 * through the export's Parquet writer instead.  The query runs as the caller, with the caller's
 * search_path (it is the caller's SQL); the record in gemini.exports is
 * written as the extension's owner with search_path pinned.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/parse_node.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "commands/defrem.h"
#include "jobs/export.h"
#include "jobs/privilege.h"
#include "utils/memutils.h"
#include "net/s3_upload.h"
#include "store/store.h"

#define READ_CHUNK (1024 * 1024)

PG_FUNCTION_INFO_V1(gemini_query_export_to_s3);

/* The options text as COPY's option list (DefElems), parsed by the SQL parser. */
static List *
parse_copy_options(const char *options)
{
	List	   *stmts;
	RawStmt    *raw;

	if (options == NULL || options[0] == '\0')
		return NIL;
	stmts = raw_parser(psprintf("COPY gemini_etl_placeholder TO STDOUT (%s)", options), RAW_PARSE_DEFAULT);
	raw = list_length(stmts) == 1 ? linitial_node(RawStmt, stmts) : NULL;
	if (raw == NULL || !IsA(raw->stmt, CopyStmt))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid options for aws_s3.query_export_to_s3: %s", options),
				 errhint("Write them as COPY's options, e.g. 'format csv, header true, delimiter ''|''', as on RDS.")));
	return ((CopyStmt *) raw->stmt)->options;
}

static void
options_context(void *arg)
{
	errcontext("options of aws_s3.query_export_to_s3: %s", (const char *) arg);
}

static void
record_object(const S3Target *t, const char *key, const char *query, const char *options,
			  uint64 bytes, uint64 rows, const char *etag, const char *sha256)
{
	GeminiUserSwitch sw;
	int			nest = NewGUCNestLevel();
	StoreExport e = {0};

	/* the caller's search_path was theirs to use for their query, not for ours */
	(void) set_config_option("search_path", GEMINI_SAFE_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	e.bucket = t->bucket;
	e.key = key;
	e.source = psprintf("query: %.200s%s", query, strlen(query) > 200 ? "..." : "");
	e.format = psprintf("copy (%s)", options ? options : "format text");
	e.has_interval = false;
	e.rows = (int64) rows;
	e.bytes = (int64) bytes;
	e.etag = etag;
	e.sha256 = sha256;
	e.exported_by = GetUserId();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	gemini_become_owner(&sw);
	store_export(&e);
	gemini_restore_user(&sw);
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/*
 * 'format parquet' (which COPY does not have): the query's rows go through
 * the export's Parquet writer, set up from the result's columns when the
 * first (or no) row arrives, straight into the upload.
 */
typedef struct ParquetReceiver
{
	DestReceiver pub;
	const S3Target *t;
	const char *key;
	ExportWriter w;
	ExportColumn *cols;
	MemoryContext cxt;			/* the writer's and the upload's: outlives the executor's */
	MemoryContext row_cxt;
	uint64		rows;
} ParquetReceiver;

static void
pr_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	ParquetReceiver *r = (ParquetReceiver *) self;
	/* the executor's context ends before the file does */
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	r->cols = palloc0(sizeof(ExportColumn) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		export_column_init(&r->cols[r->w.ncols++], a->atttypid, a->atttypmod, false, NameStr(a->attname));
	}
	r->w.fmt = &export_parquet_format;
	r->w.cols = r->cols;
	r->w.out = s3_upload_begin(r->t, r->key, export_parquet_format.content_type);
	r->w.fmt->open(&r->w);
	MemoryContextSwitchTo(old);
}

static bool
pr_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ParquetReceiver *r = (ParquetReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->row_cxt);

	slot_getallattrs(slot);
	r->w.fmt->write_row(&r->w, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	if (++r->rows % 1000 == 0)
		MemoryContextReset(r->row_cxt);
	return true;
}

static bool
wants_parquet(List *copy_options)
{
	ListCell   *lc;

	foreach(lc, copy_options)
	{
		DefElem    *d = lfirst_node(DefElem, lc);

		if (strcmp(d->defname, "format") == 0 && strcmp(defGetString(d), "parquet") == 0)
		{
			if (list_length(copy_options) > 1)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("with format parquet, no other option applies"),
						 errdetail("Parquet has its own column types and compression (gemini_etl.export_parquet_compression)."),
						 errhint("Pass options => 'format parquet' alone.")));
			return true;
		}
	}
	return false;
}

/* Run query into a Parquet object at key; returns rows, sets bytes, etag, sha256. */
static uint64
export_query_parquet(const S3Target *t, const char *key, const char *query, uint64 *bytes,
					 char *etag, char *sha256)
{
	ParquetReceiver r = {{0}};
	SPIExecuteOptions opt = {0};

	export_receiver_init(&r.pub, pr_receive, pr_startup);
	r.t = t;
	r.key = key;
	r.cxt = CurrentMemoryContext;
	r.row_cxt = AllocSetContextCreate(CurrentMemoryContext, "gemini_etl parquet row", ALLOCSET_DEFAULT_SIZES);
	opt.dest = (DestReceiver *) &r;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	PG_TRY();
	{
		int			rc = SPI_execute_extended(query, &opt);

		if (rc < 0)
			elog(ERROR, "gemini_etl: the query failed: %s", SPI_result_code_string(rc));
		if (r.w.out == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the query of aws_s3.query_export_to_s3 returns no rows to write"),
					 errdetail("format parquet needs a query that returns rows (SELECT, or DML with RETURNING)."),
					 errhint("Pass a SELECT.")));
		r.w.fmt->close(&r.w);
		*bytes = s3_upload_bytes(r.w.out);
		s3_upload_finish(r.w.out, etag, sha256);
		r.w.out = NULL;
	}
	PG_CATCH();
	{
		if (r.w.out != NULL)
			s3_upload_abort(r.w.out);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SPI_finish();
	return r.rows;
}

/*
 * Run the query through COPY with its options into a temporary file, then
 * stream the file to key; returns rows, sets bytes, etag, sha256.
 */
static uint64
export_query_copy(const S3Target *t, const char *key, RawStmt *stmt, const char *query, List *copy_options,
				  uint64 *bytes, char *etag, char *sha256)
{
	static int	counter = 0;
	char		dir[MAXPGPATH],
				path[MAXPGPATH];
	uint64		rows = 0;

	snprintf(dir, sizeof(dir), "%s/base/%s", DataDir, PG_TEMP_FILES_DIR);
	if (MakePGDirectory(dir) < 0 && errno != EEXIST)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", dir)));
	snprintf(path, sizeof(path), "%s/%sgemini_s3.%d.%d", dir, PG_TEMP_FILE_PREFIX, MyProcPid, counter++);

	PG_TRY();
	{
		ParseState *pstate = make_parsestate(NULL);
		CopyToState cstate;
		FILE	   *f;
		S3Upload   *up = NULL;
		char	   *buf;
		size_t		n;

		pstate->p_sourcetext = query;
		cstate = BeginCopyTo(pstate, NULL, stmt, InvalidOid, path, false, NIL,
							 copy_options);
		rows = DoCopyTo(cstate);
		EndCopyTo(cstate);

		f = AllocateFile(path, PG_BINARY_R);
		if (f == NULL)
			ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", path)));
		buf = palloc(READ_CHUNK);
		PG_TRY();
		{
			up = s3_upload_begin(t, key, "application/octet-stream");
			while ((n = fread(buf, 1, READ_CHUNK, f)) > 0)
			{
				s3_upload_write(up, buf, n);
				CHECK_FOR_INTERRUPTS();
			}
			if (ferror(f))
				ereport(ERROR, (errcode_for_file_access(), errmsg("could not read \"%s\": %m", path)));
			*bytes = s3_upload_bytes(up);
			s3_upload_finish(up, etag, sha256);
			up = NULL;
		}
		PG_CATCH();
		{
			if (up != NULL)
				s3_upload_abort(up);
			PG_RE_THROW();
		}
		PG_END_TRY();
		FreeFile(f);
	}
	PG_FINALLY();
	{
		(void) unlink(path);
	}
	PG_END_TRY();

	return rows;
}

Datum
gemini_query_export_to_s3(PG_FUNCTION_ARGS)
{
	const char *query,
			   *bucket,
			   *key,
			   *region,
			   *options;
	List	   *stmts,
			   *copy_options;
	ErrorContextCallback ctx;
	S3Target   *t;
	uint64		rows = 0,
				bytes = 0;
	char		etag[S3_ETAG_LEN],
				sha256[65];
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query, bucket and file_path must not be NULL"),
				 errdetail("region and options may be NULL: the default region, and COPY's text format."),
				 errhint("SELECT * FROM aws_s3.query_export_to_s3('SELECT * FROM t', aws_commons.create_s3_uri('bucket', 'path/file.csv', 'us-east-1'), 'format csv');")));
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bucket = text_to_cstring(PG_GETARG_TEXT_PP(1));
	key = text_to_cstring(PG_GETARG_TEXT_PP(2));
	region = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	options = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (key[0] == '\0' || key[0] == '/' || strlen(key) > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid S3 file_path \"%.100s\"", key),
				 errdetail("A key has 1 to 1024 bytes and does not start with '/'."),
				 errhint("For example: exports/trades.csv.")));

	ctx.callback = options_context;
	ctx.arg = (void *) (options ? options : "");
	ctx.previous = error_context_stack;
	error_context_stack = &ctx;
	copy_options = parse_copy_options(options);
	/* check them now (COPY would, later), before anything is sent */
	if (!wants_parquet(copy_options))
		ProcessCopyOptions(NULL, NULL, false, copy_options);
	error_context_stack = ctx.previous;

	stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of aws_s3.query_export_to_s3 must be exactly one statement"),
				 errdetail("It has %d.", list_length(stmts)),
				 errhint("Pass one SELECT (or INSERT/UPDATE/DELETE ... RETURNING).")));
	t = s3_target_open(bucket, region);
	if (wants_parquet(copy_options))
		rows = export_query_parquet(t, key, query, &bytes, etag, sha256);
	else
		rows = export_query_copy(t, key, linitial_node(RawStmt, stmts), query, copy_options, &bytes, etag, sha256);

	record_object(t, key, query, options, bytes, rows, etag, sha256);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gemini_etl: return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum((int64) rows);
	values[1] = Int64GetDatum(1);
	values[2] = Int64GetDatum((int64) bytes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
