/*
 * candle_agg.h
 *	  A stream's computed 1-minute candles, kept incrementally (candle_agg.c).
 */
#ifndef GEMINI_CANDLE_AGG_H
#define GEMINI_CANDLE_AGG_H

#include "postgres.h"

#include "store/store.h"

typedef struct CandleAgg CandleAgg;

extern CandleAgg *candle_agg_create(MemoryContext parent, const char *symbol);

/* A trade the stream stored, once its transaction has committed. */
extern void candle_agg_add(CandleAgg *a, const StoreTrade *t);

/*
 * The minute of traded_at changed in a way only the table knows (trades
 * the backfill stored, a trade marked broken): read it afresh.
 */
extern void candle_agg_touch(CandleAgg *a, TimestampTz traded_at);

/* Are rows of gemini.candles behind? */
extern bool candle_agg_pending(const CandleAgg *a);

/*
 * In a transaction, before the flush writes its trades: read the minutes it
 * cannot follow from the table, and upsert the candles that changed.
 */
extern void candle_agg_write(CandleAgg *a);

/* That transaction committed. */
extern void candle_agg_written(CandleAgg *a);

#endif
