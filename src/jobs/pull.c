/*
 * pull.c
 *	  gemini_pull_since(symbol, since): the incremental REST pull of trades.
 *
 * Paging (docs gemini-api.md 2.3): a /v1/trades page holds the OLDEST trades
 * after the cursor, listed newest first, at most 500.  So the pull asks for
 * since_tid = the highest tid it has, 500 at a time, until a page holds fewer
 * than 500.  The first request of a symbol with no watermark (or when `since`
 * is given) asks by timestamp instead; every later one by since_tid, which
 * never skips trades that share a millisecond across a page boundary.
 *
 * Per page: the body goes to the raw layer as received; usable trades with a
 * possible time go to gemini.trades (idempotent on symbol+tid); the rest go
 * to gemini.quarantine with the reason.  The watermark moves at the end, in
 * the same transaction, so an error anywhere rolls back the whole pull and
 * nothing half-written survives.  It moves only over a contiguous range: a
 * pull asked to start (by `since`) after the watermark's time leaves a hole
 * behind it, so it stores what it finds and leaves the watermark alone, and
 * the next pull from the watermark fills the hole.
 *
 * The pull runs in the caller's transaction (it is a function).  It takes no
 * lock that other writers need except a per-symbol lock on a key no SQL user
 * can take (locks.c), and new daily partitions are made in a separate short
 * transaction (partitions.c).  It checks its arguments as the caller and
 * writes as the extension's owner (privilege.c).
 */
#include "postgres.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "fmgr.h"
#include "miscadmin.h"
#include "common/hashfn.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "gemini_parse.h"
#include "jobs/gemini_api.h"
#include "jobs/privilege.h"
#include "jobs/progress.h"
#include "jobs/stream.h"
#include "store/store.h"
#include "store/spi_util.h"

#define PAGE_SIZE			500
/* Times Gemini cannot have published: before 2015, or over a day ahead. */
#define EARLIEST_MS			INT64CONST(1420070400000)	/* 2015-01-01T00:00:00Z */
#define MAX_AHEAD_MS		INT64CONST(86400000)
#define DEFAULT_LOOKBACK_US	(USECS_PER_HOUR)
/* how close to midnight a full page must end to make the next day's partition too */
#define AHEAD_WINDOW_US		(6 * USECS_PER_HOUR)
/* lock class of pulls (locks.c), keyed by a hash of the symbol */
#define PULL_LOCK_CLASS		0x47454d49	/* "GEMI" */

PG_FUNCTION_INFO_V1(gemini_pull_since);

typedef struct PullState
{
	const char *symbol;
	char	   *symbol_lower;
	int64		run_id;
	bool		by_tid;			/* next request uses since_tid */
	int64		cursor_tid;
	int64		since_ms;
	int64		max_tid;
	TimestampTz max_tid_time;
	bool		contiguous;		/* may move the watermark (see choose_start) */
	/* minutes of stored trades, for the stream's computed candles (NULL: not kept) */
	TimestampTz *minutes;
	int			nminutes;
	int			capm;
	PullRecord	rec;
} PullState;

/*
 * glibc gives the top of the heap back to the kernel as soon as more than
 * 128 kB of it is free (M_TRIM_THRESHOLD).  Each page of a pull allocates
 * and frees about a megabyte (the response, the memory of its INSERTs, the
 * raw row and its compressed copy), so every page handed that memory back
 * and faulted it in again, which cost about a tenth of a pull.  While a pull
 * runs the threshold is raised; at its end (errors included) it goes back to
 * glibc's default and the heap is trimmed, so the backend keeps no more
 * memory than before.
 */
#define PULL_TRIM_THRESHOLD		(64 * 1024 * 1024)
#define GLIBC_TRIM_THRESHOLD	(128 * 1024)

static void
pull_memory_begin(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, PULL_TRIM_THRESHOLD);
#endif
}

static void
pull_memory_end(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, GLIBC_TRIM_THRESHOLD);
	malloc_trim(0);
#endif
}

static int
cmp_trade_tid(const void *a, const void *b)
{
	int64		x = ((const gp_trade *) a)->tid;
	int64		y = ((const gp_trade *) b)->tid;

	return (x > y) - (x < y);
}

static void
quarantine_trade(PullState *st, const gp_trade *t, const char *reason)
{
	if (store_quarantine("pull", st->symbol, t->has_tid ? &t->tid : NULL, reason, t->raw, st->run_id))
		st->rec.quarantined++;
}

/*
 * Sort a page by tid.  Gemini lists a page newest first, and when its tids
 * strictly fall, reversing it gives the one order a sort can give, in a
 * single pass; any other page is sorted.
 */
static void
sort_oldest_first(gp_trades_page *page)
{
	size_t		n = page->n;
	gp_trade   *t = page->trades;

	for (size_t i = 1; i < n; i++)
	{
		if (t[i - 1].tid <= t[i].tid)
		{
			qsort(t, n, sizeof(gp_trade), cmp_trade_tid);
			return;
		}
	}
	for (size_t i = 0; i < n / 2; i++)
	{
		gp_trade	tmp = t[i];

		t[i] = t[n - 1 - i];
		t[n - 1 - i] = tmp;
	}
}

/* Note the minute of a stored trade, once, for the computed candles. */
static void
remember_minute(PullState *st, TimestampTz ts)
{
	TimestampTz minute = ts - (ts % USECS_PER_MINUTE) - (ts % USECS_PER_MINUTE < 0 ? USECS_PER_MINUTE : 0);

	for (int i = st->nminutes - 1; i >= 0; i--)
		if (st->minutes[i] == minute)
			return;
	if (st->nminutes == st->capm)
	{
		st->capm *= 2;
		st->minutes = repalloc(st->minutes, sizeof(TimestampTz) * st->capm);
	}
	st->minutes[st->nminutes++] = minute;
}

/* Store one parsed page; returns the number of elements it held. */
static size_t
store_page(PullState *st, gp_trades_page *page, int64 now_ms)
{
	StoreTrade *batch = palloc(sizeof(StoreTrade) * Max(page->n, 1));
	int			nbatch = 0;
	DateADT		first_day = 0,
				last_day = 0;

	/* Oldest first, whatever order the page came in. */
	sort_oldest_first(page);

	for (size_t i = 0; i < page->n; i++)
	{
		gp_trade   *t = &page->trades[i];
		DateADT		day;

		bool		possible = t->timestampms >= EARLIEST_MS && t->timestampms <= now_ms + MAX_AHEAD_MS;

		if (t->has_tid && t->tid > st->max_tid)
		{
			st->max_tid = t->tid;
			/* converted only once known to be in range: ms * 1000 can overflow */
			st->max_tid_time = t->bad_reason || !possible ? 0 : gemini_ms_to_timestamptz(t->timestampms);
		}
		if (t->bad_reason)
		{
			quarantine_trade(st, t, t->bad_reason);
			continue;
		}
		if (!possible)
		{
			char	   *reason = psprintf("impossible trade time: timestampms %lld is %s",
										  (long long) t->timestampms,
										  t->timestampms < EARLIEST_MS ? "before 2015-01-01" :
										  "more than a day ahead of now");

			quarantine_trade(st, t, reason);
			continue;
		}
		batch[nbatch].tid = t->tid;
		batch[nbatch].traded_at = gemini_ms_to_timestamptz(t->timestampms);
		batch[nbatch].price = t->price;
		batch[nbatch].amount = t->amount;
		batch[nbatch].side = gp_side_name(t->side);
		batch[nbatch].broken = t->broken == 1;
		day = store_day_of(batch[nbatch].traded_at);
		if (nbatch == 0 || day < first_day)
			first_day = day;
		if (nbatch == 0 || day > last_day)
			last_day = day;
		nbatch++;
	}
	if (nbatch > 0)
	{
		/* the backfill notes the minutes it stored trades in (not those already there) */
		bool	   *stored = st->minutes ? palloc(sizeof(bool) * nbatch) : NULL;
		int64		updated = st->rec.trades_updated;

		store_ensure_day_partitions("gemini.trades", first_day, last_day);
		store_trades(st->symbol, "rest", st->run_id, batch, nbatch,
					 &st->rec.trades_new, &st->rec.trades_updated, stored);
		for (int i = 0; stored && i < nbatch; i++)
			if (stored[i] || (st->rec.trades_updated > updated && batch[i].broken))
				remember_minute(st, batch[i].traded_at);
	}
	st->rec.trades_seen += page->n;
	pfree(batch);
	return page->n;
}

/*
 * Make the partitions the page needs before anything of it is stored, in
 * one worker start: the raw layer's day, and the days of its trades with
 * possible times; when a worker starts anyway and the page is full and
 * ends in the last hours of its day, the day after too (a pull moves
 * forward in time, so that day is needed next, and making it now saves a
 * worker start at the day boundary).
 */
static void
ensure_page_partitions(const gp_trades_page *page, TimestampTz fetched_at, int64 now_ms)
{
	StorePartitionNeed needs[2];
	int			n = 0;
	DateADT		today = store_day_of(GetCurrentTimestamp());
	bool		any = false;
	DateADT		first = 0,
				last = 0;
	TimestampTz latest = 0;

	for (size_t i = 0; i < page->n; i++)
	{
		const gp_trade *t = &page->trades[i];
		DateADT		day;

		if (t->bad_reason || t->timestampms < EARLIEST_MS || t->timestampms > now_ms + MAX_AHEAD_MS)
			continue;
		day = store_day_of(gemini_ms_to_timestamptz(t->timestampms));
		latest = Max(latest, gemini_ms_to_timestamptz(t->timestampms));
		if (!any || day < first)
			first = day;
		if (!any || day > last)
			last = day;
		any = true;
	}
	if (any)
	{
		needs[n].parent = "gemini.trades";
		needs[n].first = first;
		needs[n].last = last;
		/* a full page ending in the last hours of its day: the next page is likely the next day */
		needs[n].ahead = last < today && page->n == PAGE_SIZE &&
			latest >= (TimestampTz) (last + 1) * USECS_PER_DAY - AHEAD_WINDOW_US ? last + 1 : last;
		n++;
	}
	needs[n].parent = "gemini.raw_pages";
	needs[n].first = needs[n].last = needs[n].ahead = store_day_of(fetched_at);
	n++;
	store_ensure_partitions(needs, n);
}

/* One fetched page, between the network and the tables. */
typedef struct FetchedPage
{
	char	   *url;
	HttpResult	r;
	gp_trades_page page;
} FetchedPage;

/* The request of a page: by since_tid, or (the first one) by timestamp. */
static char *
page_path(const PullState *st, bool by_tid, int64 cursor_tid)
{
	if (by_tid)
		return psprintf("/v1/trades/%s?since_tid=" INT64_FORMAT "&limit_trades=%d&include_breaks=true",
						st->symbol_lower, cursor_tid, PAGE_SIZE);
	return psprintf("/v1/trades/%s?timestamp=" INT64_FORMAT "&limit_trades=%d&include_breaks=true",
					st->symbol_lower, st->since_ms, PAGE_SIZE);
}

/* Network half: GET and parse the next page.  Needs no transaction. */
static void
fetch_page(PullState *st, FetchedPage *fp)
{
	char	   *path = page_path(st, st->by_tid, st->cursor_tid);
	gp_error	err = {0};
	gp_status	status;

	memset(&fp->page, 0, sizeof(fp->page));
	gemini_get(path, st->symbol, &fp->r, &fp->url);
	st->rec.requests += fp->r.attempts;

	status = gp_parse_trades(fp->r.body, fp->r.body_len, &fp->page, &err);
	if (status != GP_OK)
	{
		gp_trades_page_free(&fp->page);
		gemini_raise_parse_error(status, &err, fp->url, &fp->r, psprintf("trades of %s", st->symbol));
	}
}

/*
 * Database half: raw body, trades, quarantine, progress; then move the
 * cursor.  Runs inside a transaction with SPI connected.  Returns false when
 * the page shows the pull has caught up.
 */
static bool
store_fetched_page(PullState *st, FetchedPage *fp)
{
	size_t		n;
	int64		before = st->max_tid;
	int64		now_ms = gemini_timestamptz_to_ms(GetCurrentTimestamp());

	st->rec.pages++;
	PG_TRY();
	{
		ensure_page_partitions(&fp->page, fp->r.fetched_at, now_ms);
		store_raw_page(st->run_id, st->rec.pages, fp->r.fetched_at, "trades", st->symbol, fp->url,
					   (int) fp->r.status, fp->r.attempts, fp->r.body, fp->r.body_len);
		n = store_page(st, &fp->page, now_ms);
	}
	PG_FINALLY();
	{
		gp_trades_page_free(&fp->page);
	}
	PG_END_TRY();
	pfree(fp->r.body);

	gemini_progress_update(st->rec.pages, st->rec.trades_seen, st->rec.trades_new, st->max_tid,
						   st->max_tid_time);
	if (gemini_progress_pages > 0 && st->rec.pages % gemini_progress_pages == 0)
		ereport(NOTICE,
				(errmsg("gemini_pull_since(%s): %d pages, " INT64_FORMAT " trades seen, " INT64_FORMAT " new, at tid " INT64_FORMAT " (%s)",
						st->symbol, st->rec.pages, st->rec.trades_seen, st->rec.trades_new, st->max_tid,
						st->max_tid_time ? timestamptz_to_str(st->max_tid_time) : "time unknown")));

	if (n < PAGE_SIZE)
		return false;

	/* A full page must move the cursor, or paging would never end. */
	if (st->max_tid <= before || (st->by_tid && st->max_tid <= st->cursor_tid))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("paging trades of %s did not advance", st->symbol),
				 errdetail("GET %s returned a full page of %d trades without a tid above " INT64_FORMAT ".",
						   fp->url, PAGE_SIZE, st->by_tid ? st->cursor_tid : before),
				 errhint("Gemini's paging changed or the server is not Gemini; see gemini.quarantine for unusable trades.")));
	st->by_tid = true;
	st->cursor_tid = st->max_tid;
	return true;
}

/*
 * Will paging go on after this page, and from which tid?  The rule
 * store_fetched_page applies once the page is stored (where a full page
 * that does not advance is an error), computed from the parsed page alone.
 */
static bool
next_page_cursor(const PullState *st, const gp_trades_page *page, int64 *next_tid)
{
	int64		max_tid = st->max_tid;

	if (page->n < PAGE_SIZE)
		return false;
	for (size_t i = 0; i < page->n; i++)
		if (page->trades[i].has_tid && page->trades[i].tid > max_tid)
			max_tid = page->trades[i].tid;
	if (max_tid <= st->max_tid || (st->by_tid && max_tid <= st->cursor_tid))
		return false;
	*next_tid = max_tid;
	return true;
}

/* Fetch and store one page in the caller's transaction.  Returns false when caught up. */
static bool
pull_one_page(PullState *st)
{
	FetchedPage fp;
	int64		next_tid;

	fetch_page(st, &fp);

	/*
	 * Pipelining: the next page's cursor is known as soon as this page is
	 * parsed, so its request goes out now, and travels and is answered
	 * while this page is stored; the next fetch_page's gemini_get takes the
	 * response (and retries it like any other if need be).  Only the
	 * request paging makes next anyway is sent: after a full page that
	 * moved the cursor.
	 */
	if (next_page_cursor(st, &fp.page, &next_tid))
		gemini_prefetch(page_path(st, true, next_tid));

	return store_fetched_page(st, &fp);
}

/*
 * Where a pull starts: the watermark, else `since`, else an hour ago.
 * Whether it may move the watermark: when it starts from the watermark, when
 * there is none, or when `since` lies before the watermark's trade (Gemini
 * returns trades after `timestamp`, so the pull then overlaps what is stored).
 * A `since` after it would leave the trades in between behind the watermark,
 * never to be pulled.
 */
static void
choose_start(PullState *st, bool have_since, TimestampTz since)
{
	int64		watermark = 0;
	TimestampTz watermark_time = 0;
	bool		have_watermark = store_get_watermark(st->symbol, &watermark, &watermark_time);

	st->contiguous = true;
	if (have_since || !have_watermark)
	{
		if (!have_since)
			since = GetCurrentTimestamp() - DEFAULT_LOOKBACK_US;
		st->by_tid = false;
		st->since_ms = gemini_timestamptz_to_ms(since);
		st->rec.start_mode = "timestamp";
		st->rec.start_time = since;
		if (have_watermark && watermark > 0 &&
			(watermark_time == 0 || st->since_ms >= gemini_timestamptz_to_ms(watermark_time)))
		{
			st->contiguous = false;
			ereport(NOTICE,
					(errmsg("gemini_pull_since(%s): since is after the watermark (tid " INT64_FORMAT "%s%s), so the watermark stays there",
							st->symbol, watermark, watermark_time ? " at " : "",
							watermark_time ? timestamptz_to_str(watermark_time) : ""),
					 errdetail("Trades between the watermark and since were not pulled."),
					 errhint("SELECT gemini_pull_since('%s'); pulls from the watermark and fills the gap.", st->symbol)));
		}
	}
	else
	{
		st->by_tid = true;
		st->cursor_tid = watermark;
		st->rec.start_mode = "since_tid";
		st->rec.start_tid = watermark;
	}
}

/* The end of a pull, in its last transaction: watermark, record, warning. */
static void
finish_pull(PullState *st)
{
	if (st->max_tid > 0 && st->contiguous)
		store_set_watermark(st->symbol, st->max_tid, st->max_tid_time, st->run_id);
	st->rec.last_tid = st->max_tid;
	store_pull_record(&st->rec);
	if (st->rec.quarantined > 0)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("gemini_pull_since(%s): " INT64_FORMAT " trades could not be stored and were quarantined",
						st->symbol, st->rec.quarantined),
				 errhint("SELECT reason, raw FROM gemini.quarantine WHERE run_id = " INT64_FORMAT ";", st->run_id)));
}


/* The stream worker's backfill (see stream.h): a pull spread over transactions. */
struct Backfill
{
	MemoryContext cxt;
	PullState	st;
};

Backfill *
gemini_backfill_begin(const char *symbol)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl backfill", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Backfill   *b = palloc0(sizeof(Backfill));

	b->cxt = cxt;
	b->st.symbol = pstrdup(symbol);
	b->st.symbol_lower = gemini_lower(symbol);
	spi_xact_begin();
	b->st.run_id = store_next_run_id();
	b->st.rec.run_id = b->st.run_id;
	b->st.rec.symbol = b->st.symbol;
	b->st.rec.started_at = GetCurrentTimestamp();
	b->st.capm = 16;
	/* in the backfill's context: a transaction is open, and its memory goes at commit */
	b->st.minutes = MemoryContextAlloc(cxt, sizeof(TimestampTz) * b->st.capm);
	choose_start(&b->st, false, 0);
	spi_xact_commit(old);
	return b;
}

bool
gemini_backfill_step(Backfill *b, int64 live_tid)
{
	MemoryContext old = CurrentMemoryContext;
	MemoryContext page_cxt = AllocSetContextCreate(b->cxt, "gemini_etl backfill page", ALLOCSET_DEFAULT_SIZES);
	FetchedPage fp;
	bool		more;

	/*
	 * On an error the page's memory goes with page_cxt (its parse arena is
	 * freed by store_fetched_page on every exit), and the caller aborts the
	 * transaction; the backfill's state stays as before the page.
	 */
	MemoryContextSwitchTo(page_cxt);
	b->st.nminutes = 0;			/* the caller has read the last step's */
	PG_TRY();
	{
		int64		max_tid = b->st.max_tid;
		TimestampTz max_tid_time = b->st.max_tid_time;

		fetch_page(&b->st, &fp);	/* no transaction open here */
		spi_xact_begin();
		store_forget_partitions();
		PG_TRY();
		{
			more = store_fetched_page(&b->st, &fp);
		}
		PG_CATCH();
		{
			b->st.max_tid = max_tid;
			b->st.max_tid_time = max_tid_time;
			b->st.rec.pages--;
			PG_RE_THROW();
		}
		PG_END_TRY();
		/* reached what the websocket delivers: the rest is live (overlap is deduplicated) */
		if (live_tid > 0 && b->st.max_tid >= live_tid)
			more = false;
		if (b->st.max_tid > 0)
			store_set_watermark(b->st.symbol, b->st.max_tid, b->st.max_tid_time, b->st.run_id);
		spi_xact_commit(old);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(page_cxt);
		b->st.nminutes = 0;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(page_cxt);
	return more;
}

int
gemini_backfill_minutes(Backfill *b, const TimestampTz **minutes)
{
	*minutes = b->st.minutes;
	return b->st.nminutes;
}

int64
gemini_backfill_end(Backfill *b)
{
	MemoryContext old = CurrentMemoryContext;
	int64		stored = b->st.rec.trades_new;

	MemoryContextSwitchTo(b->cxt);
	spi_xact_begin();
	finish_pull(&b->st);
	spi_xact_commit(old);
	MemoryContextDelete(b->cxt);
	return stored;
}

void
gemini_backfill_abort(Backfill *b)
{
	MemoryContextDelete(b->cxt);
}

Datum
gemini_pull_since(PG_FUNCTION_ARGS)
{
	PullState	st = {0};
	GeminiUserSwitch owner;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("symbol must not be NULL"),
				 errhint("Call gemini_pull_since('BTCUSD') or gemini_pull_since('BTCUSD', now() - interval '1 day').")));
	st.symbol = gemini_normalize_symbol(PG_GETARG_TEXT_PP(0));
	st.symbol_lower = gemini_lower(st.symbol);

	if (!PG_ARGISNULL(1))
	{
		TimestampTz since = PG_GETARG_TIMESTAMPTZ(1);

		if (TIMESTAMP_NOT_FINITE(since) || since > GetCurrentTimestamp())
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("since must be a finite time in the past"),
					 errhint("Pass for example now() - interval '1 day', or NULL to continue from the watermark.")));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	gemini_become_owner(&owner);

	/* One pull per symbol at a time: a second would fetch the same pages. */
	if (!store_try_private_lock(PULL_LOCK_CLASS,
								hash_bytes((const unsigned char *) st.symbol, (int) strlen(st.symbol)),
								false))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("another pull of %s is running", st.symbol),
				 errhint("Wait for it to finish (see gemini.pull_progress); it stores the same trades.")));

	store_forget_partitions();
	st.run_id = store_next_run_id();
	st.rec.run_id = st.run_id;
	st.rec.symbol = st.symbol;
	st.rec.started_at = GetCurrentTimestamp();

	choose_start(&st, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1));

	gemini_progress_begin(st.symbol, st.run_id);
	pull_memory_begin();
	PG_TRY();
	{
		bool		more;

		/*
		 * Each page runs in an SPI connection of its own, so its memory
		 * (the body, the arrays, the texts) goes at its SPI_finish and a
		 * pull of millions of trades runs in constant memory.  (SPI calls
		 * return to their connection's memory context, so a context
		 * switched to here would not hold.)
		 */
		do
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "gemini_etl: SPI_connect failed");
			more = pull_one_page(&st);
			SPI_finish();
			CHECK_FOR_INTERRUPTS();
		} while (more);
	}
	PG_FINALLY();
	{
		http_prefetch_cancel();
		pull_memory_end();
		gemini_progress_end();
	}
	PG_END_TRY();

	finish_pull(&st);

	gemini_restore_user(&owner);
	SPI_finish();
	PG_RETURN_INT64(st.rec.trades_new);
}
