/*
 * stream_worker.c
 *	  The background worker serving one stream: websocket in, short flush
 *	  transactions out.
 *
 * States (gemini.streams.state):
 *
 *	  connecting --open--> streaming --closed/silent/gap--> backoff --> connecting
 *	       ^                                                              |
 *	       +--------------------------------------------------------------+
 *	  any --SIGTERM, or desired = 'stopped'--> stopped (the worker exits)
 *
 * After every connect the worker subscribes, clears its books (they are
 * rebuilt from the fresh snapshot), and backfills through REST the trades
 * it missed, from the watermark (the last tid stored) up to the first trade
 * the websocket delivers.  The backfill goes one page at a time between
 * websocket reads, paced like any REST call, so live data keeps flowing; the
 * watermark moves with the backfill until it meets the live stream, then
 * with the live trades.  A trade seen by both REST and the websocket is
 * stored once (symbol + tid is the key).
 *
 * The loop waits on its latch and the socket together, with a timeout that
 * is the next flush or watchdog deadline; no transaction is open while it
 * waits.  Rows are buffered and flushed as one transaction every
 * gemini_etl.stream_flush_ms or every gemini_etl.stream_flush_rows rows.
 * When more than gemini_etl.stream_max_buffer bytes are waiting, it stops
 * reading the socket until a flush (TCP then pushes back on the server).
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
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
#include "jobs/gemini_api.h"
#include "jobs/stream.h"
#include "net/http.h"
#include "store/store.h"

#define MAX_SYMBOLS			64
#define WAIT_SLICE_MS		50
#define STATUS_EVERY_MS		1000
#define CANDLES_EVERY_MS	1000
#define BACKOFF_BASE_MS		1000
#define BACKOFF_CAP_MS		60000
#define STABLE_AFTER_MS		30000
#define EARLIEST_MS			INT64CONST(1420070400000)
#define MAX_AHEAD_MS		INT64CONST(86400000)

typedef struct SymState
{
	char		symbol[32];
	Book		book;
	StoreTrade *trades;			/* buffered, in the flush context */
	int			ntrades;
	int			cap;
	TimestampTz *minutes;		/* minutes touched since the last candle
								 * recompute (TopMemoryContext: kept across
								 * flushes) */
	int			nminutes;
	int			capm;
	int64		max_tid;
	TimestampTz max_tid_time;
	/* REST backfill of this connection */
	Backfill   *backfill;		/* running; NULL when done */
	bool		caught_up;		/* the backfill reached the live stream */
	int64		first_live_tid; /* first trade the websocket delivered */
} SymState;

typedef struct DeadLetter
{
	char	   *reason;
	char	   *raw;
	size_t		len;
} DeadLetter;

typedef struct Stream
{
	int32		id;
	char	  **symbols;
	int			nsymbols;
	bool		want_trades;
	bool		want_l2;
	bool		want_candles;
	bool		v2;				/* else the new API */
	char	   *ws_url;
	SymState	sym[MAX_SYMBOLS];
	/* buffers of the current flush */
	MemoryContext flush_cxt;
	StoreBookChange *changes;
	int			nchanges;
	int			capc;
	DeadLetter *dead;
	int			ndead;
	int			capd;
	int			buffered_rows;
	StreamStatusDelta delta;
	TimestampTz last_flush;
	TimestampTz last_status;
	TimestampTz last_candles;
	bool		status_dirty;
	/* connection */
	TimestampTz connected_since;
	TimestampTz last_message_at;
	TimestampTz connects[600];
	int			nconnects;
	int			failures;
} Stream;

static WsClient *current = NULL;	/* open connection, closed after an error */
static volatile sig_atomic_t got_sigterm = false;
static volatile sig_atomic_t in_backfill = false;
static Stream st;

static void
handle_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	/* A backfill may sit in a REST request: let CHECK_FOR_INTERRUPTS end it. */
	if (in_backfill)
	{
		ProcDiePending = true;
		InterruptPending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

static SymState *
sym_of(const char *symbol)
{
	for (int i = 0; i < st.nsymbols; i++)
		if (strcmp(st.sym[i].symbol, symbol) == 0)
			return &st.sym[i];
	return NULL;
}

/* ---------- buffering (all in flush_cxt) ---------- */

static void
add_dead(const char *reason, const char *raw, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(st.flush_cxt);

	if (st.ndead == st.capd)
	{
		st.capd = st.capd ? st.capd * 2 : 16;
		st.dead = st.dead ? repalloc(st.dead, sizeof(DeadLetter) * st.capd) : palloc(sizeof(DeadLetter) * st.capd);
	}
	st.dead[st.ndead].reason = pstrdup(reason);
	st.dead[st.ndead].raw = pnstrdup(raw, len);
	st.dead[st.ndead].len = strlen(st.dead[st.ndead].raw);
	st.ndead++;
	st.buffered_rows++;
	MemoryContextSwitchTo(old);
}

static void
add_trade(SymState *s, const gw_trade *t, const char *raw, size_t len)
{
	MemoryContext old;
	int64		now_ms = gemini_timestamptz_to_ms(GetCurrentTimestamp());
	TimestampTz ts;
	TimestampTz minute;
	bool		seen = false;

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
	minute = ts - (ts % USECS_PER_MINUTE) - (ts % USECS_PER_MINUTE < 0 ? USECS_PER_MINUTE : 0);
	for (int i = s->nminutes - 1; i >= 0 && !seen; i--)
		seen = s->minutes[i] == minute;
	if (!seen)
	{
		if (s->nminutes == s->capm)
		{
			s->capm = s->capm ? s->capm * 2 : 16;
			s->minutes = s->minutes ? repalloc(s->minutes, sizeof(TimestampTz) * s->capm)
				: MemoryContextAlloc(TopMemoryContext, sizeof(TimestampTz) * s->capm);
		}
		s->minutes[s->nminutes++] = minute;
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

/* ---------- flush: one short transaction ---------- */

static void
write_status(const char *state, const char *error)
{
	st.delta.state = state;
	st.delta.pid = strcmp(state, "stopped") == 0 ? 0 : MyProcPid;
	st.delta.connected_since = strcmp(state, "streaming") == 0 ? st.connected_since : 0;
	st.delta.error = error;
	store_stream_status(st.id, &st.delta);
	memset(&st.delta, 0, sizeof(st.delta));
}

/* Returns whether the stream is still wanted. */
static bool
flush(const char *state, const char *error)
{
	bool		wanted;
	bool		recomputed = false;
	TimestampTz now = GetCurrentTimestamp();

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "gemini_etl stream flush");

	for (int i = 0; i < st.nsymbols; i++)
	{
		SymState   *s = &st.sym[i];
		int64		inserted = 0,
					updated = 0;
		DateADT		lo = 0,
					hi = 0;

		if (s->ntrades > 0)
		{
			for (int k = 0; k < s->ntrades; k++)
			{
				DateADT		d = store_day_of(s->trades[k].traded_at);

				if (k == 0 || d < lo)
					lo = d;
				if (k == 0 || d > hi)
					hi = d;
			}
			store_ensure_day_partitions("gemini.trades", lo, hi);
			store_trades(s->symbol, "ws", 0, s->trades, s->ntrades, &inserted, &updated);
			st.delta.trades_written += inserted;
			/*
			 * The watermark means "everything up to here is stored": while
			 * the backfill still fills the gap before the live trades, only
			 * the backfill moves it.
			 */
			if (s->caught_up)
				store_set_watermark(s->symbol, s->max_tid, s->max_tid_time, 0);
		}

		/*
		 * Candles are recomputed from gemini.trades for the touched minutes
		 * at most once a second (and at the last flush): a burst inside one
		 * minute would otherwise re-aggregate that whole minute at every
		 * flush.  They lag the trades by a second at most.
		 */
		if (s->nminutes > 0 &&
			(strcmp(state, "streaming") != 0 ||
			 TimestampDifferenceExceeds(st.last_candles, now, CANDLES_EVERY_MS)))
		{
			store_computed_candles(s->symbol, s->minutes, s->nminutes);
			s->nminutes = 0;
			recomputed = true;
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
	if (recomputed)
		st.last_candles = now;
	store_book_changes(st.id, st.changes, st.nchanges);
	st.delta.book_changes += st.nchanges;
	for (int i = 0; i < st.ndead; i++)
		store_dead_letter(st.id, st.dead[i].reason, st.dead[i].raw, st.dead[i].len);
	st.delta.dead_letters += st.ndead;
	st.delta.last_message_at = st.last_message_at;
	write_status(state, error);
	wanted = store_stream_wanted(st.id);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	reset_buffers();
	st.last_flush = st.last_status = GetCurrentTimestamp();
	st.status_dirty = false;
	return wanted;
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

/* Sleep, interruptible by SIGTERM (and SIGHUP reloads). */
static void
nap(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	while (!got_sigterm)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

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

/* Never more connection attempts per minute than gemini_etl.ws_max_connects_per_minute. */
static void
respect_connect_limit(void)
{
	int			limit = Min(gemini_ws_max_connects_per_minute, (int) lengthof(st.connects));
	TimestampTz now = GetCurrentTimestamp();

	if (st.nconnects >= limit)
	{
		TimestampTz oldest = st.connects[(st.nconnects - limit) % lengthof(st.connects)];
		long		wait = TimestampDifferenceMilliseconds(now, TimestampTzPlusMilliseconds(oldest, 60000));

		if (wait > 0)
			nap(wait);
	}
	st.connects[st.nconnects % lengthof(st.connects)] = GetCurrentTimestamp();
	st.nconnects++;
}

/* Start the REST backfill of every symbol (after the subscription). */
static void
backfill_begin_all(void)
{
	for (int i = 0; i < st.nsymbols; i++)
	{
		st.sym[i].backfill = gemini_backfill_begin(st.sym[i].symbol);
		st.sym[i].caught_up = false;
		st.sym[i].first_live_tid = 0;
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
 * One backfill page, of the first symbol still backfilling, when the REST
 * pacing allows a request now.  Returns how long until it would (ms), or -1
 * when no backfill is left.
 */
static long
backfill_step(void)
{
	for (int i = 0; i < st.nsymbols; i++)
	{
		SymState   *s = &st.sym[i];
		long		wait;

		if (s->backfill == NULL)
			continue;
		wait = http_pace_wait_ms();
		if (wait > 0)
			return wait;
		in_backfill = true;
		if (!gemini_backfill_step(s->backfill, s->first_live_tid))
		{
			st.delta.backfilled += gemini_backfill_end(s->backfill);
			s->backfill = NULL;
			s->caught_up = true;
		}
		in_backfill = false;
		return 0;
	}
	return -1;
}

/*
 * One connection: connect, subscribe, backfill, stream until it ends.
 * Returns the reason it ended (NULL when stopping).
 */
static const char *
run_connection(bool *stop)
{
	char		errbuf[256];
	WsClient   *c;
	const char *why = NULL;
	long		silence_ms = st.v2 ? gemini_ws_heartbeat_timeout_ms : 4L * gemini_ws_heartbeat_timeout_ms;
	TimestampTz start = GetCurrentTimestamp();

	respect_connect_limit();
	if (got_sigterm)
		return NULL;
	c = current = ws_open(st.ws_url, gemini_ca_file, errbuf, sizeof(errbuf));
	if (c == NULL)
		return pstrdup(errbuf);

	/* connecting: wait for the handshake (bounded by the HTTP timeout) */
	while (ws_state(c) == WS_CONNECTING && !got_sigterm)
	{
		int			fd = ws_fd(c);

		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), gemini_http_timeout_ms))
		{
			ws_close(c);
			current = NULL;
			return psprintf("websocket handshake timed out after %d ms", gemini_http_timeout_ms);
		}
		(void) WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH |
								 (fd >= 0 ? WL_SOCKET_READABLE : 0),
								 fd, 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		ws_service(c);
	}
	if (ws_state(c) != WS_OPEN)
	{
		why = pstrdup(got_sigterm ? "stopping" : ws_error(c));
		ws_close(c);
		current = NULL;
		return got_sigterm ? NULL : why;
	}

	/* open: subscribe first, so nothing falls between the backfill and the stream */
	{
		char	   *sub = subscribe_frame();

		if (sub == NULL || !ws_send_text(c, sub))
		{
			ws_close(c);
			current = NULL;
			return "could not build the subscribe frame";
		}
		ws_service(c);
	}
	for (int i = 0; i < st.nsymbols; i++)
		book_clear(&st.sym[i].book);
	st.connected_since = GetCurrentTimestamp();
	st.last_message_at = st.connected_since;
	if (st.nconnects > 1)
		st.delta.reconnects++;
	if (!flush("streaming", NULL))
	{
		*stop = true;
		ws_close(c);
		current = NULL;
		return NULL;
	}
	backfill_begin_all();

	while (!got_sigterm && why == NULL)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		to_flush = gemini_stream_flush_ms - TimestampDifferenceMilliseconds(st.last_flush, now);
		long		to_backfill = backfill_step();
		bool		full = ws_queued_bytes(c) >= (size_t) gemini_stream_max_buffer;
		int			fd = ws_fd(c);
		int			events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
		const char *frame;
		size_t		len;
		int			taken = 0;

		if (!full && fd >= 0)
			events |= WL_SOCKET_READABLE;
		if (to_backfill >= 0)
			to_flush = Min(to_flush, to_backfill);
		(void) WaitLatchOrSocket(MyLatch, events, fd, Max(0, Min(to_flush, WAIT_SLICE_MS)), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (!full)
			ws_service(c);
		now = GetCurrentTimestamp();
		while (why == NULL && st.buffered_rows < gemini_stream_flush_rows &&
			   (frame = ws_next_frame(c, &len)) != NULL)
		{
			why = handle_frame(frame, len, now);
			taken++;
		}

		if (why == NULL && ws_state(c) == WS_CLOSED && ws_next_frame(c, &len) == NULL)
			why = pstrdup(ws_error(c));
		if (why == NULL && TimestampDifferenceExceeds(st.last_message_at, now, silence_ms))
			why = psprintf("no message for %ld ms (watchdog)", silence_ms);

		if (st.buffered_rows >= gemini_stream_flush_rows ||
			(st.buffered_rows > 0 && TimestampDifferenceExceeds(st.last_flush, now, gemini_stream_flush_ms)) ||
			TimestampDifferenceExceeds(st.last_status, now, STATUS_EVERY_MS))
		{
			if (!flush("streaming", NULL))
				*stop = true;
			if (*stop)
				break;
		}
		(void) taken;
	}
	backfill_abort_all();
	ws_close(c);
	current = NULL;
	if (TimestampDifferenceExceeds(st.connected_since, GetCurrentTimestamp(), STABLE_AFTER_MS))
		st.failures = 0;
	return got_sigterm || *stop ? NULL : why;
}

static void
load_stream(int32 stream_id)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		v[1] = {Int32GetDatum(stream_id)};
	bool		isnull;
	bool		found = false;

	/* The row may not be committed yet when gemini_stream_start() launched us. */
	for (int tries = 0; tries < 300 && !found && !got_sigterm; tries++)
	{
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_execute_with_args("SELECT symbols, channels, ws_url, protocol, api_url, desired = 'running'"
								  "  FROM gemini.streams WHERE stream_id = $1", 1, argtypes, v, NULL, true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			ArrayType  *syms = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 1, &isnull));
			ArrayType  *chans = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull));
			Datum	   *elems;
			int			n;

			found = true;
			deconstruct_array(syms, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
			st.nsymbols = Min(n, MAX_SYMBOLS);
			for (int i = 0; i < st.nsymbols; i++)
				strlcpy(st.sym[i].symbol, TextDatumGetCString(elems[i]), sizeof(st.sym[i].symbol));
			deconstruct_array(chans, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
			for (int i = 0; i < n; i++)
			{
				char	   *ch = TextDatumGetCString(elems[i]);

				st.want_trades |= strcmp(ch, "trades") == 0;
				st.want_l2 |= strcmp(ch, "l2") == 0;
				st.want_candles |= strcmp(ch, "candles_1m") == 0;
			}
			st.ws_url = pstrdup(TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull)));
			st.v2 = strcmp(TextDatumGetCString(SPI_getbinval(tup, desc, 4, &isnull)), "v2") == 0;
			SetConfigOption("gemini_etl.api_url", TextDatumGetCString(SPI_getbinval(tup, desc, 5, &isnull)),
							PGC_SUSET, PGC_S_OVERRIDE);
			if (!DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull)))
				got_sigterm = true;
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (!found)
			nap(100);
	}
	if (!found)
		got_sigterm = true;		/* the start was rolled back */
}

/* Only one worker per stream: a session-level advisory lock says who. */
static bool
claim_stream(int32 stream_id)
{
	bool		ok;

	StartTransactionCommand();
	ok = DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4,
										  Int32GetDatum(STREAM_LOCK_CLASS), Int32GetDatum(stream_id)));
	CommitTransactionCommand();
	return ok;
}

void
gemini_stream_worker_main(Datum arg)
{
	StreamWorkerArgs args;
	bool		stop = false;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, handle_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dbid, args.userid, 0);
	pgstat_report_appname("gemini_etl stream");

	memset(&st, 0, sizeof(st));
	st.id = args.stream_id;
	st.flush_cxt = AllocSetContextCreate(TopMemoryContext, "gemini_etl stream flush", ALLOCSET_DEFAULT_SIZES);
	if (!claim_stream(st.id))
		proc_exit(0);			/* another worker serves it */
	load_stream(st.id);

	while (!got_sigterm && !stop)
	{
		const char *why = NULL;
		MemoryContext loop_cxt = CurrentMemoryContext;

		/*
		 * An ERROR (a flush that failed, a REST backfill that gave up) must
		 * not end the stream: record it, drop the connection and what was
		 * buffered (the backfill after the next connect recovers the
		 * trades), and go round again.
		 */
		PG_TRY();
		{
			why = run_connection(&stop);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(loop_cxt);
			e = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			in_backfill = false;
			backfill_abort_all();
			if (current)
			{
				ws_close(current);
				current = NULL;
			}
			reset_buffers();
			why = psprintf("%s%s%s", e->message, e->detail ? ": " : "", e->detail ? e->detail : "");
			ereport(LOG, (errmsg("gemini_etl stream %d: %s", st.id, why)));
		}
		PG_END_TRY();
		if (got_sigterm || stop || why == NULL)
			break;
		/* the connection ended: record why, flush what was buffered, back off */
		st.failures++;
		ereport(LOG, (errmsg("gemini_etl stream %d: %s; reconnecting", st.id, why)));
		if (!flush("backoff", why))
			break;
		{
			double		cap = Min((double) BACKOFF_CAP_MS, BACKOFF_BASE_MS * pow(2.0, Min(st.failures - 1, 10)));

			nap((long) (cap / 2 + pg_prng_double(&pg_global_prng_state) * cap / 2));
		}
	}

	(void) flush("stopped", NULL);
	proc_exit(0);
}
