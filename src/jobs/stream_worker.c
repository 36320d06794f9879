/*
 * stream_worker.c
 *	  The background worker serving one stream: websocket in, short flush
 *	  transactions out.
 *
 * States (gemini.streams.state):
 *
 *	  connecting --open--> streaming --closed/silent/gap/oversize--> backoff --> connecting
 *	       ^                                                                       |
 *	       +-----------------------------------------------------------------------+
 *	  any --desired = 'stopped'--> stopped (the worker flushes and exits)
 *	  any --SIGTERM / pg_terminate_backend--> exits at once (die(); what was
 *	       buffered, under stream_flush_ms of rows, comes back with the
 *	       backfill of the next start)
 *
 * The worker runs on behalf of the stream's owner: it connects with no login
 * role, checks before every connect that the owner still exists and may
 * stream (a dropped role, a revoked grant: the stream fails with that error
 * and backs off), and writes the extension's tables as the extension's
 * owner, with search_path = pg_catalog, pg_temp (privilege.c).  The URLs in
 * its row are re-validated like the superuser-only settings they came from.
 *
 * After every connect the worker subscribes, clears its books (they are
 * rebuilt from the fresh snapshot), and backfills through REST the trades
 * it missed, from the watermark (the last tid stored) up to the first trade
 * the websocket delivers.  The backfill goes one page at a time between
 * websocket reads, and while a page's request waits (a slow API, retries)
 * the websocket is still read and flushed (http_set_wait_hook), so live
 * data keeps flowing.  A failing backfill is retried with backoff, on the
 * same connection: the live rows are kept.  The watermark moves with the
 * backfill until it meets the live stream, then with the live trades.  A
 * trade seen by both REST and the websocket is stored once.
 *
 * The loop waits on its latch and the socket together, with a timeout that
 * is the nearest real deadline (a flush only when rows are buffered, the
 * status write, the watchdog, the backfill's pacing), so an idle stream
 * sleeps; no transaction is open while it waits.  Rows are flushed as one
 * transaction as soon as the socket has nothing more to read, and under
 * load at least every gemini_etl.stream_flush_ms or every
 * gemini_etl.stream_flush_rows rows (see flush_due).  When more than
 * gemini_etl.stream_max_buffer bytes are waiting, it stops reading the
 * socket until a flush (TCP then pushes back on the server); a single
 * message over gemini_etl.ws_max_message_bytes is dead-lettered and the
 * stream reconnects, so memory stays bounded whatever the peer sends.
 *
 * Failures (consecutive ones, reset once a connection delivers market data:
 * a peer that drops working connections is paced by the connect budget
 * alone, one that never works backs off exponentially), the time of
 * the next attempt, and the recent connection attempts live in the stream's
 * row, so backoff and the connect budget (gemini_etl.ws_max_connects_per_minute)
 * hold across worker restarts, and stream_status shows them.
 *
 * Memory: a context per connection (subscribe frame, error texts), one per
 * loop iteration (frame parsing), and one per flush (buffered rows); each is
 * reset when its scope ends, so a worker that reconnects for weeks stays flat.
 */
#include "postgres.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "gemini_ws.h"
#include "net/ws.h"
#include "jobs/book.h"
#include "jobs/candle_agg.h"
#include "jobs/gemini_api.h"
#include "jobs/privilege.h"
#include "jobs/stream.h"
#include "net/http.h"
#include "store/store.h"
#include "store/spi_util.h"

#define MAX_SYMBOLS			64
#define IDLE_WAIT_MAX_MS	1000
#define STATUS_EVERY_MS		1000
#define CANDLES_EVERY_MS	1000
#define BACKOFF_BASE_MS		1000
#define BACKOFF_CAP_MS		60000
#define MAX_CONNECTS		600
#define EARLIEST_MS			INT64CONST(1420070400000)
#define MAX_AHEAD_MS		INT64CONST(86400000)

typedef struct SymState
{
	char		symbol[32];
	Book		book;
	StoreTrade *trades;			/* buffered, in the flush context */
	int			ntrades;
	int			cap;
	CandleAgg  *candles;		/* computed 1-minute candles (TopMemoryContext) */
	bool	   *stored;			/* flush: which buffered trades it stored */
	int64		updated;		/* flush: stored trades it marked broken */
	int64		max_tid;
	TimestampTz max_tid_time;
	/* REST backfill of this connection */
	Backfill   *backfill;		/* running; NULL when not */
	bool		caught_up;		/* the backfill reached the live stream */
	int64		first_live_tid; /* first trade the websocket delivered */
	int			backfill_failures;
	TimestampTz backfill_retry_at;
} SymState;

typedef struct DeadLetter
{
	char	   *reason;
	char	   *raw;			/* the bytes as received */
	size_t		len;
} DeadLetter;

typedef struct Stream
{
	int32		id;
	Oid			owner;			/* the stream's owner (run_as) */
	Oid			ext_owner;		/* who writes the tables */
	char	  **symbols;
	int			nsymbols;
	bool		want_trades;
	bool		want_l2;
	bool		want_candles;
	bool		v2;				/* else the new API */
	char	   *ws_url;
	SymState	sym[MAX_SYMBOLS];
	/* memory */
	MemoryContext flush_cxt;	/* buffered rows; reset by each flush */
	MemoryContext conn_cxt;		/* one connection attempt */
	MemoryContext iter_cxt;		/* one loop iteration */
	/* buffers of the current flush */
	StoreBookChange *changes;
	int			nchanges;
	int			capc;
	DeadLetter *dead;
	int			ndead;
	int			capd;
	int			buffered_rows;
	StreamStatusDelta delta;	/* counters not yet committed */
	bool		status_dirty;	/* state, error or counters to write */
	char		pending_error[512]; /* last_error to write at the next flush */
	TimestampTz last_flush;
	TimestampTz last_status;
	TimestampTz last_candles;
	TimestampTz last_trim;		/* malloc_trim, see give_back_memory */
	/* connection */
	TimestampTz connected_since;
	TimestampTz last_message_at;
	TimestampTz connects[MAX_CONNECTS]; /* recent attempts, oldest first */
	int			nconnects;
	int64		attempts;		/* connection attempts by this worker */
	int			failures;		/* consecutive; persisted */
	TimestampTz retry_at;
	bool		backoff_dirty;	/* failures/retry_at to write */
	bool		got_data;		/* this connection delivered market data */
	bool		fatal;			/* the owner may not stream: exit after recording */
	/* error attribution for the backfill's handler */
	bool		in_flush;
	bool		in_hook;
	bool		hook_failed;
	char		hook_drop[256]; /* a resync asked for while in the hook */
} Stream;

static WsClient *current = NULL;	/* open connection, closed after an error */
static Stream st;

static SymState *
sym_of(const char *symbol)
{
	for (int i = 0; i < st.nsymbols; i++)
		if (strcmp(st.sym[i].symbol, symbol) == 0)
			return &st.sym[i];
	return NULL;
}

static long
backoff_ms(int failures)
{
	double		cap = Min((double) BACKOFF_CAP_MS, BACKOFF_BASE_MS * pow(2.0, Min(failures - 1, 10)));

	/* jitter: uniform in [cap/2, cap], so streams restarted together spread out */
	return (long) (cap / 2 + pg_prng_double(&pg_global_prng_state) * cap / 2);
}

static void
set_pending_error(const char *msg)
{
	strlcpy(st.pending_error, msg, sizeof(st.pending_error));
	st.status_dirty = true;
}

/* ---------- buffering (all in flush_cxt) ---------- */

static void
add_dead(const char *reason, const char *raw, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(st.flush_cxt);
	DeadLetter *d;

	if (st.ndead == st.capd)
	{
		st.capd = st.capd ? st.capd * 2 : 16;
		st.dead = st.dead ? repalloc(st.dead, sizeof(DeadLetter) * st.capd) : palloc(sizeof(DeadLetter) * st.capd);
	}
	d = &st.dead[st.ndead++];
	d->reason = pstrdup(reason);
	/* the bytes as they came, NUL and all: the sink makes them storable */
	d->raw = palloc(len + 1);
	memcpy(d->raw, raw, len);
	d->raw[len] = '\0';
	d->len = len;
	st.buffered_rows++;
	MemoryContextSwitchTo(old);
}

static void
add_trade(SymState *s, const gw_trade *t, const char *raw, size_t len)
{
	MemoryContext old;
	int64		now_ms = gemini_timestamptz_to_ms(GetCurrentTimestamp());
	TimestampTz ts;

	if (t->timestampms < EARLIEST_MS || t->timestampms > now_ms + MAX_AHEAD_MS)
	{
		add_dead("impossible trade time", raw, len);
		return;
	}
	old = MemoryContextSwitchTo(st.flush_cxt);
	if (s->ntrades == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 256;
		s->trades = s->trades ? repalloc(s->trades, sizeof(StoreTrade) * s->cap) : palloc(sizeof(StoreTrade) * s->cap);
	}
	ts = gemini_ms_to_timestamptz(t->timestampms);
	s->trades[s->ntrades].tid = t->tid;
	s->trades[s->ntrades].traded_at = ts;
	s->trades[s->ntrades].price = pstrdup(t->price);
	s->trades[s->ntrades].amount = pstrdup(t->amount);
	s->trades[s->ntrades].side = gp_side_name(t->side);
	s->trades[s->ntrades].broken = false;
	s->ntrades++;
	st.buffered_rows++;
	if (t->tid > s->max_tid)
	{
		s->max_tid = t->tid;
		s->max_tid_time = ts;
	}
	if (st.delta.last_event_at < ts)
		st.delta.last_event_at = ts;
	MemoryContextSwitchTo(old);
}

static void
add_change(SymState *s, const gw_level *l, bool snapshot, int64 update_id, TimestampTz now)
{
	MemoryContext old = MemoryContextSwitchTo(st.flush_cxt);

	if (st.nchanges == st.capc)
	{
		st.capc = st.capc ? st.capc * 2 : 1024;
		st.changes = st.changes ? repalloc(st.changes, sizeof(StoreBookChange) * st.capc) : palloc(sizeof(StoreBookChange) * st.capc);
	}
	st.changes[st.nchanges].symbol = s->symbol;
	st.changes[st.nchanges].received_at = now;
	st.changes[st.nchanges].is_bid = l->is_bid;
	st.changes[st.nchanges].price = pstrdup(l->price);
	st.changes[st.nchanges].size = pstrdup(l->size);
	st.changes[st.nchanges].snapshot = snapshot;
	st.changes[st.nchanges].update_id = update_id;
	st.nchanges++;
	st.buffered_rows++;
	MemoryContextSwitchTo(old);
}

/* Forget everything buffered: the buffers live in flush_cxt. */
static void
reset_buffers(void)
{
	MemoryContextReset(st.flush_cxt);
	for (int i = 0; i < st.nsymbols; i++)
	{
		st.sym[i].trades = NULL;
		st.sym[i].ntrades = st.sym[i].cap = 0;
	}
	st.changes = NULL;
	st.nchanges = st.capc = 0;
	st.dead = NULL;
	st.ndead = st.capd = 0;
	st.buffered_rows = 0;
}

/* ---------- computed candles (candle_agg.c) ---------- */

static bool
candles_pending(void)
{
	for (int i = 0; i < st.nsymbols; i++)
		if (candle_agg_pending(st.sym[i].candles))
			return true;
	return false;
}

/* In the flush's transaction: the candles that are behind; whether any were. */
static bool
write_candles(void)
{
	bool		any = false;

	for (int i = 0; i < st.nsymbols; i++)
		if (candle_agg_pending(st.sym[i].candles))
		{
			candle_agg_write(st.sym[i].candles);
			any = true;
		}
	return any;
}

/* After the flush committed: its stored trades into the candles. */
static void
candles_add_committed(void)
{
	for (int i = 0; i < st.nsymbols; i++)
	{
		SymState   *s = &st.sym[i];

		for (int k = 0; s->stored && k < s->ntrades; k++)
		{
			if (s->stored[k])
				candle_agg_add(s->candles, &s->trades[k]);
			else if (s->updated > 0 && s->trades[k].broken)
				candle_agg_touch(s->candles, s->trades[k].traded_at);	/* marked broken */
		}
		s->stored = NULL;
	}
}

/*
 * A flush's buffers are freed at its end, but glibc keeps freed memory in
 * its heap, and a rare large batch (a burst, a stall) raises the heap's
 * high-water mark for good: the worker's private memory then creeps up for
 * hours without anything being in use.  Once a minute the worker hands the
 * free pages back (malloc_trim also releases free pages inside the heap),
 * so RssAnon shows what is in use.
 */
#define TRIM_EVERY_MS	60000

static void
give_back_memory(TimestampTz now)
{
#ifdef __GLIBC__
	if (TimestampDifferenceExceeds(st.last_trim, now, TRIM_EVERY_MS))
	{
		malloc_trim(0);
		st.last_trim = now;
	}
#endif
}

/* ---------- flush: one short transaction ---------- */


/*
 * Commit what is buffered, the status and the backoff state; returns whether
 * the stream is still wanted.  The counters are committed with the rows
 * they count: on an error nothing of this flush is counted, and st.delta
 * still holds what was gathered before it.
 */
static bool
flush(const char *state, const char *error)
{
	bool		wanted;
	bool		recomputed = false;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext cxt = CurrentMemoryContext;
	StreamStatusDelta d = st.delta;
	bool		streaming = strcmp(state, "streaming") == 0;

	st.in_flush = true;
	spi_xact_begin();
	pgstat_report_activity(STATE_RUNNING, "gemini_etl stream flush");

	/*
	 * Candles first, before this flush's trades are in the table (see
	 * candle_agg.c), at most once a second while streaming: they lag the
	 * trades by a second at most.
	 */
	if (!streaming || TimestampDifferenceExceeds(st.last_candles, now, CANDLES_EVERY_MS))
		recomputed = write_candles();

	for (int i = 0; i < st.nsymbols; i++)
	{
		SymState   *s = &st.sym[i];
		int64		inserted = 0,
					updated = 0;
		DateADT		lo = 0,
					hi = 0;

		s->stored = NULL;
		s->updated = 0;
		if (s->ntrades > 0)
		{
			for (int k = 0; k < s->ntrades; k++)
			{
				DateADT		day = store_day_of(s->trades[k].traded_at);

				if (k == 0 || day < lo)
					lo = day;
				if (k == 0 || day > hi)
					hi = day;
			}
			store_ensure_day_partitions("gemini.trades", lo, hi);
			s->stored = MemoryContextAlloc(st.flush_cxt, sizeof(bool) * s->ntrades);
			store_trades(s->symbol, "ws", 0, s->trades, s->ntrades, &inserted, &updated, s->stored);
			s->updated = updated;
			d.trades_written += inserted;

			/*
			 * The watermark means "everything up to here is stored": while
			 * the backfill still fills the gap before the live trades, only
			 * the backfill moves it.
			 */
			if (s->caught_up)
				store_set_watermark(s->symbol, s->max_tid, s->max_tid_time, 0);
		}
		if (s->book.top_changed && s->book.ready)
		{
			const BookLevel *b = book_best(&s->book, true);
			const BookLevel *a = book_best(&s->book, false);

			store_top_of_book(s->symbol, b ? b->price : NULL, b ? b->size : NULL,
							  a ? a->price : NULL, a ? a->size : NULL, now);
			s->book.top_changed = false;
		}
	}
	store_book_changes(st.id, st.changes, st.nchanges);
	d.book_changes += st.nchanges;
	for (int i = 0; i < st.ndead; i++)
		store_dead_letter(st.id, st.dead[i].reason, st.dead[i].raw, st.dead[i].len);
	d.dead_letters += st.ndead;

	if (error == NULL && st.pending_error[0])
		error = st.pending_error;

	/*
	 * An idle stream only reads `desired`: the row is rewritten when there is
	 * something to say, not every second.
	 */
	if (st.status_dirty || error || !streaming || st.buffered_rows > 0 ||
		d.messages || d.backfilled || d.reconnects || d.last_event_at)
	{
		d.state = state;
		d.pid = strcmp(state, "stopped") == 0 ? 0 : MyProcPid;
		d.connected_since = streaming ? st.connected_since : 0;
		d.last_message_at = st.last_message_at;
		d.error = error;
		store_stream_status(st.id, &d);
	}
	if (st.backoff_dirty)
		store_stream_backoff(st.id, st.failures, st.retry_at);
	wanted = store_stream_wanted(st.id);

	spi_xact_commit(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	st.in_flush = false;

	/* committed: now it is counted, and the buffers can go */
	memset(&st.delta, 0, sizeof(st.delta));
	st.status_dirty = false;
	st.backoff_dirty = false;
	st.pending_error[0] = '\0';
	if (recomputed)
	{
		st.last_candles = now;
		for (int i = 0; i < st.nsymbols; i++)
			candle_agg_written(st.sym[i].candles);
	}
	candles_add_committed();
	reset_buffers();

	/* the last flush: its own trades' candles too, in a transaction of their own */
	if (!streaming && candles_pending())
	{
		spi_xact_begin();
		(void) write_candles();
		spi_xact_commit(cxt);
		for (int i = 0; i < st.nsymbols; i++)
			candle_agg_written(st.sym[i].candles);
	}
	st.last_flush = st.last_status = GetCurrentTimestamp();
	give_back_memory(st.last_flush);
	return wanted;
}

static bool
candles_due(TimestampTz now)
{
	return candles_pending() && TimestampDifferenceExceeds(st.last_candles, now, CANDLES_EVERY_MS);
}

/*
 * Adaptive batching: rows are committed as soon as the socket has nothing
 * more to read, so at a low rate each event is visible a commit after it
 * arrived; under load, events keep arriving while a flush commits, the next
 * flush takes all of them, and batches grow by themselves up to
 * stream_flush_rows or stream_flush_ms.
 */
static bool
flush_due(WsClient *c, TimestampTz now)
{
	return st.buffered_rows >= gemini_stream_flush_rows ||
		(st.buffered_rows > 0 && !ws_input_pending(c)) ||
		(st.buffered_rows > 0 && TimestampDifferenceExceeds(st.last_flush, now, gemini_stream_flush_ms)) ||
		TimestampDifferenceExceeds(st.last_status, now, STATUS_EVERY_MS) ||
		candles_due(now);
}

/* ---------- frames ---------- */

static void
apply_levels(SymState *s, const gw_message *m, bool snapshot, TimestampTz now)
{
	for (size_t i = 0; i < m->n_levels; i++)
	{
		if (!book_set(&s->book, m->levels[i].is_bid, m->levels[i].price, m->levels[i].size))
			continue;			/* a price longer than any real one: keep going */
		if (st.want_l2)
			add_change(s, &m->levels[i], snapshot, m->last_update_id, now);
	}
}

/* Handle one frame; returns an error text when the connection must be dropped (resync). */
static const char *
handle_frame(const char *frame, size_t len, TimestampTz now)
{
	gw_message	m = {0};
	gp_error	err = {0};
	gp_status	rc;
	SymState   *s;
	const char *drop = NULL;

	st.delta.messages++;
	st.last_message_at = now;
	rc = st.v2 ? gw_parse_v2(frame, len, &m, &err) : gw_parse_new(frame, len, &m, &err);
	if (rc != GP_OK)
	{
		add_dead(err.message[0] ? err.message : "unparsable frame", frame, len);
		gw_message_free(&m);
		return NULL;
	}
	s = m.symbol[0] ? sym_of(m.symbol) : NULL;
	if (s != NULL && (m.kind == GW_TRADE || m.kind == GW_BOOK_SNAPSHOT || m.kind == GW_BOOK_UPDATE))
		st.got_data = true;
	switch (m.kind)
	{
		case GW_TRADE:
			if (s == NULL)
				add_dead("trade for a symbol this stream did not subscribe", frame, len);
			else
				for (size_t i = 0; i < m.n_trades; i++)
				{
					if (s->first_live_tid == 0)
						s->first_live_tid = m.trades[i].tid;
					add_trade(s, &m.trades[i], frame, len);
				}
			break;
		case GW_BOOK_SNAPSHOT:
			if (s == NULL)
				break;
			book_clear(&s->book);
			apply_levels(s, &m, true, now);
			s->book.ready = true;
			s->book.top_changed = true;
			/* the snapshot's recent trades are real trades: store them (deduplicated) */
			for (size_t i = 0; i < m.n_trades; i++)
				add_trade(s, &m.trades[i], frame, len);
			break;
		case GW_BOOK_UPDATE:
			if (s == NULL)
				break;
			if (!st.v2)
			{
				/* new API: the first depth frame after subscribing is the full book */
				if (!s->book.ready)
				{
					book_clear(&s->book);
					apply_levels(s, &m, true, now);
					s->book.ready = true;
					s->book.last_update_id = m.last_update_id;
					break;
				}
				if (m.last_update_id <= s->book.last_update_id)
					break;		/* stale: already applied */
				if (m.first_update_id > s->book.last_update_id)
				{
					drop = psprintf("order book gap on %s: update %lld follows %lld; resynchronising",
									s->symbol, (long long) m.first_update_id, s->book.last_update_id);
					break;
				}
				s->book.last_update_id = m.last_update_id;
			}
			else if (!s->book.ready)
				break;			/* updates can precede the snapshot: drop them */
			apply_levels(s, &m, false, now);
			break;
		case GW_ERROR:
			add_dead(psprintf("error from Gemini: %s", m.error), frame, len);
			break;
		case GW_CANDLES:
		case GW_TOP_OF_BOOK:
		case GW_HEARTBEAT:
		case GW_ACK:
		case GW_IGNORED:
			break;
	}
	gw_message_free(&m);
	return drop;
}

/* ---------- connection ---------- */

/* Sleep until end, waking for interrupts and reloads. */
static void
nap_until(TimestampTz end)
{
	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Min(left, 1000),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/*
 * Before a connection attempt: is the owner still allowed to stream, and
 * does the connect budget allow an attempt now?  The attempt is recorded in
 * the row before it is made, so no restart of the worker can exceed
 * gemini_etl.ws_max_connects_per_minute.  Returns an error text when the
 * owner may not stream (st.fatal is then set).
 */
static const char *
before_connect(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			limit = Min(gemini_ws_max_connects_per_minute, MAX_CONNECTS);
	char	   *why = NULL;
	TimestampTz now = GetCurrentTimestamp();
	int			keep = 0;

	/* forget attempts older than a minute */
	for (int i = 0; i < st.nconnects; i++)
		if (!TimestampDifferenceExceeds(st.connects[i], now, 60000))
			st.connects[keep++] = st.connects[i];
	st.nconnects = keep;
	if (st.nconnects >= limit)
	{
		TimestampTz until = TimestampTzPlusMilliseconds(st.connects[st.nconnects - limit], 60000);

		ereport(DEBUG1, (errmsg_internal("gemini_etl stream %d: connect budget spent; waiting", st.id)));
		nap_until(until);
	}
	if (st.nconnects == MAX_CONNECTS)
	{
		memmove(st.connects, st.connects + 1, sizeof(TimestampTz) * (MAX_CONNECTS - 1));
		st.nconnects--;
	}
	st.connects[st.nconnects++] = GetCurrentTimestamp();
	st.attempts++;

	spi_xact_begin();
	if (!gemini_role_may_stream(st.owner, &why))
	{
		why = MemoryContextStrdup(st.conn_cxt, why);
		st.fatal = true;
	}
	else
		store_stream_connects(st.id, st.connects, st.nconnects);
	spi_xact_commit(cxt);
	return why;
}

/*
 * Read what the socket has and turn complete frames into buffered rows, up
 * to gemini_etl.stream_flush_rows.  Returns a reason to drop the connection
 * (palloc'd in conn_cxt), or NULL.
 */
static const char *
pump(WsClient *c, TimestampTz now)
{
	const char *frame;
	size_t		len;
	const char *drop = NULL;

	if (ws_queued_bytes(c) < (size_t) gemini_stream_max_buffer)
		ws_service(c);
	while (drop == NULL && st.buffered_rows < gemini_stream_flush_rows &&
		   (frame = ws_next_frame(c, &len)) != NULL)
		drop = handle_frame(frame, len, now);
	if (drop)
		return MemoryContextStrdup(st.conn_cxt, drop);
	return NULL;
}

/*
 * While a backfill request waits on a slow REST server: keep reading the
 * websocket and flushing, as the main loop would.  Errors are the main
 * loop's (hook_failed tells the backfill's handler not to keep them).
 */
static void
service_during_request(void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	TimestampTz now;
	const char *drop;

	if (current == NULL || st.in_hook || st.in_flush || ws_state(current) != WS_OPEN)
		return;
	st.in_hook = true;
	PG_TRY();
	{
		now = GetCurrentTimestamp();
		drop = pump(current, now);
		if (drop && !st.hook_drop[0])
			strlcpy(st.hook_drop, drop, sizeof(st.hook_drop));
		if (flush_due(current, now) && !flush("streaming", NULL))
			strlcpy(st.hook_drop, "stopping", sizeof(st.hook_drop));
	}
	PG_CATCH();
	{
		st.hook_failed = true;
		st.in_hook = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	st.in_hook = false;
	MemoryContextSwitchTo(cxt);
}

static void
backfill_reset_all(void)
{
	for (int i = 0; i < st.nsymbols; i++)
	{
		if (st.sym[i].backfill)
			gemini_backfill_abort(st.sym[i].backfill);
		st.sym[i].backfill = NULL;
		st.sym[i].caught_up = false;
		st.sym[i].first_live_tid = 0;
		st.sym[i].backfill_failures = 0;
		st.sym[i].backfill_retry_at = 0;
	}
}

static void
backfill_abort_all(void)
{
	for (int i = 0; i < st.nsymbols; i++)
	{
		if (st.sym[i].backfill)
			gemini_backfill_abort(st.sym[i].backfill);
		st.sym[i].backfill = NULL;
	}
}

/*
 * A backfill step failed (REST gave up, a page would not store): keep the
 * connection and the live rows, and try this symbol's backfill again later,
 * from the watermark.  The error is shown in stream_status.
 */
static void
backfill_failed(SymState *s)
{
	ErrorData  *e;
	long		wait;

	MemoryContextSwitchTo(st.conn_cxt);
	e = CopyErrorData();
	FlushErrorState();
	AbortOutOfAnyTransaction();
	http_prefetch_cancel();
	if (s->backfill)
		gemini_backfill_abort(s->backfill);
	s->backfill = NULL;
	s->backfill_failures++;
	wait = backoff_ms(s->backfill_failures);
	s->backfill_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait);
	set_pending_error(psprintf("backfill of %s failed (%s%s%s); the stream goes on and retries it in %ld s",
							   s->symbol, e->message, e->detail ? ": " : "", e->detail ? e->detail : "",
							   (wait + 999) / 1000));
	ereport(LOG, (errmsg("gemini_etl stream %d: %s", st.id, st.pending_error)));
	FreeErrorData(e);
}

/*
 * One backfill page (or its start or end), of the first symbol still
 * backfilling, when the REST pacing and its retry time allow.  Returns how
 * long until one would (ms), or -1 when no backfill is left.
 */
/*
 * One page of s's backfill; false when it is done.  The minutes it stored
 * trades in are read afresh from the table for the computed candles (with
 * the next candle write, at most a second later).
 */
static bool
backfill_step_done(SymState *s)
{
	bool		more = gemini_backfill_step(s->backfill, s->first_live_tid);
	const TimestampTz *minutes;
	int			n = gemini_backfill_minutes(s->backfill, &minutes);

	for (int i = 0; i < n; i++)
		candle_agg_touch(s->candles, minutes[i]);
	return more;
}

static long
backfill_step(void)
{
	long		soonest = -1;

	for (int i = 0; i < st.nsymbols; i++)
	{
		SymState   *s = &st.sym[i];
		MemoryContext cxt = CurrentMemoryContext;
		long		wait;

		if (s->caught_up)
			continue;
		wait = s->backfill_retry_at ? TimestampDifferenceMilliseconds(GetCurrentTimestamp(), s->backfill_retry_at) : 0;
		wait = Max(wait, http_pace_wait_ms());
		if (wait > 0)
		{
			soonest = soonest < 0 ? wait : Min(soonest, wait);
			continue;
		}
		PG_TRY();
		{
			if (s->backfill == NULL)
				s->backfill = gemini_backfill_begin(s->symbol);
			else if (!backfill_step_done(s))
			{
				Backfill   *b = s->backfill;

				s->backfill = NULL;
				st.delta.backfilled += gemini_backfill_end(b);
				s->caught_up = true;
				s->backfill_failures = 0;
				s->backfill_retry_at = 0;
			}
		}
		PG_CATCH();
		{
			/* the websocket's own errors (in the wait hook) end the connection */
			if (st.hook_failed || st.in_flush)
				PG_RE_THROW();
			backfill_failed(s);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(cxt);
		return 0;
	}
	return soonest;
}

/* The frame that subscribes to the stream's symbols and channels (conn_cxt). */
static char *
subscribe_frame(void)
{
	const char **syms = palloc(sizeof(char *) * st.nsymbols);
	char	   *raw;
	char	   *out;

	for (int i = 0; i < st.nsymbols; i++)
		syms[i] = st.sym[i].symbol;
	raw = st.v2 ? gw_v2_subscribe(syms, st.nsymbols, st.want_candles)
		: gw_new_subscribe("1", syms, st.nsymbols, st.want_trades || st.want_l2, st.want_l2);
	out = raw ? pstrdup(raw) : NULL;
	free(raw);
	return out;
}

/* Milliseconds until the nearest deadline of the main loop; 0 = now. */
static long
wait_ms(WsClient *c, long silence_ms, long backfill_wait, TimestampTz now)
{
	long		t = IDLE_WAIT_MAX_MS;

	if (ws_queued_bytes(c) > 0)
		return 0;				/* frames already received wait to be handled */
	if (st.buffered_rows > 0)
		t = Min(t, gemini_stream_flush_ms - TimestampDifferenceMilliseconds(st.last_flush, now));
	t = Min(t, STATUS_EVERY_MS - TimestampDifferenceMilliseconds(st.last_status, now));
	t = Min(t, silence_ms - TimestampDifferenceMilliseconds(st.last_message_at, now));
	if (candles_pending())
		t = Min(t, CANDLES_EVERY_MS - TimestampDifferenceMilliseconds(st.last_candles, now));
	if (backfill_wait >= 0)
		t = Min(t, backfill_wait);
	return Max(t, 0);
}

/*
 * One connection: connect, subscribe, backfill, stream until it ends.
 * Returns the reason it ended (in conn_cxt), or NULL when stopping.
 */
static const char *
run_connection(bool *stop)
{
	char		errbuf[256];
	WsClient   *c;
	const char *why;
	long		silence_ms = st.v2 ? gemini_ws_heartbeat_timeout_ms : 4L * gemini_ws_heartbeat_timeout_ms;
	TimestampTz start;
	long		backfill_wait = -1;

	why = before_connect();
	if (why)
		return why;
	start = GetCurrentTimestamp();
	c = current = ws_open(st.ws_url, gemini_ca_file, (size_t) gemini_ws_max_message_bytes, errbuf, sizeof(errbuf));
	if (c == NULL)
		return pstrdup(errbuf);

	/* connecting: wait for the handshake (bounded by the HTTP timeout) */
	while (ws_state(c) == WS_CONNECTING)
	{
		int			fd = ws_fd(c);

		CHECK_FOR_INTERRUPTS();
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), gemini_http_timeout_ms))
			return psprintf("websocket handshake timed out after %d ms", gemini_http_timeout_ms);
		(void) WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH |
								 (fd >= 0 ? WL_SOCKET_READABLE : 0),
								 fd, 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		ws_service(c);
	}
	if (ws_state(c) != WS_OPEN)
		return pstrdup(ws_error(c));

	/* open: subscribe first, so nothing falls between the backfill and the stream */
	{
		char	   *sub = subscribe_frame();

		if (sub == NULL || !ws_send_text(c, sub))
			return "could not build the subscribe frame";
		ws_service(c);
	}
	for (int i = 0; i < st.nsymbols; i++)
		book_clear(&st.sym[i].book);
	st.connected_since = GetCurrentTimestamp();
	st.last_message_at = st.connected_since;
	st.got_data = false;
	if (st.attempts > 1)
		st.delta.reconnects++;
	st.status_dirty = true;
	if (!flush("streaming", NULL))
	{
		*stop = true;
		return NULL;
	}
	backfill_reset_all();
	st.hook_drop[0] = '\0';
	http_set_wait_hook(service_during_request, NULL);

	why = NULL;
	while (why == NULL)
	{
		TimestampTz now;
		int			fd = ws_fd(c);
		int			events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
		const char *prefix;
		size_t		prefix_len;
		size_t		seen;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(st.iter_cxt);
		MemoryContextSwitchTo(st.iter_cxt);

		now = GetCurrentTimestamp();
		if (ws_queued_bytes(c) < (size_t) gemini_stream_max_buffer && fd >= 0)
			events |= WL_SOCKET_READABLE;
		(void) WaitLatchOrSocket(MyLatch, events, fd, wait_ms(c, silence_ms, backfill_wait, now),
								 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
		why = pump(c, now);
		if (why == NULL && st.hook_drop[0])
			why = pstrdup(st.hook_drop);
		if (why == NULL && ws_oversize(c, &prefix, &prefix_len, &seen))
		{
			why = psprintf("a websocket message exceeded gemini_etl.ws_max_message_bytes (%d bytes; %zu received); dead-lettered its start, reconnecting",
						   gemini_ws_max_message_bytes, seen);
			add_dead(why, prefix, prefix_len);
		}
		if (why == NULL && ws_state(c) == WS_CLOSED && ws_queued_bytes(c) == 0)
			why = pstrdup(ws_error(c));
		if (why == NULL && TimestampDifferenceExceeds(st.last_message_at, now, silence_ms))
			why = psprintf("no message for %ld ms (watchdog)", silence_ms);
		if (why)
		{
			why = MemoryContextStrdup(st.conn_cxt, why);
			break;
		}

		backfill_wait = backfill_step();
		if (st.hook_drop[0])
		{
			why = MemoryContextStrdup(st.conn_cxt, st.hook_drop);
			break;
		}

		/* a connection that delivers market data ends the failure streak */
		if (st.failures > 0 && st.got_data)
		{
			st.failures = 0;
			st.retry_at = 0;
			st.backoff_dirty = true;
		}

		now = GetCurrentTimestamp();
		if (flush_due(current, now) && !flush("streaming", NULL))
		{
			*stop = true;
			break;
		}
	}
	MemoryContextSwitchTo(st.conn_cxt);
	http_set_wait_hook(NULL, NULL);
	backfill_abort_all();
	if (strcmp(why ? why : "", "stopping") == 0)
	{
		*stop = true;
		why = NULL;
	}
	return *stop ? NULL : why;
}

/*
 * Read the stream's row, check its URLs as the settings they came from
 * would be checked, and find who owns what.  Returns false when the stream
 * is gone or stopped.
 */
static bool
load_stream(int32 stream_id)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		v[1] = {Int32GetDatum(stream_id)};
	bool		isnull;
	bool		found = false;
	bool		wanted = false;

	/* The row may not be committed yet when gemini_stream_start() launched us. */
	for (int tries = 0; tries < 300 && !found; tries++)
	{
		spi_xact_begin();
		if (SPI_execute_with_args("SELECT symbols, channels, ws_url, protocol, api_url, desired = 'running',"
								  "       run_as::pg_catalog.oid, failures, retry_at, recent_connects"
								  "  FROM gemini.streams WHERE stream_id = $1", 1, argtypes, v, NULL, true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			ArrayType  *syms = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 1, &isnull));
			ArrayType  *chans = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull));
			ArrayType  *conns = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 10, &isnull));
			Datum	   *elems;
			int			n;
			Datum		retry;

			found = true;
			deconstruct_array(syms, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
			st.nsymbols = Min(n, MAX_SYMBOLS);
			for (int i = 0; i < st.nsymbols; i++)
			{
				strlcpy(st.sym[i].symbol, TextDatumGetCString(elems[i]), sizeof(st.sym[i].symbol));
				st.sym[i].candles = candle_agg_create(TopMemoryContext, st.sym[i].symbol);
			}
			deconstruct_array(chans, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
			for (int i = 0; i < n; i++)
			{
				char	   *ch = TextDatumGetCString(elems[i]);

				st.want_trades |= strcmp(ch, "trades") == 0;
				st.want_l2 |= strcmp(ch, "l2") == 0;
				st.want_candles |= strcmp(ch, "candles_1m") == 0;
			}
			deconstruct_array(conns, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, NULL, &n);
			st.nconnects = 0;
			for (int i = Max(0, n - MAX_CONNECTS); i < n; i++)
				st.connects[st.nconnects++] = DatumGetTimestampTz(elems[i]);

			/*
			 * The URLs were checked when a superuser set them; check them
			 * again, as the same settings, in case the row says otherwise.
			 */
			st.ws_url = pstrdup(TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull)));
			SetConfigOption("gemini_etl.ws_url", st.ws_url, PGC_SUSET, PGC_S_OVERRIDE);
			SetConfigOption("gemini_etl.api_url", TextDatumGetCString(SPI_getbinval(tup, desc, 5, &isnull)),
							PGC_SUSET, PGC_S_OVERRIDE);
			st.v2 = strcmp(TextDatumGetCString(SPI_getbinval(tup, desc, 4, &isnull)), "v2") == 0;
			wanted = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
			st.owner = DatumGetObjectId(SPI_getbinval(tup, desc, 7, &isnull));
			st.failures = DatumGetInt32(SPI_getbinval(tup, desc, 8, &isnull));
			retry = SPI_getbinval(tup, desc, 9, &isnull);
			st.retry_at = isnull ? 0 : DatumGetTimestampTz(retry);
			st.ext_owner = gemini_extension_owner();
			MemoryContextSwitchTo(old);
		}
		spi_xact_commit(TopMemoryContext);
		if (!found)
			nap_until(TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 100));
	}
	return found && wanted;
}

/* After a failed connection: count it, back off (recorded), say why. */
static bool
record_failure(const char *why)
{
	long		wait;

	st.failures++;
	wait = backoff_ms(st.failures);
	st.retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait);
	st.backoff_dirty = true;
	ereport(LOG, (errmsg("gemini_etl stream %d: %s; %s in %ld ms", st.id, why,
						 st.fatal ? "the supervisor checks again" : "reconnecting", wait)));
	return flush("backoff", why);
}

void
gemini_stream_worker_main(Datum arg)
{
	StreamWorkerArgs args;
	bool		stop = false;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	/*
	 * No login role: the stream's owner may be NOLOGIN (gemini_etl_operator
	 * after SET ROLE) or gone; its rights are checked before every connect.
	 */
	BackgroundWorkerInitializeConnectionByOid(args.dbid, InvalidOid, 0);
	pgstat_report_appname("gemini_etl stream");
	gemini_pin_search_path();

	memset(&st, 0, sizeof(st));
	st.id = args.stream_id;
	st.flush_cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl stream flush", ALLOCSET_DEFAULT_SIZES);
	st.conn_cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl stream connection", ALLOCSET_DEFAULT_SIZES);
	st.iter_cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl stream loop", ALLOCSET_DEFAULT_SIZES);

	StartTransactionCommand();
	if (!store_try_private_lock(STREAM_LOCK_CLASS, (uint32) st.id, true))
		proc_exit(0);			/* another worker serves it */
	CommitTransactionCommand();
	if (!load_stream(st.id))
		proc_exit(0);			/* stopped, or the start was rolled back */

	/* from here on, every transaction writes as the extension's owner */
	SetUserIdAndSecContext(st.ext_owner, SECURITY_LOCAL_USERID_CHANGE);

	while (!stop)
	{
		const char *why = NULL;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(st.conn_cxt);
		MemoryContextSwitchTo(st.conn_cxt);

		/*
		 * An ERROR (a flush that failed, say) must not end the stream:
		 * record it, drop the connection and what was buffered (the
		 * backfill after the next connect recovers the trades), and go
		 * round again.
		 */
		PG_TRY();
		{
			why = run_connection(&stop);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(st.conn_cxt);
			e = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			http_set_wait_hook(NULL, NULL);
			http_prefetch_cancel();
			backfill_abort_all();
			reset_buffers();
			st.in_flush = st.in_hook = st.hook_failed = false;
			why = psprintf("%s%s%s", e->message, e->detail ? ": " : "", e->detail ? e->detail : "");
			FreeErrorData(e);
		}
		PG_END_TRY();
		if (current)
		{
			ws_close(current);
			current = NULL;
		}
		if (stop || why == NULL)
			break;

		/* the connection ended (or never began): record why, back off */
		PG_TRY();
		{
			if (!record_failure(why))
				stop = true;
		}
		PG_CATCH();
		{
			/* the database refuses even that: log it, keep backing off */
			MemoryContextSwitchTo(st.conn_cxt);
			EmitErrorReport();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			st.in_flush = false;
			reset_buffers();
		}
		PG_END_TRY();
		if (stop || st.fatal)
			break;
		nap_until(st.retry_at);
	}

	if (!st.fatal)
		(void) flush("stopped", NULL);
	proc_exit(0);
}
