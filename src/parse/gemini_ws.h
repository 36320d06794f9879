/*
 * gemini_ws.h
 *	  Gemini websocket messages -> plain C structs, for both protocols:
 *	  Market Data v2 (wss://api.gemini.com/v2/marketdata, archived) and the
 *	  new WebSocket API (wss://ws.gemini.com).
 *
 * Same rules as gemini_parse.h: no PostgreSQL, exact decimal text, int64
 * from a JSON number or string, never aborts, results own their memory.
 * One call parses one websocket text frame.
 */
#ifndef GEMINI_WS_H
#define GEMINI_WS_H

#include <stddef.h>
#include <stdint.h>

#include "gemini_parse.h"

typedef enum gw_kind
{
	GW_HEARTBEAT,				/* v2 {"type":"heartbeat",...} */
	GW_BOOK_SNAPSHOT,			/* v2 first l2_updates per symbol (has "trades" and/or "auction_events");
								 * new API: the first depthUpdate per symbol is NOT detectable here:
								 * the caller decides (see GW_BOOK_UPDATE) */
	GW_BOOK_UPDATE,				/* v2 l2_updates without trades/auction_events; new API depthUpdate */
	GW_TRADE,					/* v2 {"type":"trade"}; new API {E,s,t,p,q,m} */
	GW_CANDLES,					/* v2 candles_<tf>_updates */
	GW_TOP_OF_BOOK,				/* new API bookTicker */
	GW_ACK,						/* new API {"id":..,"status":200} */
	GW_ERROR,					/* v2 {"result":"error",...}; new API status>=400 or "error" */
	GW_IGNORED					/* a known message we do not use (auction events, contractStatus,
								 * mark_price, funding_amount, ...) */
} gw_kind;

/* One price level change: size is the new absolute size, "0" removes it. */
typedef struct gw_level
{
	int			is_bid;			/* v2 "buy" / new API "b" */
	const char *price;			/* exact decimal text */
	const char *size;
} gw_level;

/* One trade, already in REST terms. */
typedef struct gw_trade
{
	int64_t		tid;			/* v2: "tid" when present, else "event_id"; new API: "t" */
	int64_t		timestampms;	/* v2: "timestamp" (ms); new API: E (ns) / 1e6 */
	const char *price;
	const char *amount;			/* v2 "quantity", new API "q" */
	gp_side		side;			/* taker side; new API: m=true -> sell, false -> buy */
} gw_trade;

typedef struct gw_message
{
	gw_kind		kind;
	char		symbol[32];		/* always upper case; empty when the message has none */

	/* GW_BOOK_SNAPSHOT / GW_BOOK_UPDATE */
	size_t		n_levels;
	gw_level   *levels;
	int64_t		first_update_id;	/* new API U; 0 for v2 (no ids) */
	int64_t		last_update_id; /* new API u; 0 for v2 */
	int64_t		event_time_ns;	/* new API E; 0 when absent */

	/* GW_TRADE: one trade; GW_BOOK_SNAPSHOT (v2): the snapshot's recent trades */
	size_t		n_trades;
	gw_trade   *trades;

	/* GW_CANDLES: timeframe as sent ("1m", "5m", ...), candles newest first */
	char		timeframe[8];
	size_t		n_candles;
	gp_candle  *candles;

	/* GW_TOP_OF_BOOK */
	const char *bid;
	const char *bid_size;
	const char *ask;
	const char *ask_size;

	/* GW_ACK / GW_ERROR */
	char		id[32];			/* request id echoed, as text */
	int			status;			/* new API status; 0 for v2 */
	char		error[256];		/* GW_ERROR: reason/message */

	void	   *priv;
} gw_message;

/*
 * Parse one frame.  GP_OK with msg filled, or GP_ERR_JSON / GP_ERR_SHAPE with
 * err->message saying why (the caller dead-letters the frame).  A message of a
 * known type with a bad field (say a trade whose price is not a decimal) is
 * GP_ERR_SHAPE: the frame is dead-lettered whole.  Unknown "type" values are
 * GW_IGNORED, not errors.
 */
gp_status	gw_parse_v2(const char *frame, size_t len, gw_message *msg, gp_error *err);
gp_status	gw_parse_new(const char *frame, size_t len, gw_message *msg, gp_error *err);
void		gw_message_free(gw_message *msg);

/* Frames the client sends. Return malloc'd NUL-terminated text; free() it. */
/* v2: {"type":"subscribe","subscriptions":[{"name":"l2","symbols":[...]}, {"name":"candles_1m",...}]} */
char	   *gw_v2_subscribe(const char *const *symbols, size_t n, int with_candles_1m);
/* new API: {"id":"<id>","method":"subscribe","params":["btcusd@trade","btcusd@depth@100ms",...]} */
char	   *gw_new_subscribe(const char *id, const char *const *symbols, size_t n,
							 int trades, int depth);

#endif							/* GEMINI_WS_H */
