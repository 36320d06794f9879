/*
 * s3.h
 *	  S3 over the HTTP transport: signed (SigV4) object PUTs, multipart
 *	  uploads, listing and deletion.  Knows nothing of the tables or of the
 *	  formats written; the uploader (s3_upload.h) builds objects on it.
 */
#ifndef GEMINI_S3_H
#define GEMINI_S3_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "net/http.h"

#define S3_ETAG_LEN 128

/* Where objects go and with which credentials.  Never printed whole. */
typedef struct S3Target
{
	char	   *bucket;
	char	   *region;
	char	   *base;			/* scheme://host[:port] (virtual-hosted: with the bucket) */
	bool		path_style;		/* /bucket/key rather than bucket.host/key */
	char	   *sigv4;			/* curl's provider string: aws:amz:REGION:s3 */
	char	   *key_id;
	char	   *secret;			/* never in a message, a log or an error */
	char	   *session_token;	/* may be NULL */
	char	   *cred_source;	/* where the credentials came from, for messages */
} S3Target;

/*
 * The target from the settings, with bucket and region overriding them when
 * not NULL (the aws_s3 functions name their own).  Raises at once when no
 * bucket is set or no credentials are found.
 */
extern S3Target *s3_target_open(const char *bucket, const char *region);

/* bucket, else gemini_etl.s3_bucket; raises when neither is set or the name is invalid. */
extern const char *s3_bucket_checked(const char *bucket);

/* s3://bucket/key, for messages and records. */
extern char *s3_uri(const S3Target *t, const char *key);

/* Put a whole object; etag receives its ETag. */
extern void s3_put_object(const S3Target *t, const char *key, const char *data, size_t len,
						  const char *content_type, char *etag);

/* Multipart upload.  s3_multipart_abort never raises: it is the cleanup of errors. */
extern char *s3_multipart_begin(const S3Target *t, const char *key, const char *content_type);
extern void s3_multipart_complete(const S3Target *t, const char *key, const char *upload_id,
								  char **part_etags, int nparts, char *etag);
extern bool s3_multipart_abort(const S3Target *t, const char *key, const char *upload_id);

/*
 * A part upload that travels while the caller writes the next one: start
 * sends it (the body must live until finish), finish waits for it, with the
 * transport's retries, and raises on failure.
 */
typedef struct S3PendingPart
{
	HttpRequest req;
	char	   *url;
	char	   *headers[3];
	const char *key;
	int			part_no;		/* 0: a whole object's PUT */
	bool		active;
} S3PendingPart;

extern void s3_part_start(const S3Target *t, const char *key, const char *upload_id, int part_no,
						  const char *data, size_t len, S3PendingPart *p);
/* The same for a whole object (part_no 0): a PUT that travels while the caller goes on. */
extern void s3_put_start(const S3Target *t, const char *key, const char *data, size_t len,
						 const char *content_type, S3PendingPart *p);
extern void s3_part_finish(const S3Target *t, S3PendingPart *p, char *etag);

/* Keys under prefix (every page of ListObjectsV2). */
extern List *s3_list_keys(const S3Target *t, const char *prefix);

/* Delete one object (absent is fine, as in S3). */
extern void s3_delete_object(const S3Target *t, const char *key);

/* Lowercase hex SHA-256 of data (65 bytes with the NUL). */
extern void s3_sha256_hex(const char *data, size_t len, char *hex);

#endif
