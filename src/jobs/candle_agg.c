/*
 * candle_agg.c
 *	  A stream's computed 1-minute candles, kept up to date incrementally.
 *
 * Recomputing a minute's candle from gemini.trades costs a pass over the
 * minute's trades (and finding them, a pass over the symbol's day): fine
 * once, far too much once a second while tens of thousands of trades a
 * second land in the same minute.  So the stream computes a minute once
 * from the table (the first time it touches the minute, or after anything
 * it cannot follow: trades its backfill stored, a trade that came back
 * broken),
 * keeps the candle with the (traded_at, tid) of the trades that open and
 * close it, and merges each committed batch of the trades it stored into
 * it: open/close by (traded_at, tid), high, low, and volume, in exact
 * numerics.  The rows in gemini.candles are written at most once a second
 * (and at the end), like the recompute they replace.
 *
 * Merging only committed trades, and reading minutes from the table before
 * the flush's own trades are written (candle_agg_write runs first in the
 * flush), keeps every trade counted exactly once.  Trades stored by other
 * writers of the symbol (a concurrent gemini_pull_since) reach a minute the
 * stream keeps when the minute is recomputed: by the pipeline's transform,
 * or when the stream reconnects.
 *
 * Memory is bounded: minutes more than CANDLE_KEEP_MINUTES behind the
 * newest touched are dropped once written.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "jobs/candle_agg.h"
#include "store/store.h"

#define CANDLE_KEEP_MINUTES	5

typedef struct MinuteState
{
	StoreMinuteCandle c;		/* valid && ntrades > 0: the candle */
	int64		ntrades;		/* trades in c (0: none yet) */
	bool		valid;			/* c holds every committed trade of the minute */
	bool		dirty;			/* gemini.candles' row is behind c */
} MinuteState;

struct CandleAgg
{
	MemoryContext cxt;
	char	   *symbol;
	MinuteState *m;
	int			n;
	int			cap;
	TimestampTz newest;
};

CandleAgg *
candle_agg_create(MemoryContext parent, const char *symbol)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "gemini_etl candles", ALLOCSET_SMALL_SIZES);
	CandleAgg  *a = MemoryContextAllocZero(cxt, sizeof(CandleAgg));

	a->cxt = cxt;
	a->symbol = MemoryContextStrdup(cxt, symbol);
	a->cap = 8;
	a->m = MemoryContextAllocZero(cxt, sizeof(MinuteState) * a->cap);
	return a;
}

static TimestampTz
minute_of(TimestampTz ts)
{
	return ts - (ts % USECS_PER_MINUTE) - (ts % USECS_PER_MINUTE < 0 ? USECS_PER_MINUTE : 0);
}

static void
free_values(MinuteState *s)
{
	if (s->ntrades > 0)
	{
		pfree(DatumGetPointer(s->c.open));
		pfree(DatumGetPointer(s->c.close));
		pfree(DatumGetPointer(s->c.high));
		pfree(DatumGetPointer(s->c.low));
		pfree(DatumGetPointer(s->c.volume));
	}
	s->ntrades = 0;
}

/* The state of a minute, made (not valid, not dirty) when missing. */
static MinuteState *
state_of(CandleAgg *a, TimestampTz minute)
{
	for (int i = a->n - 1; i >= 0; i--)
		if (a->m[i].c.minute == minute)
			return &a->m[i];
	if (a->n == a->cap)
	{
		a->cap *= 2;
		a->m = repalloc(a->m, sizeof(MinuteState) * a->cap);
	}
	memset(&a->m[a->n], 0, sizeof(MinuteState));
	a->m[a->n].c.minute = minute;
	if (minute > a->newest)
		a->newest = minute;
	return &a->m[a->n++];
}

static int
cmp_num(Datum x, Datum y)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, x, y));
}

/* Replace *slot by a copy of v (in the aggregate's memory). */
static void
set_num(CandleAgg *a, Datum *slot, Datum v, bool had)
{
	Datum		copy = PointerGetDatum(MemoryContextAlloc(a->cxt, VARSIZE(DatumGetPointer(v))));

	memcpy(DatumGetPointer(copy), DatumGetPointer(v), VARSIZE(DatumGetPointer(v)));
	if (had)
		pfree(DatumGetPointer(*slot));
	*slot = copy;
}

void
candle_agg_add(CandleAgg *a, const StoreTrade *t)
{
	MinuteState *s;
	Datum		price;
	Datum		amount;

	if (t->broken)
		return;
	s = state_of(a, minute_of(t->traded_at));
	s->dirty = true;
	if (!s->valid)
		return;					/* read from the table before it is written */
	price = DirectFunctionCall3(numeric_in, CStringGetDatum(t->price), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	amount = DirectFunctionCall3(numeric_in, CStringGetDatum(t->amount), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	if (s->ntrades == 0)
	{
		s->c.open_at = s->c.close_at = t->traded_at;
		s->c.open_tid = s->c.close_tid = t->tid;
		set_num(a, &s->c.open, price, false);
		set_num(a, &s->c.close, price, false);
		set_num(a, &s->c.high, price, false);
		set_num(a, &s->c.low, price, false);
		set_num(a, &s->c.volume, amount, false);
	}
	else
	{
		if (t->traded_at < s->c.open_at || (t->traded_at == s->c.open_at && t->tid < s->c.open_tid))
		{
			s->c.open_at = t->traded_at;
			s->c.open_tid = t->tid;
			set_num(a, &s->c.open, price, true);
		}
		if (t->traded_at > s->c.close_at || (t->traded_at == s->c.close_at && t->tid > s->c.close_tid))
		{
			s->c.close_at = t->traded_at;
			s->c.close_tid = t->tid;
			set_num(a, &s->c.close, price, true);
		}
		if (cmp_num(price, s->c.high) > 0)
			set_num(a, &s->c.high, price, true);
		if (cmp_num(price, s->c.low) < 0)
			set_num(a, &s->c.low, price, true);
		set_num(a, &s->c.volume, DirectFunctionCall2(numeric_add, s->c.volume, amount), true);
	}
	s->ntrades++;
	pfree(DatumGetPointer(price));
	pfree(DatumGetPointer(amount));
}

void
candle_agg_touch(CandleAgg *a, TimestampTz traded_at)
{
	MinuteState *s = state_of(a, minute_of(traded_at));

	s->valid = false;
	s->dirty = true;
}

bool
candle_agg_pending(const CandleAgg *a)
{
	for (int i = 0; i < a->n; i++)
		if (a->m[i].dirty)
			return true;
	return false;
}

void
candle_agg_write(CandleAgg *a)
{
	TimestampTz *unknown = palloc(sizeof(TimestampTz) * Max(a->n, 1));
	StoreMinuteCandle *rows = palloc(sizeof(StoreMinuteCandle) * Max(a->n, 1));
	StoreMinuteCandle *read;
	int			nunknown = 0;
	int			nread;
	int			nrows = 0;

	/* minutes to read from the table: dirty ones the stream cannot follow */
	for (int i = 0; i < a->n; i++)
		if (a->m[i].dirty && !a->m[i].valid)
			unknown[nunknown++] = a->m[i].c.minute;
	nread = store_candles_from_trades(a->symbol, unknown, nunknown, a->cxt, &read);
	for (int i = 0; i < nunknown; i++)
	{
		MinuteState *s = state_of(a, unknown[i]);

		free_values(s);
		s->valid = true;
		for (int k = 0; k < nread; k++)
			if (read[k].minute == unknown[i])
			{
				s->c = read[k];
				s->ntrades = 1;	/* at least one; only zero matters */
			}
	}
	if (read)
		pfree(read);
	for (int i = 0; i < a->n; i++)
		if (a->m[i].dirty && a->m[i].ntrades > 0)
			rows[nrows++] = a->m[i].c;
	store_candles_write(a->symbol, rows, nrows);
}

void
candle_agg_written(CandleAgg *a)
{
	int			k = 0;

	for (int i = 0; i < a->n; i++)
	{
		MinuteState *s = &a->m[i];

		s->dirty = false;
		/* keep the recent minutes; late trades land there */
		if (s->c.minute < a->newest - CANDLE_KEEP_MINUTES * USECS_PER_MINUTE)
		{
			free_values(s);
			continue;
		}
		a->m[k++] = *s;
	}
	a->n = k;
}
