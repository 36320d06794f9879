/*
 * settings.h
 *	  The gemini_etl.* configuration parameters (GUCs), defined in one table
 *	  in settings.c.  Other files read the variables declared here.
 */
#ifndef GEMINI_SETTINGS_H
#define GEMINI_SETTINGS_H

extern char *gemini_api_url;
extern char *gemini_ca_file;
extern double gemini_rate_limit_rps;
extern int	gemini_http_timeout_ms;
extern int	gemini_max_response_bytes;
extern int	gemini_max_retries;
extern int	gemini_progress_pages;
extern char *gemini_ws_url;
extern char *gemini_ws_protocol;
extern char *gemini_database_name;
extern int	gemini_stream_flush_ms;
extern int	gemini_stream_flush_rows;
extern int	gemini_stream_max_buffer;
extern int	gemini_ws_heartbeat_timeout_ms;
extern int	gemini_ws_max_connects_per_minute;
extern int	gemini_ws_max_message_bytes;
extern char *gemini_s3_endpoint;
extern char *gemini_s3_region;
extern char *gemini_s3_bucket;
extern char *gemini_s3_prefix;
extern char *gemini_s3_access_key_id;
extern char *gemini_s3_secret_access_key;
extern char *gemini_s3_url_style;
extern int	gemini_s3_part_size;
extern int	gemini_s3_object_max_bytes;
extern int	gemini_s3_timeout_ms;
extern int	gemini_export_gzip_level;
extern char *gemini_export_parquet_compression;
extern int	gemini_export_parquet_row_group_bytes;
extern int	gemini_export_parquet_page_bytes;
extern int	gemini_export_numeric_scale;
extern int	gemini_export_numeric_precision;
extern int	gemini_pipeline_max_retries;
extern int	gemini_pipeline_retry_delay_ms;
extern char *gemini_pipeline_export_format;
extern int	gemini_live_export_minutes;
extern int	gemini_retention_days;
extern int	gemini_run_retention_days;

extern void gemini_define_settings(void);

/* log_redact.c: keep the S3 secret out of the server log */
extern void gemini_install_log_redaction(void);

#endif
