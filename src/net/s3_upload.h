/*
 * s3_upload.h
 *	  One S3 object written as a stream of bytes, in bounded memory: small
 *	  objects go up in one PUT, larger ones as a multipart upload whose
 *	  parts travel while the next is being written.  Memory: at most two
 *	  parts (gemini_etl.s3_part_size each), whatever the object's size.
 */
#ifndef GEMINI_S3_UPLOAD_H
#define GEMINI_S3_UPLOAD_H

#include "net/s3.h"

typedef struct S3Upload S3Upload;

extern S3Upload *s3_upload_begin(const S3Target *t, const char *key, const char *content_type);
extern void s3_upload_write(S3Upload *u, const char *data, size_t len);

/* Bytes written so far (the object's size once finished). */
extern uint64 s3_upload_bytes(const S3Upload *u);

/*
 * Finish the object: it exists in S3 when this returns.  etag (S3_ETAG_LEN)
 * and sha256 (65) receive its ETag and the SHA-256 of its bytes.
 */
extern void s3_upload_finish(S3Upload *u, char *etag, char *sha256);

/*
 * The same in two steps, so that the last request travels while the caller
 * goes on (writes the next object): begin sends it, end waits for it.  Any
 * other request in between first completes it (http.c keeps its answer).
 */
extern void s3_upload_finish_begin(S3Upload *u);
extern void s3_upload_finish_end(S3Upload *u, char *etag, char *sha256);

/*
 * After an error: drop the request under way and abort the multipart
 * upload, so no parts are left behind.  Raises only if out of memory;
 * returns false if S3
 * could not be told (then a lifecycle rule, AbortIncompleteMultipartUpload,
 * removes the parts).
 */
extern bool s3_upload_abort(S3Upload *u);

#endif
