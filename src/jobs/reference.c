/*
 * reference.c
 *	  gemini_pull_symbols() and gemini_pull_candles(symbol, timeframe):
 *	  reference data and Gemini's own candles.
 *
 * Both land every body in the raw layer, like the trades pull, and run in
 * the caller's transaction: an error anywhere leaves the tables as they were.
 * They write as the extension's owner (privilege.c): users only read the
 * tables.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "gemini_parse.h"
#include "jobs/gemini_api.h"
#include "jobs/privilege.h"
#include "store/store.h"

PG_FUNCTION_INFO_V1(gemini_pull_symbols);
PG_FUNCTION_INFO_V1(gemini_pull_candles);

static const char *const timeframes[] = {"1m", "5m", "15m", "30m", "1hr", "6hr", "1day"};

/* The caller's identity while the owner writes; an error resets it by itself. */
static GeminiUserSwitch owner_switch;

static void
connect_spi(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gemini_etl: SPI_connect failed");
	store_forget_partitions();
	gemini_become_owner(&owner_switch);
}

static void
finish_spi(void)
{
	gemini_restore_user(&owner_switch);
	SPI_finish();
}

Datum
gemini_pull_symbols(PG_FUNCTION_ARGS)
{
	HttpResult	r;
	char	   *url;
	gp_symbol_list list = {0};
	gp_error	err = {0};
	gp_status	st;
	int64		run_id;
	int			page_no = 0;
	const char **upper;
	int			nsymbols;
	int64		stored = 0;

	connect_spi();
	run_id = store_next_run_id();

	gemini_get("/v1/symbols", NULL, &r, &url);
	st = gp_parse_symbol_list(r.body, r.body_len, &list, &err);
	if (st != GP_OK)
		gemini_raise_parse_error(st, &err, url, &r, "the symbol list");
	store_raw_page(run_id, ++page_no, r.fetched_at, "symbols", NULL, url, (int) r.status, r.attempts,
				   r.body, r.body_len);

	nsymbols = (int) list.n;
	upper = palloc(sizeof(char *) * Max(nsymbols, 1));
	for (int i = 0; i < nsymbols; i++)
	{
		text	   *t = cstring_to_text(list.symbols[i]);

		upper[i] = gemini_normalize_symbol(t);
	}
	gp_symbol_list_free(&list);

	for (int i = 0; i < nsymbols; i++)
	{
		HttpResult	d;
		char	   *durl;
		gp_symbol_details det = {0};
		StoreSymbol s = {0};

		CHECK_FOR_INTERRUPTS();
		gemini_get(psprintf("/v1/symbols/details/%s", gemini_lower(upper[i])), upper[i], &d, &durl);
		st = gp_parse_symbol_details(d.body, d.body_len, &det, &err);
		if (st != GP_OK)
		{
			gp_symbol_details_free(&det);
			gemini_raise_parse_error(st, &err, durl, &d, psprintf("the details of %s", upper[i]));
		}
		store_raw_page(run_id, ++page_no, d.fetched_at, "symbol_details", upper[i], durl,
					   (int) d.status, d.attempts, d.body, d.body_len);
		s.symbol = upper[i];
		s.base_currency = det.base_currency;
		s.quote_currency = det.quote_currency;
		s.tick_size = det.tick_size;
		s.quote_increment = det.quote_increment;
		s.min_order_size = det.min_order_size;
		s.status = det.status;
		s.product_type = det.product_type;
		s.contract_type = det.contract_type;
		s.details_json = det.raw;
		PG_TRY();
		{
			store_symbol(&s);
		}
		PG_FINALLY();
		{
			gp_symbol_details_free(&det);
		}
		PG_END_TRY();
		stored++;
	}
	store_symbols_delist_others(upper, nsymbols);
	finish_spi();
	PG_RETURN_INT64(stored);
}

Datum
gemini_pull_candles(PG_FUNCTION_ARGS)
{
	char	   *symbol;
	char	   *tf;
	bool		tf_ok = false;
	HttpResult	r;
	char	   *url;
	gp_candles	c = {0};
	gp_error	err = {0};
	gp_status	st;
	StoreCandle *rows;
	int64		run_id;
	int64		changed;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("symbol and timeframe must not be NULL"),
				 errhint("Call gemini_pull_candles('BTCUSD', '1m').")));
	symbol = gemini_normalize_symbol(PG_GETARG_TEXT_PP(0));
	tf = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (size_t i = 0; i < lengthof(timeframes); i++)
		tf_ok |= strcmp(tf, timeframes[i]) == 0;
	if (!tf_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid candle timeframe \"%s\"", gemini_quote_input(tf)),
				 errhint("Use one of 1m, 5m, 15m, 30m, 1hr, 6hr, 1day.")));

	connect_spi();
	run_id = store_next_run_id();
	gemini_get(psprintf("/v2/candles/%s/%s", gemini_lower(symbol), tf), symbol, &r, &url);
	st = gp_parse_candles(r.body, r.body_len, &c, &err);
	if (st != GP_OK)
	{
		gp_candles_free(&c);
		gemini_raise_parse_error(st, &err, url, &r, psprintf("candles of %s", symbol));
	}
	store_raw_page(run_id, 1, r.fetched_at, "candles", symbol, url, (int) r.status, r.attempts,
				   r.body, r.body_len);

	rows = palloc(sizeof(StoreCandle) * Max(c.n, 1));
	for (size_t i = 0; i < c.n; i++)
	{
		rows[i].bucket_start = gemini_ms_to_timestamptz(c.candles[i].time_ms);
		rows[i].open = c.candles[i].open;
		rows[i].high = c.candles[i].high;
		rows[i].low = c.candles[i].low;
		rows[i].close = c.candles[i].close;
		rows[i].volume = c.candles[i].volume;
	}
	PG_TRY();
	{
		changed = store_candles(symbol, tf, "rest", rows, (int) c.n);
	}
	PG_FINALLY();
	{
		gp_candles_free(&c);
	}
	PG_END_TRY();
	finish_spi();
	PG_RETURN_INT64(changed);
}
