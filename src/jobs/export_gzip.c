/*
 * export_gzip.c
 *	  A gzip stream (zlib, RFC 1952, one member) whose output goes to an S3
 *	  upload as it is produced, so a csv.gz or jsonl.gz object is never
 *	  whole in memory.
 *
 * Compression runs on a thread of its own, so it overlaps with reading and
 * formatting rows (it was a quarter of an export's time on the backend's
 * one thread).  The thread runs zlib only: it calls no PostgreSQL function
 * (no palloc, no elog), touches only the malloc'd buffers below, and has
 * every signal blocked, so PostgreSQL's signal handling stays on the
 * backend's thread.  The hand-over is a single slot guarded by a mutex:
 *   - the backend fills an input buffer (256 kB of rows);
 *   - it waits until the thread is idle, takes the compressed output of
 *     the previous buffer (and writes it to the upload, which may block on
 *     the network), then hands over the full buffer and fills the other.
 * So at most two input buffers and one output buffer exist, whatever the
 * object's size.  An error anywhere (the backend longjmps away) is cleaned
 * up by a reset callback on the memory context that holds the stream: it
 * stops and joins the thread and frees the buffers, so no thread outlives
 * its export.
 */
#include "postgres.h"

#include <pthread.h>
#include <signal.h>
#include <zlib.h>

#include "utils/memutils.h"

#include "jobs/export.h"

#define GZ_BUF (256 * 1024)

typedef enum GzJob
{
	GZ_IDLE,					/* nothing to do; out holds the last output */
	GZ_DEFLATE,					/* compress in[inlen] */
	GZ_FINISH,					/* compress in[inlen] and write the trailer */
	GZ_QUIT
} GzJob;

struct GzOut
{
	S3Upload   *out;
	z_stream	zs;				/* malloc-allocating: used by the thread */
	bool		zs_ready;
	pthread_t	thread;
	bool		thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	GzJob		job;			/* under mu */
	int			zrc;			/* last zlib error, under mu */
	/* the buffer being filled by the backend, and the one being compressed */
	Bytef	   *fill;
	size_t		fill_len;
	Bytef	   *work;
	size_t		work_len;
	/* compressed output of the last job: malloc'd, grows as needed */
	Bytef	   *obuf;
	size_t		olen;
	size_t		ocap;
	/* for the size estimate: raw bytes given, and raw/compressed bytes collected */
	uint64		raw_in;
	uint64		raw_done;
	uint64		comp_done;
	size_t		job_raw;		/* raw bytes of the job under way */
	MemoryContextCallback cb;
};

/* ---------- the thread: zlib and malloc only ---------- */

static bool
out_reserve(GzOut *g, size_t more)
{
	if (g->olen + more > g->ocap)
	{
		size_t		cap = Max(g->ocap * 2, g->olen + more);
		Bytef	   *nb = realloc(g->obuf, cap);

		if (nb == NULL)
			return false;
		g->obuf = nb;
		g->ocap = cap;
	}
	return true;
}

/* Compress work[work_len] into obuf; returns a zlib code (Z_OK or Z_STREAM_END when done). */
static int
run_deflate(GzOut *g, int flush)
{
	int			rc;

	g->olen = 0;
	g->zs.next_in = g->work;
	g->zs.avail_in = (uInt) g->work_len;
	for (;;)
	{
		size_t		room;

		if (!out_reserve(g, GZ_BUF))
			return Z_MEM_ERROR;
		room = g->ocap - g->olen;
		g->zs.next_out = g->obuf + g->olen;
		g->zs.avail_out = (uInt) room;
		rc = deflate(&g->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return rc;
		g->olen += room - g->zs.avail_out;
		if (flush == Z_FINISH ? rc == Z_STREAM_END : (g->zs.avail_in == 0 && g->zs.avail_out != 0))
			return flush == Z_FINISH ? Z_STREAM_END : Z_OK;
	}
}

static void *
gz_thread(void *arg)
{
	GzOut	   *g = (GzOut *) arg;

	pthread_mutex_lock(&g->mu);
	for (;;)
	{
		GzJob		job;
		int			rc;

		while (g->job == GZ_IDLE)
			pthread_cond_wait(&g->cv, &g->mu);
		job = g->job;
		if (job == GZ_QUIT)
			break;
		pthread_mutex_unlock(&g->mu);
		rc = run_deflate(g, job == GZ_FINISH ? Z_FINISH : Z_NO_FLUSH);
		pthread_mutex_lock(&g->mu);
		if (rc != Z_OK && rc != Z_STREAM_END)
			g->zrc = rc;
		g->job = GZ_IDLE;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* ---------- the backend's side ---------- */

/* Stop the thread (if any) and free what it used.  Safe to call twice. */
static void
gz_release(void *arg)
{
	GzOut	   *g = (GzOut *) arg;

	if (g->thread_started)
	{
		pthread_mutex_lock(&g->mu);
		/* a job under way finishes first: the thread only reads our buffers */
		while (g->job != GZ_IDLE)
			pthread_cond_wait(&g->cv, &g->mu);
		g->job = GZ_QUIT;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->thread, NULL);
		g->thread_started = false;
	}
	if (g->zs_ready)
	{
		deflateEnd(&g->zs);
		g->zs_ready = false;
	}
	free(g->fill);
	free(g->work);
	free(g->obuf);
	g->fill = g->work = g->obuf = NULL;
}

static void
gz_fail(const char *what, int rc)
{
	ereport(ERROR,
			(errcode(rc == Z_MEM_ERROR ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
			 errmsg("gzip compression failed: %s (zlib error %d)", what, rc)));
}

GzOut *
gz_open(S3Upload *out, int level)
{
	GzOut	   *g = palloc0(sizeof(GzOut));
	sigset_t	all,
				old;
	int			rc;

	g->out = out;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	/* from here on, an error or a context reset releases what exists */
	g->cb.func = gz_release;
	g->cb.arg = g;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &g->cb);

	g->fill = malloc(GZ_BUF);
	g->work = malloc(GZ_BUF);
	if (g->fill == NULL || g->work == NULL)
		gz_fail("out of memory", Z_MEM_ERROR);
	/* windowBits 15 + 16: a gzip header and trailer rather than zlib's */
	rc = deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (rc != Z_OK)
		gz_fail("deflateInit2", rc);
	g->zs_ready = true;

	/* the thread inherits this mask: it never takes a signal meant for the backend */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&g->thread, NULL, gz_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the compression thread: %s", strerror(rc))));
	g->thread_started = true;
	return g;
}

/*
 * Wait for the thread to be idle, then write its output to the upload
 * (outside the lock: the upload may block on the network).
 */
static void
gz_collect(GzOut *g)
{
	int			zrc;

	pthread_mutex_lock(&g->mu);
	while (g->job != GZ_IDLE)
		pthread_cond_wait(&g->cv, &g->mu);
	zrc = g->zrc;
	pthread_mutex_unlock(&g->mu);
	if (zrc != 0)
		gz_fail("deflate", zrc);
	g->raw_done += g->job_raw;
	g->job_raw = 0;
	if (g->olen > 0)
	{
		g->comp_done += g->olen;
		s3_upload_write(g->out, (const char *) g->obuf, g->olen);
		g->olen = 0;
	}
}

uint64
gz_estimate(const GzOut *g)
{
	double		ratio = g->raw_done > 0 ? (double) g->comp_done / (double) g->raw_done : 1.0;

	return g->comp_done + (uint64) ((double) (g->raw_in - g->raw_done) * ratio);
}

/* Hand the filled buffer to the thread (after collecting the previous job). */
static void
gz_handover(GzOut *g, GzJob job)
{
	Bytef	   *t;

	gz_collect(g);
	t = g->work;
	g->work = g->fill;
	g->work_len = g->fill_len;
	g->job_raw = g->fill_len;
	g->fill = t;
	g->fill_len = 0;
	pthread_mutex_lock(&g->mu);
	g->job = job;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
gz_write(GzOut *g, const char *data, size_t len)
{
	while (len > 0)
	{
		size_t		n = Min(len, GZ_BUF - g->fill_len);

		memcpy(g->fill + g->fill_len, data, n);
		g->fill_len += n;
		g->raw_in += n;
		data += n;
		len -= n;
		if (g->fill_len == GZ_BUF)
			gz_handover(g, GZ_DEFLATE);
	}
}

void
gz_close(GzOut *g)
{
	gz_handover(g, GZ_FINISH);
	gz_collect(g);
	gz_release(g);
}
