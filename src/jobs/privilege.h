/*
 * privilege.h
 *	  The privilege model: who may do what, and as whom the extension's
 *	  tables are written.
 *
 * Users read gemini.* and change it only through the extension's functions
 * (as pg_cron does with cron.job).  A function first checks the caller's
 * right (EXECUTE was already checked by the executor; stream ownership is
 * checked here), then writes the extension's own tables as the extension's
 * owner, with search_path pinned.  Nothing a worker trusts is writable by
 * anyone else.
 */
#ifndef GEMINI_PRIVILEGE_H
#define GEMINI_PRIVILEGE_H

#include "postgres.h"

#define GEMINI_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/* The caller's identity, saved while the extension's owner writes. */
typedef struct GeminiUserSwitch
{
	Oid			saved_user;
	int			saved_context;
} GeminiUserSwitch;

/* The role that owns the gemini_etl extension in this database. */
extern Oid	gemini_extension_owner(void);

/*
 * Act as the extension's owner until gemini_restore_user(), in a restricted
 * security context (no temp tables, no SET ROLE, no deferred user code).
 * An error in between needs no restore: transaction abort resets the user.
 */
extern void gemini_become_owner(GeminiUserSwitch *sw);
extern void gemini_restore_user(GeminiUserSwitch *sw);

/* Workers: search_path = pg_catalog, pg_temp for every transaction they run. */
extern void gemini_pin_search_path(void);

/*
 * May this role start and run streams?  It must exist and hold EXECUTE on
 * gemini_stream_start().  Needs a transaction with SPI connected.  On false,
 * *why says what is wrong (palloc'd).
 */
extern bool gemini_role_may_stream(Oid role, char **why);

/* Is the current user role or a member of it, or a superuser? */
extern bool gemini_user_owns(Oid role);

#endif
