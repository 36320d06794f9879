/*
 * export_gzip.c
 *	  A gzip stream (zlib, RFC 1952) whose output goes to an S3 upload as it
 *	  is produced, so a csv.gz or jsonl.gz object is never whole in memory.
 *
 * zlib allocates through palloc here: an error anywhere in the export
 * frees its state with the memory context, with no deflateEnd to miss.
 * Input is gathered into 256 kB before each deflate() call, because rows
 * are short and deflate's per-call cost is not.
 */
#include "postgres.h"

#include <zlib.h>

#include "jobs/export.h"

#define GZ_BUF (256 * 1024)

struct GzOut
{
	z_stream	zs;
	S3Upload   *out;
	size_t		inlen;
	Bytef		in[GZ_BUF];
	Bytef		obuf[GZ_BUF];
};

static voidpf
gz_alloc(voidpf opaque, uInt items, uInt size)
{
	return palloc((Size) items * size);
}

static void
gz_free(voidpf opaque, voidpf address)
{
	pfree(address);
}

static void
gz_fail(int rc)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("gzip compression failed (zlib error %d)", rc)));
}

GzOut *
gz_open(S3Upload *out, int level)
{
	GzOut	   *g = palloc0(sizeof(GzOut));
	int			rc;

	g->out = out;
	g->zs.zalloc = gz_alloc;
	g->zs.zfree = gz_free;
	/* windowBits 15 + 16: a gzip header and trailer rather than zlib's */
	rc = deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (rc != Z_OK)
		gz_fail(rc);
	return g;
}

/* Compress what is gathered; Z_FINISH also writes the trailer. */
static void
gz_deflate(GzOut *g, int flush)
{
	g->zs.next_in = g->in;
	g->zs.avail_in = (uInt) g->inlen;
	for (;;)
	{
		int			rc;
		size_t		have;

		g->zs.next_out = g->obuf;
		g->zs.avail_out = GZ_BUF;
		rc = deflate(&g->zs, flush);
		if (rc == Z_STREAM_ERROR)
			gz_fail(rc);
		have = GZ_BUF - g->zs.avail_out;
		if (have > 0)
			s3_upload_write(g->out, (const char *) g->obuf, have);
		if (flush == Z_FINISH ? rc == Z_STREAM_END : g->zs.avail_out != 0)
			break;
	}
	g->inlen = 0;
}

void
gz_write(GzOut *g, const char *data, size_t len)
{
	while (len > 0)
	{
		size_t		n = Min(len, GZ_BUF - g->inlen);

		memcpy(g->in + g->inlen, data, n);
		g->inlen += n;
		data += n;
		len -= n;
		if (g->inlen == GZ_BUF)
			gz_deflate(g, Z_NO_FLUSH);
	}
}

void
gz_close(GzOut *g)
{
	gz_deflate(g, Z_FINISH);
	deflateEnd(&g->zs);
}
