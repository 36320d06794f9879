/*
 * store.h
 *	  Storage: the gemini.* tables, written through SPI.
 *
 * Storage knows nothing of Gemini's wire format: it takes trades, pages and
 * candles as plain values.  Every function here expects the caller to be
 * connected to SPI inside a transaction; none of them waits on the network.
 */
#ifndef GEMINI_STORE_H
#define GEMINI_STORE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lockdefs.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* One trade, ready to store.  Strings are exact decimal text. */
typedef struct StoreTrade
{
	int64		tid;
	TimestampTz traded_at;
	const char *price;
	const char *amount;
	const char *side;			/* buy, sell, auction, block */
	bool		broken;
} StoreTrade;

/* --- partitions.c --- */
/* Make sure daily partitions of parent ("gemini.trades") exist for [first, last]. */
extern void store_ensure_day_partitions(const char *parent, DateADT first, DateADT last);
/* Several tables' days at once (at most 3), with one worker start. */
typedef struct StorePartitionNeed
{
	const char *parent;
	DateADT		first;			/* days needed now */
	DateADT		last;
	DateADT		ahead;			/* and up to this one, if a worker starts anyway */
} StorePartitionNeed;
extern void store_ensure_partitions(const StorePartitionNeed *needs, int n);
extern void store_forget_partitions(void);
extern DateADT store_day_of(TimestampTz ts);

/* --- locks.c --- */
/* pg_locks.objsubid of gemini_etl's locks: SQL advisory locks use 1 and 2. */
#define GEMINI_LOCK_SPACE	0x4745
extern bool store_try_private_lock(uint32 lock_class, uint32 key, bool session);
extern void store_release_private_lock(uint32 lock_class, uint32 key, bool session);
/* Wait for the lock (a query cancel ends the wait). */
extern void store_private_lock(uint32 lock_class, uint32 key, bool session);
/*
 * A transaction lock in a mode (ShareLock, ExclusiveLock...); without wait,
 * false when it is not free.  It may be released before the transaction ends.
 */
extern bool store_private_lock_mode(uint32 lock_class, uint32 key, LOCKMODE mode, bool wait);
extern void store_private_unlock_mode(uint32 lock_class, uint32 key, LOCKMODE mode);

/* --- exports_sink.c: gemini.exports (as the extension's owner) --- */
typedef struct StoreExport
{
	const char *bucket;
	const char *key;
	const char *source;
	const char *format;
	bool		has_interval;	/* false: an ad-hoc object (aws_s3) */
	TimestampTz interval_start;
	TimestampTz interval_end;
	int			part_no;
	int64		rows;
	int64		bytes;
	const char *etag;
	const char *sha256;
	int64		run_id;			/* 0: none */
	Oid			exported_by;
} StoreExport;
/* Forget the records of every object under key_prefix in bucket. */
extern void store_exports_forget(const char *bucket, const char *key_prefix);
extern void store_export(const StoreExport *e);

/* --- trades_sink.c --- */
/*
 * Insert trades (any order); a stored trade that comes back broken is
 * marked broken.  Partitions must exist.  Adds to *inserted and *updated;
 * stored (n flags, or NULL) says which of the trades this call inserted.
 */
extern void store_trades(const char *symbol, const char *source, int64 run_id,
						 const StoreTrade *trades, int n, int64 *inserted, int64 *updated,
						 bool *stored);

/* --- raw_pages.c --- */
extern void store_raw_page(int64 run_id, int page_no, TimestampTz fetched_at, const char *endpoint,
						   const char *symbol, const char *url, int http_status, int attempts,
						   const char *body, size_t body_len);

/* --- watermark.c --- */
/* last_traded_at is 0 when unknown */
extern bool store_get_watermark(const char *symbol, int64 *last_tid, TimestampTz *last_traded_at);
extern void store_set_watermark(const char *symbol, int64 last_tid, TimestampTz last_traded_at, int64 run_id);

/* --- quarantine.c --- */
extern bool store_quarantine(const char *source, const char *symbol, const int64 *tid,
							 const char *reason, const char *raw, int64 run_id);

/* --- pulls.c --- */
typedef struct PullRecord
{
	int64		run_id;
	const char *symbol;
	TimestampTz started_at;
	const char *start_mode;		/* "since_tid" or "timestamp" */
	int64		start_tid;		/* valid for since_tid */
	TimestampTz start_time;		/* valid for timestamp */
	int64		last_tid;		/* 0 when no trade was seen */
	int			pages;
	int			requests;
	int64		trades_seen;
	int64		trades_new;
	int64		trades_updated;
	int64		quarantined;
} PullRecord;

extern void store_pull_record(const PullRecord *rec);

/* --- run ids --- */
extern int64 store_next_run_id(void);

/* --- reference_sink.c --- */
typedef struct StoreCandle
{
	TimestampTz bucket_start;
	const char *open;
	const char *high;
	const char *low;
	const char *close;
	const char *volume;
} StoreCandle;

/* Upsert candles; returns how many were inserted or changed. */
extern int64 store_candles(const char *symbol, const char *timeframe, const char *source,
						   const StoreCandle *candles, int n);

typedef struct StoreSymbol
{
	const char *symbol;			/* upper case */
	const char *base_currency;
	const char *quote_currency;
	const char *tick_size;
	const char *quote_increment;
	const char *min_order_size;
	const char *status;
	const char *product_type;
	const char *contract_type;
	const char *details_json;
} StoreSymbol;

extern void store_symbol(const StoreSymbol *s);
/* Marks symbols absent from the given (upper-case) list as no longer listed. */
extern void store_symbols_delist_others(const char **symbols, int n);

/* --- stream_sink.c --- */
typedef struct StoreBookChange
{
	const char *symbol;
	TimestampTz received_at;
	bool		is_bid;
	const char *price;
	const char *size;
	bool		snapshot;
	int64		update_id;		/* 0 = none */
} StoreBookChange;

/* Counters a flush adds to gemini.streams, and the state it sets. */
typedef struct StreamStatusDelta
{
	const char *state;
	int			pid;			/* 0 = NULL */
	TimestampTz connected_since;	/* 0 = NULL */
	TimestampTz last_message_at;	/* 0 = unchanged */
	TimestampTz last_event_at;	/* 0 = unchanged */
	int64		messages;
	int64		trades_written;
	int64		book_changes;
	int64		dead_letters;
	int64		backfilled;
	int64		reconnects;
	const char *error;			/* NULL = unchanged */
} StreamStatusDelta;

extern void store_book_changes(int stream_id, const StoreBookChange *c, int n);
extern void store_top_of_book(const char *symbol, const char *bid, const char *bid_size,
							  const char *ask, const char *ask_size, TimestampTz at);
extern void store_dead_letter(int stream_id, const char *reason, const char *raw, size_t raw_len);
extern void store_computed_candles(const char *symbol, const TimestampTz *minutes, int n);

/*
 * A 1-minute candle with the trades that open and close it, so that later
 * trades can be merged into it (jobs/candle_agg.c).  Numerics are Datums.
 */
typedef struct StoreMinuteCandle
{
	TimestampTz minute;
	TimestampTz open_at;
	int64		open_tid;
	Datum		open;
	TimestampTz close_at;
	int64		close_tid;
	Datum		close;
	Datum		high;
	Datum		low;
	Datum		volume;
} StoreMinuteCandle;
/*
 * The candles of these minutes computed from the unbroken trades stored
 * (minutes without any are left out); values are copied into `into`.
 * Returns how many, in *out.
 */
extern int	store_candles_from_trades(const char *symbol, const TimestampTz *minutes, int n,
									  MemoryContext into, StoreMinuteCandle **out);
/* Upsert computed 1-minute candles (rows that did not change are left alone). */
extern void store_candles_write(const char *symbol, const StoreMinuteCandle *c, int n);
extern void store_stream_status(int stream_id, const StreamStatusDelta *d);
extern bool store_stream_wanted(int stream_id);
extern void store_stream_backoff(int stream_id, int failures, TimestampTz retry_at);
extern void store_stream_connects(int stream_id, const TimestampTz *at, int n);

#endif
