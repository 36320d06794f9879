/*
 * trade_registry.h
 *	  The registry of stored trades' keys, gemini.trade_ids (a row per
 *	  trade) and gemini.trade_id_spans (a row per batch written directly):
 *	  what the trades sink reads and writes of it (trade_registry.c).
 */
#ifndef GEMINI_TRADE_REGISTRY_H
#define GEMINI_TRADE_REGISTRY_H

#include "store/store.h"

/*
 * The highest tid of the symbol in either table, counting keys inserted by
 * transactions still in progress: -1 when there is none.
 */
extern int64 registry_max_tid(const char *symbol);

/*
 * Which of the trades v[0..nu-1] (sorted by tid, each once) the symbol's
 * spans hold: found[i] is set and at[i] is the time the trade is stored
 * under.  Waits for a transaction still writing (or moving) a span that
 * holds trades of the batch, so the answer is about committed keys (and
 * this transaction's own); a REPEATABLE READ caller that cannot see such a
 * span gets a serialization failure (40001).  The
 * caller holds the symbol's writers lock in share mode, so no span can
 * appear meanwhile.  Returns how many were found.
 */
extern int	registry_spans_lookup(const char *symbol, const StoreTrade **v, int nu,
								  bool *found, TimestampTz *at);

/*
 * The span row of a batch written directly (v sorted by tid, each once).
 * false, with nothing written, when it cannot be written as COPY writes
 * (a trigger on the table, say): then the batch is not written directly.
 */
extern bool registry_write_span(const char *symbol, const StoreTrade **v, int nu);

#endif
