/*
 * privilege.c
 *	  Acting as the extension's owner, and the checks that come first.
 *
 * The pattern is pg_cron's (job_metadata.c switches to the extension owner
 * to write cron.job): the SQL-facing function runs as its caller, so
 * EXECUTE grants decide who may call it, and only the writes to the
 * extension's own tables happen as the owner.  SECURITY_RESTRICTED_OPERATION
 * is set while acting as the owner, so no user code could run with its
 * rights even if some were reached (the tables have no user triggers: only
 * their owner could add them).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "jobs/privilege.h"

Oid
gemini_extension_owner(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("gemini_etl"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension gemini_etl is not installed in this database"),
				 errhint("CREATE EXTENSION gemini_etl;")));
	return owner;
}

void
gemini_become_owner(GeminiUserSwitch *sw)
{
	Oid			owner = gemini_extension_owner();

	GetUserIdAndSecContext(&sw->saved_user, &sw->saved_context);
	SetUserIdAndSecContext(owner, sw->saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

void
gemini_restore_user(GeminiUserSwitch *sw)
{
	SetUserIdAndSecContext(sw->saved_user, sw->saved_context);
}

void
gemini_pin_search_path(void)
{
	SetConfigOption("search_path", GEMINI_SAFE_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
}

bool
gemini_user_owns(Oid role)
{
	return superuser() || has_privs_of_role(GetUserId(), role);
}

bool
gemini_role_may_stream(Oid role, char **why)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(role)};
	bool		isnull;
	bool		ok;

	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
	{
		*why = psprintf("the stream's owner (role OID %u) no longer exists", role);
		return false;
	}
	if (SPI_execute_with_args("SELECT pg_catalog.has_function_privilege($1, p.oid, 'EXECUTE')"
							  "  FROM pg_catalog.pg_proc p"
							  "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass"
							  "       AND d.objid = p.oid AND d.deptype = 'e'"
							  "       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
							  "  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'gemini_etl'"
							  " WHERE p.proname = 'gemini_stream_start'",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
	{
		*why = pstrdup("gemini_stream_start() is missing from the extension");
		return false;
	}
	ok = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!ok)
		*why = psprintf("role %s may no longer stream: it lacks EXECUTE on gemini_stream_start()",
						GetUserNameFromId(role, false));
	return ok;
}
