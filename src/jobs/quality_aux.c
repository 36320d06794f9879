/*
 * quality_aux.c
 *	  Two small SQL functions the quality rules use: the key_sample
 *	  aggregate (the first few keys of failing rows) and
 *	  gemini.raw_body_problem(), which judges a raw REST body with the same
 *	  parsers the pull uses.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "gemini_parse.h"
#include "jobs/quality.h"

PG_FUNCTION_INFO_V1(gemini_key_sample_add);
PG_FUNCTION_INFO_V1(gemini_key_sample_combine);
PG_FUNCTION_INFO_V1(gemini_raw_body_problem);

static int
array_len(ArrayType *a)
{
	return ARR_NDIM(a) == 0 ? 0 : ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
}

/* state plus the non-null keys given, up to QUALITY_SAMPLE_KEYS in all */
static ArrayType *
append_keys(ArrayType *state, Datum *keys, bool *nulls, int nkeys)
{
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	Datum		out[QUALITY_SAMPLE_KEYS];
	int			nout = 0;

	deconstruct_array(state, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	for (int i = 0; i < n && nout < QUALITY_SAMPLE_KEYS; i++)
		if (!enulls[i])
			out[nout++] = elems[i];
	for (int i = 0; i < nkeys && nout < QUALITY_SAMPLE_KEYS; i++)
		if (nulls == NULL || !nulls[i])
			out[nout++] = keys[i];
	return construct_array(out, nout, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * Appends while fewer than QUALITY_SAMPLE_KEYS are held; once full the state
 * is returned as is, so the cost per row is a length check.
 */
Datum
gemini_key_sample_add(PG_FUNCTION_ARGS)
{
	ArrayType  *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = PG_GETARG_ARRAYTYPE_P(0);
	if (PG_ARGISNULL(1) || array_len(state) >= QUALITY_SAMPLE_KEYS)
		PG_RETURN_ARRAYTYPE_P(state);
	PG_RETURN_ARRAYTYPE_P(append_keys(state, &PG_GETARG_DATUM(1), NULL, 1));
}

Datum
gemini_key_sample_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *b;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_ARGISNULL(0) ? PG_GETARG_DATUM(1) : PG_GETARG_DATUM(0));
	b = PG_GETARG_ARRAYTYPE_P(1);
	deconstruct_array(b, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	PG_RETURN_ARRAYTYPE_P(append_keys(PG_GETARG_ARRAYTYPE_P(0), elems, nulls, n));
}

static const char *
status_problem(gp_status st)
{
	switch (st)
	{
		case GP_OK:
			return NULL;
		case GP_ERR_JSON:
			return "json";
		case GP_ERR_API:
			return "api_error";
		default:
			return "shape";
	}
}

/*
 * NULL when the body is what its endpoint returns, else 'json', 'api_error',
 * 'shape' or 'fields' (some element lacks a required field or has a bad
 * value: the pull quarantined it).  Unknown endpoints are NULL: nothing to
 * judge them by.
 */
Datum
gemini_raw_body_problem(PG_FUNCTION_ARGS)
{
	char	   *endpoint = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *bt = PG_GETARG_TEXT_PP(1);
	const char *body = VARDATA_ANY(bt);
	size_t		len = VARSIZE_ANY_EXHDR(bt);
	gp_error	err;
	const char *problem = NULL;

	if (strcmp(endpoint, "trades") == 0)
	{
		gp_trades_page page;
		gp_status	st = gp_parse_trades(body, len, &page, &err);

		problem = status_problem(st);
		if (st == GP_OK)
		{
			if (page.n_bad > 0)
				problem = "fields";
			gp_trades_page_free(&page);
		}
	}
	else if (strcmp(endpoint, "symbols") == 0)
	{
		gp_symbol_list list;
		gp_status	st = gp_parse_symbol_list(body, len, &list, &err);

		problem = status_problem(st);
		if (st == GP_OK)
			gp_symbol_list_free(&list);
	}
	else if (strcmp(endpoint, "symbol_details") == 0)
	{
		gp_symbol_details d;
		gp_status	st = gp_parse_symbol_details(body, len, &d, &err);

		problem = status_problem(st);
		if (st == GP_OK)
			gp_symbol_details_free(&d);
	}
	else if (strcmp(endpoint, "candles") == 0)
	{
		gp_candles c;
		gp_status	st = gp_parse_candles(body, len, &c, &err);

		problem = status_problem(st);
		if (st == GP_OK)
			gp_candles_free(&c);
	}
	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}
