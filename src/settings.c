/*
 * settings.c
 *	  Every gemini_etl.* setting, defined from one table.
 *
 * One table drives the definitions (the pgsql-http way), so adding a setting
 * is one row, and the README's settings list can be checked against it.
 * Settings that point the backend at another server (api_url) are
 * superuser-only: a non-superuser must not be able to redirect pulls, nor
 * read what the server sends to a host of their choosing.
 *
 * Settings whose extreme values hurt others are bounded for non-superusers
 * by check hooks: no pacing (rate_limit_rps = 0) or a fast rate gets the
 * server's address banned by Gemini for everyone on it, and many retries
 * hammer Gemini the same way.  A superuser (or postgresql.conf) may set
 * them freely.  max_response_bytes is capped for everyone below what one
 * palloc can hold.
 *
 * The S3 settings that choose where data goes and with which credentials
 * (endpoint, bucket, keys) are superuser-only too: with them a user could
 * send the server's signed requests, or the data, to a place of their
 * choosing.  The secret is hidden from non-superusers (GUC_SUPERUSER_ONLY)
 * and from SHOW ALL, and is never printed by the extension.
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "settings.h"

char	   *gemini_api_url = NULL;
char	   *gemini_ca_file = NULL;
double		gemini_rate_limit_rps = 1.0;
int			gemini_http_timeout_ms = 30000;
int			gemini_max_response_bytes = 16 * 1024 * 1024;
int			gemini_max_retries = 5;
int			gemini_progress_pages = 100;
char	   *gemini_ws_url = NULL;
char	   *gemini_ws_protocol = NULL;
char	   *gemini_database_name = NULL;
int			gemini_stream_flush_ms = 200;
int			gemini_stream_flush_rows = 5000;
int			gemini_stream_max_buffer = 64 * 1024 * 1024;
int			gemini_ws_heartbeat_timeout_ms = 15000;
int			gemini_ws_max_connects_per_minute = 12;
int			gemini_ws_max_message_bytes = 16 * 1024 * 1024;
char	   *gemini_s3_endpoint = NULL;
char	   *gemini_s3_region = NULL;
char	   *gemini_s3_bucket = NULL;
char	   *gemini_s3_prefix = NULL;
char	   *gemini_s3_access_key_id = NULL;
char	   *gemini_s3_secret_access_key = NULL;
char	   *gemini_s3_url_style = NULL;
int			gemini_s3_part_size = 64 * 1024 * 1024;
int			gemini_s3_object_max_bytes = 1024 * 1024 * 1024;
int			gemini_s3_timeout_ms = 300000;
int			gemini_export_gzip_level = 1;
char	   *gemini_export_parquet_compression = NULL;
int			gemini_export_parquet_row_group_bytes = 128 * 1024 * 1024;
int			gemini_export_parquet_page_bytes = 1024 * 1024;
int			gemini_export_numeric_scale = 18;
int			gemini_export_numeric_precision = 38;
int			gemini_pipeline_max_retries = 2;
int			gemini_pipeline_retry_delay_ms = 5000;
char	   *gemini_pipeline_export_format = NULL;
int			gemini_live_export_minutes = 5;
int			gemini_retention_days = 0;
int			gemini_run_retention_days = 30;

/* What a non-superuser may set: Gemini asks for at most 1 request/s (120/min allowed). */
#define USER_MAX_RPS			2.0
#define USER_MAX_RETRIES		10
#define MAX_RESPONSE_BYTES_CAP	(256 * 1024 * 1024)

static bool check_url(char **newval, void **extra, GucSource source);
static bool check_ws_url(char **newval, void **extra, GucSource source);
static bool check_ws_protocol(char **newval, void **extra, GucSource source);
static bool check_rate_limit(double *newval, void **extra, GucSource source);
static bool check_max_retries(int *newval, void **extra, GucSource source);
static bool check_endpoint(char **newval, void **extra, GucSource source);
static bool check_url_style(char **newval, void **extra, GucSource source);
static bool check_prefix(char **newval, void **extra, GucSource source);
static bool check_parquet_compression(char **newval, void **extra, GucSource source);
static bool check_export_format(char **newval, void **extra, GucSource source);

typedef enum SettingKind
{
	SETTING_STRING,
	SETTING_INT,
	SETTING_REAL
} SettingKind;

typedef struct SettingDef
{
	const char *name;
	SettingKind kind;
	void	   *var;
	const char *short_desc;
	GucContext	context;
	int			flags;
	/* defaults and bounds; the unused ones stay zero */
	const char *str_default;
	double		num_default;
	double		min;
	double		max;
	GucStringCheckHook str_check;
	GucIntCheckHook int_check;
	GucRealCheckHook real_check;
} SettingDef;

static const SettingDef settings[] = {
	{.name = "gemini_etl.api_url", .kind = SETTING_STRING, .var = &gemini_api_url,
		.short_desc = "Base URL of Gemini's REST API (tests point it at a local replay server).",
		.context = PGC_SUSET, .str_default = "https://api.gemini.com", .str_check = check_url},
	{.name = "gemini_etl.ca_file", .kind = SETTING_STRING, .var = &gemini_ca_file,
		.short_desc = "Extra CA bundle used to verify TLS peers; empty means the system CAs.",
		.context = PGC_SUSET, .str_default = ""},
	{.name = "gemini_etl.rate_limit_rps", .kind = SETTING_REAL, .var = &gemini_rate_limit_rps,
		.short_desc = "REST requests per second per backend; 0 means unlimited.",
		.context = PGC_USERSET, .num_default = 1.0, .min = 0.0, .max = 1000.0, .real_check = check_rate_limit},
	{.name = "gemini_etl.http_timeout_ms", .kind = SETTING_INT, .var = &gemini_http_timeout_ms,
		.short_desc = "Timeout of one REST request, connect included.",
		.context = PGC_USERSET, .flags = GUC_UNIT_MS, .num_default = 30000, .min = 100, .max = 3600000},
	{.name = "gemini_etl.max_response_bytes", .kind = SETTING_INT, .var = &gemini_max_response_bytes,
		.short_desc = "A larger REST response is refused.",
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE, .num_default = 16 * 1024 * 1024,
		.min = 1024, .max = MAX_RESPONSE_BYTES_CAP},
	{.name = "gemini_etl.max_retries", .kind = SETTING_INT, .var = &gemini_max_retries,
		.short_desc = "Retries of a REST request after 429, 5xx or a transport error.",
		.context = PGC_USERSET, .num_default = 5, .min = 0, .max = 100, .int_check = check_max_retries},
	{.name = "gemini_etl.progress_pages", .kind = SETTING_INT, .var = &gemini_progress_pages,
		.short_desc = "A pull emits a progress NOTICE every this many pages; 0 turns it off.",
		.context = PGC_USERSET, .num_default = 100, .min = 0, .max = 1000000},
	{.name = "gemini_etl.ws_url", .kind = SETTING_STRING, .var = &gemini_ws_url,
		.short_desc = "Market-data websocket URL (v2 .../v2/marketdata, or the new API wss://ws.gemini.com).",
		.context = PGC_SUSET, .str_default = "wss://api.gemini.com/v2/marketdata", .str_check = check_ws_url},
	{.name = "gemini_etl.ws_protocol", .kind = SETTING_STRING, .var = &gemini_ws_protocol,
		.short_desc = "Websocket protocol: auto (from the URL: /v2/marketdata means v2), v2 or new.",
		.context = PGC_SUSET, .str_default = "auto", .str_check = check_ws_protocol},
	{.name = "gemini_etl.database_name", .kind = SETTING_STRING, .var = &gemini_database_name,
		.short_desc = "Database the preloaded supervisor connects to, to restart streams.",
		.context = PGC_POSTMASTER, .str_default = "postgres"},
	{.name = "gemini_etl.stream_flush_ms", .kind = SETTING_INT, .var = &gemini_stream_flush_ms,
		.short_desc = "A stream commits its buffered rows at least this often.",
		.context = PGC_SIGHUP, .flags = GUC_UNIT_MS, .num_default = 200, .min = 10, .max = 60000},
	{.name = "gemini_etl.stream_flush_rows", .kind = SETTING_INT, .var = &gemini_stream_flush_rows,
		.short_desc = "A stream commits as soon as this many rows are buffered.",
		.context = PGC_SIGHUP, .num_default = 5000, .min = 1, .max = 1000000},
	{.name = "gemini_etl.stream_max_buffer", .kind = SETTING_INT, .var = &gemini_stream_max_buffer,
		.short_desc = "Received bytes a stream may hold before it stops reading the socket (backpressure).",
		.context = PGC_SIGHUP, .flags = GUC_UNIT_BYTE, .num_default = 64 * 1024 * 1024,
		.min = 1024 * 1024, .max = 1024 * 1024 * 1024},
	{.name = "gemini_etl.ws_heartbeat_timeout_ms", .kind = SETTING_INT, .var = &gemini_ws_heartbeat_timeout_ms,
		.short_desc = "A stream with no message for this long reconnects (v2 sends a heartbeat every 5 s).",
		.context = PGC_SIGHUP, .flags = GUC_UNIT_MS, .num_default = 15000, .min = 1000, .max = 3600000},
	{.name = "gemini_etl.ws_max_connects_per_minute", .kind = SETTING_INT, .var = &gemini_ws_max_connects_per_minute,
		.short_desc = "Connection attempts a stream makes per minute at most (Gemini allows 12 public requests per minute).",
		.context = PGC_SIGHUP, .num_default = 12, .min = 1, .max = 600},
	{.name = "gemini_etl.ws_max_message_bytes", .kind = SETTING_INT, .var = &gemini_ws_max_message_bytes,
		.short_desc = "A longer websocket message is dead-lettered (its start) and the stream reconnects; bounds the worker's memory.",
		.context = PGC_SIGHUP, .flags = GUC_UNIT_BYTE, .num_default = 16 * 1024 * 1024,
		.min = 64 * 1024, .max = 256 * 1024 * 1024},
	{.name = "gemini_etl.s3_endpoint", .kind = SETTING_STRING, .var = &gemini_s3_endpoint,
		.short_desc = "S3 endpoint URL (e.g. http://127.0.0.1:4568 for an S3-compatible server); empty means AWS's regional endpoint.",
		.context = PGC_SUSET, .str_default = "", .str_check = check_endpoint},
	{.name = "gemini_etl.s3_region", .kind = SETTING_STRING, .var = &gemini_s3_region,
		.short_desc = "S3 region, used in the SigV4 signature and AWS's endpoint name.",
		.context = PGC_SUSET, .str_default = "us-east-1"},
	{.name = "gemini_etl.s3_bucket", .kind = SETTING_STRING, .var = &gemini_s3_bucket,
		.short_desc = "Bucket that gemini_export_s3 and the pipeline write to; empty means no export.",
		.context = PGC_SUSET, .str_default = ""},
	{.name = "gemini_etl.s3_prefix", .kind = SETTING_STRING, .var = &gemini_s3_prefix,
		.short_desc = "Key prefix of exported objects: {prefix}/{table}/dt=YYYY-MM-DD/hour=HH/.",
		.context = PGC_SUSET, .str_default = "gemini", .str_check = check_prefix},
	{.name = "gemini_etl.s3_access_key_id", .kind = SETTING_STRING, .var = &gemini_s3_access_key_id,
		.short_desc = "S3 access key id; empty means AWS_ACCESS_KEY_ID, then the AWS shared credentials file.",
		.context = PGC_SUSET, .flags = GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, .str_default = ""},
	{.name = "gemini_etl.s3_secret_access_key", .kind = SETTING_STRING, .var = &gemini_s3_secret_access_key,
		.short_desc = "S3 secret access key (hidden from non-superusers).",
		.context = PGC_SUSET, .flags = GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, .str_default = ""},
	{.name = "gemini_etl.s3_url_style", .kind = SETTING_STRING, .var = &gemini_s3_url_style,
		.short_desc = "S3 URL style: auto (virtual-hosted on AWS, path-style on a custom endpoint), path or virtual.",
		.context = PGC_SUSET, .str_default = "auto", .str_check = check_url_style},
	{.name = "gemini_etl.s3_part_size", .kind = SETTING_INT, .var = &gemini_s3_part_size,
		.short_desc = "Objects larger than this go up as multipart uploads of parts this large (S3's minimum is 5MB).",
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE, .num_default = 64 * 1024 * 1024,
		.min = 5 * 1024 * 1024, .max = 512 * 1024 * 1024},
	{.name = "gemini_etl.s3_object_max_bytes", .kind = SETTING_INT, .var = &gemini_s3_object_max_bytes,
		.short_desc = "An hour's export starts a new object (part-00001, ...) past this many bytes.",
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE, .num_default = 1024 * 1024 * 1024,
		.min = 64 * 1024, .max = INT_MAX},
	{.name = "gemini_etl.s3_timeout_ms", .kind = SETTING_INT, .var = &gemini_s3_timeout_ms,
		.short_desc = "Timeout of one S3 request (a part upload included), connect included.",
		.context = PGC_USERSET, .flags = GUC_UNIT_MS, .num_default = 300000, .min = 100, .max = 3600000},
	{.name = "gemini_etl.export_gzip_level", .kind = SETTING_INT, .var = &gemini_export_gzip_level,
		.short_desc = "gzip level of csv.gz and jsonl.gz exports (1 fastest, 9 smallest).",
		.context = PGC_USERSET, .num_default = 1, .min = 1, .max = 9},
	{.name = "gemini_etl.export_parquet_compression", .kind = SETTING_STRING, .var = &gemini_export_parquet_compression,
		.short_desc = "Compression of parquet exports: zstd, snappy or none.",
		.context = PGC_USERSET, .str_default = "zstd", .str_check = check_parquet_compression},
	{.name = "gemini_etl.export_parquet_row_group_bytes", .kind = SETTING_INT, .var = &gemini_export_parquet_row_group_bytes,
		.short_desc = "A parquet export writes a row group once this many bytes of values are buffered (the most it holds).",
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE, .num_default = 128 * 1024 * 1024,
		.min = 64 * 1024, .max = 1024 * 1024 * 1024},
	{.name = "gemini_etl.export_parquet_page_bytes", .kind = SETTING_INT, .var = &gemini_export_parquet_page_bytes,
		.short_desc = "Target size of a parquet data page's values.",
		.context = PGC_USERSET, .flags = GUC_UNIT_BYTE, .num_default = 1024 * 1024,
		.min = 1024, .max = 64 * 1024 * 1024},
	{.name = "gemini_etl.export_numeric_scale", .kind = SETTING_INT, .var = &gemini_export_numeric_scale,
		.short_desc = "Scale s of DECIMAL(p,s) for numeric columns without a precision in parquet exports and their Athena DDL.",
		.context = PGC_USERSET, .num_default = 18, .min = 0, .max = 38},
	{.name = "gemini_etl.export_numeric_precision", .kind = SETTING_INT, .var = &gemini_export_numeric_precision,
		.short_desc = "Precision p of DECIMAL(p,s) for numeric columns without a precision in parquet exports (18 or less: INT64, smaller files).",
		.context = PGC_USERSET, .num_default = 38, .min = 1, .max = 38},
	{.name = "gemini_etl.pipeline_max_retries", .kind = SETTING_INT, .var = &gemini_pipeline_max_retries,
		.short_desc = "A pipeline step that fails is retried this many times before the run fails.",
		.context = PGC_SIGHUP, .num_default = 2, .min = 0, .max = 20},
	{.name = "gemini_etl.pipeline_retry_delay_ms", .kind = SETTING_INT, .var = &gemini_pipeline_retry_delay_ms,
		.short_desc = "Wait before a pipeline step's first retry; doubled for each next one.",
		.context = PGC_SIGHUP, .flags = GUC_UNIT_MS, .num_default = 5000, .min = 0, .max = 3600000},
	{.name = "gemini_etl.pipeline_export_format", .kind = SETTING_STRING, .var = &gemini_pipeline_export_format,
		.short_desc = "Format of the pipeline's export of curated data: parquet, csv.gz or jsonl.gz.",
		.context = PGC_SIGHUP, .str_default = "parquet", .str_check = check_export_format},
	{.name = "gemini_etl.live_export_minutes", .kind = SETTING_INT, .var = &gemini_live_export_minutes,
		.short_desc = "While a stream runs, the schedule exports the open hour this often (minutes; read by gemini_schedule).",
		.context = PGC_SIGHUP, .num_default = 5, .min = 1, .max = 59},
	{.name = "gemini_etl.retention_days", .kind = SETTING_INT, .var = &gemini_retention_days,
		.short_desc = "The schedule drops raw and curated daily partitions older than this many days; 0 keeps them all.",
		.context = PGC_SIGHUP, .num_default = 0, .min = 0, .max = 36500},
	{.name = "gemini_etl.run_retention_days", .kind = SETTING_INT, .var = &gemini_run_retention_days,
		.short_desc = "The schedule deletes pipeline runs older than this many days; 0 keeps them all.",
		.context = PGC_SIGHUP, .num_default = 30, .min = 0, .max = 36500},
};

/*
 * Is this value being set by a user for themselves (SET, ALTER ROLE/DATABASE
 * SET, connection options), rather than by the server's configuration?  Only
 * then do the non-superuser bounds apply; superuser() needs a user, which a
 * value from postgresql.conf read by the postmaster does not have.
 */
static bool
set_by_non_superuser(GucSource source)
{
	if (source < PGC_S_DATABASE && source != PGC_S_TEST)
		return false;
	if (!OidIsValid(GetUserId()))
		return false;
	return !superuser();
}

static bool
check_rate_limit(double *newval, void **extra, GucSource source)
{
	if ((*newval == 0 || *newval > USER_MAX_RPS) && set_by_non_superuser(source))
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("only a superuser may set gemini_etl.rate_limit_rps to %g", *newval);
		GUC_check_errdetail("Without pacing, or above %g requests per second, Gemini rate-limits or bans the server's address for every user of it.",
							USER_MAX_RPS);
		GUC_check_errhint("Use a value between 0.001 and %g, or ask a superuser to set it in postgresql.conf.", USER_MAX_RPS);
		return false;
	}
	return true;
}

static bool
check_max_retries(int *newval, void **extra, GucSource source)
{
	if (*newval > USER_MAX_RETRIES && set_by_non_superuser(source))
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("only a superuser may set gemini_etl.max_retries above %d", USER_MAX_RETRIES);
		GUC_check_errdetail("Retrying a failing request that often hammers Gemini on behalf of every user of the server.");
		return false;
	}
	return true;
}

static bool
check_ws_url(char **newval, void **extra, GucSource source)
{
	if (*newval && strncmp(*newval, "ws://", 5) != 0 && strncmp(*newval, "wss://", 6) != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The URL must start with ws:// or wss://.");
		return false;
	}
	return true;
}

static bool
check_ws_protocol(char **newval, void **extra, GucSource source)
{
	if (*newval && strcmp(*newval, "auto") != 0 && strcmp(*newval, "v2") != 0 && strcmp(*newval, "new") != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("Use auto, v2 or new.");
		return false;
	}
	return true;
}

/* A base URL must be http(s) and must not end in '/', since paths are appended. */
static bool
check_url(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	size_t		len;

	if (v == NULL)
		return true;
	len = strlen(v);
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The URL must start with http:// or https://.");
		return false;
	}
	if (len > 0 && v[len - 1] == '/')
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The URL must not end with '/': API paths such as /v1/trades are appended to it.");
		return false;
	}
	return true;
}

/* The S3 endpoint: empty (AWS), or scheme://host[:port] with no path. */
static bool
check_endpoint(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	const char *host;

	if (v == NULL || v[0] == '\0')
		return true;
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The endpoint must start with http:// or https://.");
		GUC_check_errhint("For example: http://127.0.0.1:4568, or empty for AWS's regional endpoint.");
		return false;
	}
	host = strstr(v, "://") + 3;
	if (host[0] == '\0' || strchr(host, '/') != NULL || strchr(host, '?') != NULL || strchr(host, '@') != NULL)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The endpoint is a scheme and a host (and port), with no path, query or user.");
		GUC_check_errhint("For example: http://127.0.0.1:4568, or empty for AWS's regional endpoint.");
		return false;
	}
	return true;
}

static bool
check_url_style(char **newval, void **extra, GucSource source)
{
	if (*newval && strcmp(*newval, "auto") != 0 && strcmp(*newval, "path") != 0 &&
		strcmp(*newval, "virtual") != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("Use auto, path or virtual.");
		return false;
	}
	return true;
}

/* Keys are {prefix}/{table}/...: no leading or trailing '/', no empty segment. */
static bool
check_prefix(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	size_t		len = v ? strlen(v) : 0;

	if (len > 0 && (v[0] == '/' || v[len - 1] == '/' || strstr(v, "//") != NULL))
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The prefix must not start or end with '/' nor contain \"//\".");
		GUC_check_errhint("For example: gemini, or market-data/gemini.");
		return false;
	}
	if (len > 512)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The prefix is longer than 512 bytes; S3 keys are at most 1024.");
		return false;
	}
	return true;
}

static bool
check_parquet_compression(char **newval, void **extra, GucSource source)
{
	if (*newval && strcmp(*newval, "zstd") != 0 && strcmp(*newval, "snappy") != 0 && strcmp(*newval, "none") != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("Use zstd, snappy or none.");
		return false;
	}
	return true;
}

static bool
check_export_format(char **newval, void **extra, GucSource source)
{
	if (*newval && strcmp(*newval, "parquet") != 0 && strcmp(*newval, "csv.gz") != 0 && strcmp(*newval, "jsonl.gz") != 0)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("Use parquet, csv.gz or jsonl.gz.");
		return false;
	}
	return true;
}

void
gemini_define_settings(void)
{
	for (size_t i = 0; i < lengthof(settings); i++)
	{
		const SettingDef *s = &settings[i];

		switch (s->kind)
		{
			case SETTING_STRING:
				DefineCustomStringVariable(s->name, s->short_desc, NULL, (char **) s->var,
										   s->str_default, s->context, s->flags,
										   s->str_check, NULL, NULL);
				break;
			case SETTING_INT:
				DefineCustomIntVariable(s->name, s->short_desc, NULL, (int *) s->var,
										(int) s->num_default, (int) s->min, (int) s->max,
										s->context, s->flags, s->int_check, NULL, NULL);
				break;
			case SETTING_REAL:
				DefineCustomRealVariable(s->name, s->short_desc, NULL, (double *) s->var,
										 s->num_default, s->min, s->max,
										 s->context, s->flags, s->real_check, NULL, NULL);
				break;
		}
	}
	MarkGUCPrefixReserved("gemini_etl");
}
