/*
 * s3_upload.c
 *	  An S3 object written as a byte stream (see s3_upload.h).
 *
 * Bytes collect in one part buffer.  When it is full, the object becomes a
 * multipart upload: the full buffer starts uploading (s3_part_start) and
 * writing goes on into the other buffer, with http_poll() on every write so
 * the part keeps moving while the caller formats and compresses rows.  Before
 * a buffer is reused, its upload is finished (and retried if needed).  An
 * object that never fills one part goes up in a single PUT.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "miscadmin.h"

#include "net/s3_upload.h"
#include "settings.h"

struct S3Upload
{
	MemoryContext mcxt;			/* everything that outlives one write */
	const S3Target *t;
	char	   *key;
	const char *content_type;
	size_t		part_size;
	char	   *buf[2];			/* the part being written, and the one uploading */
	size_t		len;
	int			cur;
	char	   *upload_id;		/* NULL until the first part is full */
	S3PendingPart pending;
	char	  **etags;
	int			nparts;
	int			maxparts;
	uint64		total;
	pg_cryptohash_ctx *sha;		/* SHA-256 of the whole object */
	char		sha256[65];		/* its hex, once finished */
	char		etag[S3_ETAG_LEN];
};

S3Upload *
s3_upload_begin(const S3Target *t, const char *key, const char *content_type)
{
	S3Upload   *u = palloc0(sizeof(S3Upload));

	u->mcxt = CurrentMemoryContext;
	u->t = t;
	u->key = pstrdup(key);
	u->content_type = content_type;
	u->part_size = (size_t) gemini_s3_part_size;
	u->buf[0] = palloc(u->part_size);
	u->maxparts = 16;
	u->etags = palloc0(sizeof(char *) * u->maxparts);
	u->sha = pg_cryptohash_create(PG_SHA256);
	if (u->sha == NULL || pg_cryptohash_init(u->sha) < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not start a SHA-256 digest")));
	return u;
}

uint64
s3_upload_bytes(const S3Upload *u)
{
	return u->total;
}

static void
finish_pending(S3Upload *u)
{
	char		etag[S3_ETAG_LEN];

	if (!u->pending.active)
		return;
	s3_part_finish(u->t, &u->pending, etag);
	u->etags[u->pending.part_no - 1] = MemoryContextStrdup(u->mcxt, etag);
}

/* Send the current buffer as the next part; writing continues in the other. */
static void
send_part(S3Upload *u)
{
	/* the part's request and its etag live until the object is finished */
	MemoryContext old = MemoryContextSwitchTo(u->mcxt);

	if (u->upload_id == NULL)
		u->upload_id = s3_multipart_begin(u->t, u->key, u->content_type);
	finish_pending(u);
	if (u->nparts == u->maxparts)
	{
		u->maxparts *= 2;
		u->etags = repalloc(u->etags, sizeof(char *) * u->maxparts);
	}
	u->nparts++;
	if (u->nparts > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s would need more than 10000 parts", s3_uri(u->t, u->key)),
				 errdetail("S3 allows 10000 parts per object; gemini_etl.s3_part_size is %d bytes.", gemini_s3_part_size),
				 errhint("Raise gemini_etl.s3_part_size, or lower gemini_etl.s3_object_max_bytes so the hour splits into more objects.")));
	s3_part_start(u->t, u->key, u->upload_id, u->nparts, u->buf[u->cur], u->len, &u->pending);
	u->cur = 1 - u->cur;
	if (u->buf[u->cur] == NULL)
		u->buf[u->cur] = palloc(u->part_size);
	u->len = 0;
	MemoryContextSwitchTo(old);
}

void
s3_upload_write(S3Upload *u, const char *data, size_t len)
{
	if (pg_cryptohash_update(u->sha, (const uint8 *) data, len) < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not update a SHA-256 digest")));
	u->total += len;
	while (len > 0)
	{
		size_t		n = Min(len, u->part_size - u->len);

		memcpy(u->buf[u->cur] + u->len, data, n);
		u->len += n;
		data += n;
		len -= n;
		if (u->len == u->part_size)
			send_part(u);
	}
	http_poll();
}

void
s3_upload_finish_begin(S3Upload *u)
{
	static const char digits[] = "0123456789abcdef";
	uint8		sum[32];
	MemoryContext old = MemoryContextSwitchTo(u->mcxt);

	if (pg_cryptohash_final(u->sha, sum, sizeof(sum)) < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not finish a SHA-256 digest")));
	pg_cryptohash_free(u->sha);
	u->sha = NULL;
	for (int i = 0; i < 32; i++)
	{
		u->sha256[2 * i] = digits[sum[i] >> 4];
		u->sha256[2 * i + 1] = digits[sum[i] & 15];
	}
	u->sha256[64] = '\0';
	if (u->upload_id == NULL)
		s3_put_start(u->t, u->key, u->buf[u->cur], u->len, u->content_type, &u->pending);
	else
	{
		if (u->len > 0)
			send_part(u);
		finish_pending(u);
		s3_multipart_complete(u->t, u->key, u->upload_id, u->etags, u->nparts, u->etag);
		u->upload_id = NULL;
	}
	MemoryContextSwitchTo(old);
}

void
s3_upload_finish_end(S3Upload *u, char *etag, char *sha256)
{
	MemoryContext old = MemoryContextSwitchTo(u->mcxt);

	if (u->pending.active)
	{
		/* the single PUT started by finish_begin (s3_part_finish clears active) */
		s3_part_finish(u->t, &u->pending, u->etag);
	}
	strlcpy(etag, u->etag, S3_ETAG_LEN);
	strlcpy(sha256, u->sha256, 65);
	for (int i = 0; i < 2; i++)
		if (u->buf[i])
			pfree(u->buf[i]);
	u->buf[0] = u->buf[1] = NULL;
	MemoryContextSwitchTo(old);
}

void
s3_upload_finish(S3Upload *u, char *etag, char *sha256)
{
	s3_upload_finish_begin(u);
	s3_upload_finish_end(u, etag, sha256);
}

bool
s3_upload_abort(S3Upload *u)
{
	bool		ok = true;

	/* The part under way (if any) is dropped with its connection. */
	http_prefetch_cancel();
	u->pending.active = false;
	if (u->upload_id != NULL)
	{
		/* A cancel already raised the error being cleaned up: do not let it stop the abort. */
		HOLD_INTERRUPTS();
		ok = s3_multipart_abort(u->t, u->key, u->upload_id);
		RESUME_INTERRUPTS();
		if (!ok)
			ereport(WARNING,
					(errmsg("could not abort the multipart upload of %s", s3_uri(u->t, u->key)),
					 errdetail("Its parts stay in the bucket until removed."),
					 errhint("An S3 lifecycle rule with AbortIncompleteMultipartUpload removes them; or aws s3api abort-multipart-upload.")));
		u->upload_id = NULL;
	}
	return ok;
}
