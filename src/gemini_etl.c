/*
 * gemini_etl.c
 *	  Module entry point: settings, shared memory, library-wide set-up.
 *
 * gemini_etl works loaded on demand (CREATE EXTENSION, first call) and
 * preloaded (shared_preload_libraries).  Only preloading gives it shared
 * memory, which the live pull counters (gemini.pull_progress) use, and the
 * stream supervisor, which restarts streams after a crash or a restart.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"

#include "settings.h"
#include "net/http.h"
#include "jobs/progress.h"
#include "jobs/stream.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
gemini_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	gemini_progress_shmem_request();
}

static void
gemini_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	gemini_progress_shmem_startup();
}

void
_PG_init(void)
{
	gemini_define_settings();
	gemini_install_log_redaction();
	http_global_init();

	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = gemini_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = gemini_shmem_startup;
		/* restarts streams after crashes and restarts (stream_api.c) */
		gemini_register_supervisor();
	}
}
