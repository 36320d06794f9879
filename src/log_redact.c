/*
 * log_redact.c
 *	  Keeps the S3 secret out of the server log.
 *
 * PostgreSQL itself would write it there: when postgresql.conf or ALTER
 * SYSTEM changes a setting, the postmaster logs 'parameter "..." changed to
 * "<value>"' at reload, whatever the setting's flags; and log_statement
 * (or an error in the statement) logs the ALTER SYSTEM SET text.  An
 * emit_log_hook, installed in every process that loads the library (the
 * postmaster too when it is preloaded), rewrites those messages before
 * they are written: the value becomes "(hidden)", and a statement that
 * mentions the setting or holds the secret is not printed.
 */
#include "postgres.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "settings.h"

#define SECRET_SETTING "gemini_etl.s3_secret_access_key"

static emit_log_hook_type prev_emit_log_hook = NULL;

/* Does s hold the secret (when it is long enough to tell)? */
static bool
holds_secret(const char *s)
{
	const char *v = gemini_s3_secret_access_key;

	return s != NULL && v != NULL && strlen(v) >= 8 && strstr(s, v) != NULL;
}

static void
redact(ErrorData *edata)
{
	MemoryContext old;

	/* The reload message names the setting and carries the new value (which may be a typo'd one). */
	bool		reload = edata->message != NULL && strstr(edata->message, "\"" SECRET_SETTING "\"") != NULL &&
		strstr(edata->message, "changed to") != NULL;
	/* log_statement's "statement: ALTER SYSTEM SET gemini_etl.s3_secret_access_key = '...'" */
	bool		setting_stmt = edata->message != NULL && debug_query_string != NULL &&
		strstr(debug_query_string, "s3_secret_access_key") != NULL &&
		strstr(edata->message, debug_query_string) != NULL;

	if (setting_stmt)
	{
		old = MemoryContextSwitchTo(ErrorContext);
		edata->message = pstrdup("statement: (a statement setting " SECRET_SETTING ", hidden)");
		MemoryContextSwitchTo(old);
	}
	if (reload || holds_secret(edata->message) || holds_secret(edata->detail) ||
		holds_secret(edata->detail_log) || holds_secret(edata->context) ||
		holds_secret(edata->internalquery))
	{
		/* ErrorContext: where elog.c allocated what it replaces, and frees it */
		old = MemoryContextSwitchTo(ErrorContext);
		edata->message = pstrdup(reload ? "parameter \"" SECRET_SETTING "\" changed (value hidden)"
								 : "(a message holding gemini_etl's S3 secret was hidden)");
		edata->detail = edata->detail_log = edata->context = edata->internalquery = NULL;
		MemoryContextSwitchTo(old);
	}
	/* ALTER SYSTEM SET gemini_etl.s3_secret_access_key = '...', logged or failing */
	if (debug_query_string != NULL &&
		(strstr(debug_query_string, "s3_secret_access_key") != NULL || holds_secret(debug_query_string)))
		edata->hide_stmt = true;
}

static void
gemini_emit_log(ErrorData *edata)
{
	redact(edata);
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
gemini_install_log_redaction(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = gemini_emit_log;
}
