/*
 * test_ws_fixtures.c
 *	  The websocket parsers against real recorded frames in test/fixtures.
 *
 * Expected counts are derived from the fixture text by plain substring
 * search (how many lines start with {"type":"trade", how many ["buy","
 * there are...), not by another JSON parser, and are also pinned to the
 * numbers counted once when the fixtures were added, so a change in either
 * the parser or the files shows up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gemini_ws.h"
#include "test_util.h"

void		test_ws_fixtures(void);

/* Occurrences of needle in s[0..len). */
static size_t
count_in(const char *s, size_t len, const char *needle)
{
	size_t		nl = strlen(needle);
	size_t		n = 0;
	size_t		i;

	for (i = 0; i + nl <= len; i++)
		if (memcmp(s + i, needle, nl) == 0)
			n++;
	return n;
}

static int
starts_with(const char *s, size_t len, const char *prefix)
{
	size_t		pl = strlen(prefix);

	return len >= pl && memcmp(s, prefix, pl) == 0;
}

/* NUL-terminated copy of the text after key in line[0..len) up to a byte of stop. */
static const char *
text_after(const char *line, size_t len, const char *key, const char *stop, char *buf, size_t size)
{
	size_t		kl = strlen(key);
	size_t		i;
	size_t		n = 0;

	buf[0] = '\0';
	for (i = 0; i + kl <= len; i++)
		if (memcmp(line + i, key, kl) == 0)
			break;
	if (i + kl > len)
		return buf;
	i += kl;
	while (i + n < len && strchr(stop, line[i + n]) == NULL && n + 1 < size)
		n++;
	memcpy(buf, line + i, n);
	buf[n] = '\0';
	return buf;
}

static int64_t
int_after(const char *line, size_t len, const char *key)
{
	char		buf[32];

	return strtoll(text_after(line, len, key, ",}", buf, sizeof(buf)), NULL, 10);
}

typedef struct session_counts
{
	size_t		lines;
	size_t		snapshots;
	size_t		updates;
	size_t		trades;
	size_t		heartbeats;
	size_t		ignored;
	size_t		levels;
	size_t		bids;
	size_t		snapshot_trades;
} session_counts;

/* Compare a v2 trade frame with its own text. */
static void
check_trade_text(const char *line, size_t len, const gw_message *m, const char *rel, size_t lineno)
{
	char		buf[64];
	const gw_trade *t = &m->trades[0];

	CHECKF(t->tid == int_after(line, len, "\"event_id\":"), "%s:%zu: tid", rel, lineno);
	CHECKF(t->timestampms == int_after(line, len, "\"timestamp\":"), "%s:%zu: timestamp", rel, lineno);
	CHECKF(strcmp(t->price, text_after(line, len, "\"price\":\"", "\"", buf, sizeof(buf))) == 0,
		   "%s:%zu: price %s", rel, lineno, t->price);
	CHECKF(strcmp(t->amount, text_after(line, len, "\"quantity\":\"", "\"", buf, sizeof(buf))) == 0,
		   "%s:%zu: amount %s", rel, lineno, t->amount);
	CHECKF(strcmp(gp_side_name(t->side), text_after(line, len, "\"side\":\"", "\"", buf, sizeof(buf))) == 0,
		   "%s:%zu: side %s", rel, lineno, gp_side_name(t->side));
	CHECKF(strcmp(m->symbol, text_after(line, len, "\"symbol\":\"", "\"", buf, sizeof(buf))) == 0,
		   "%s:%zu: symbol %s", rel, lineno, m->symbol);
}

/* The first level of a book frame against the text after "changes":[[ */
static void
check_first_level(const char *line, size_t len, const gw_message *m, const char *rel, size_t lineno)
{
	char		want[128];
	char		got[128];

	if (m->n_levels == 0)
		return;
	text_after(line, len, "\"changes\":[[", "]", want, sizeof(want));
	snprintf(got, sizeof(got), "\"%s\",\"%s\",\"%s\"", m->levels[0].is_bid ? "buy" : "sell",
			 m->levels[0].price, m->levels[0].size);
	CHECKF(strcmp(got, want) == 0, "%s:%zu: first level %s, want %s", rel, lineno, got, want);
}

/*
 * Parse every line of a v2 recording; count kinds two ways (parser vs
 * text) and check each trade and each book frame's first level against
 * the text.  Book and trade frames must follow their symbol's snapshot.
 */
static void
run_session(const char *rel, int whole_session, session_counts *got, session_counts *want)
{
	size_t		len;
	char	   *body = t_read_fixture(rel, &len);
	size_t		pos = 0;
	size_t		lineno = 0;
	char		snapshotted[64][32];
	size_t		n_snap_syms = 0;
	int			all_ok = 1;
	int			order_ok = 1;

	memset(got, 0, sizeof(*got));
	memset(want, 0, sizeof(*want));
	if (body == NULL)
		return;
	while (pos < len)
	{
		const char *line = body + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		ll = nl ? (size_t) (nl - line) : len - pos;
		gw_message	m;
		gp_error	e;
		gp_status	st;
		size_t		i;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (ll == 0)
			continue;
		want->lines++;

		/* what the text says */
		if (starts_with(line, ll, "{\"type\":\"trade\","))
			want->trades++;
		else if (starts_with(line, ll, "{\"type\":\"heartbeat\","))
			want->heartbeats++;
		else if (starts_with(line, ll, "{\"type\":\"l2_updates\","))
		{
			if (count_in(line, ll, "\"trades\":[") + count_in(line, ll, "\"auction_events\":[") > 0)
			{
				want->snapshots++;
				want->snapshot_trades += count_in(line, ll, "\"type\":\"trade\"");
			}
			else
				want->updates++;
			want->bids += count_in(line, ll, "[\"buy\",\"");
			want->levels += count_in(line, ll, "[\"buy\",\"") + count_in(line, ll, "[\"sell\",\"");
		}
		else
			want->ignored++;

		/* what the parser says */
		st = gw_parse_v2(line, ll, &m, &e);
		if (st != GP_OK)
		{
			all_ok = 0;
			CHECKF(0, "%s:%zu: status %d: %s", rel, lineno, (int) st, e.message);
			continue;
		}
		got->lines++;
		if (m.kind == GW_BOOK_SNAPSHOT)
		{
			got->snapshots++;
			got->snapshot_trades += m.n_trades;
			if (n_snap_syms < 64)
				strcpy(snapshotted[n_snap_syms++], m.symbol);
		}
		switch (m.kind)
		{
			case GW_BOOK_UPDATE:
			case GW_BOOK_SNAPSHOT:
				if (m.kind == GW_BOOK_UPDATE)
					got->updates++;
				got->levels += m.n_levels;
				for (i = 0; i < m.n_levels; i++)
					got->bids += m.levels[i].is_bid ? 1 : 0;
				check_first_level(line, ll, &m, rel, lineno);
				break;
			case GW_TRADE:
				got->trades++;
				CHECKF(m.n_trades == 1, "%s:%zu: n_trades %zu", rel, lineno, m.n_trades);
				if (m.n_trades == 1)
					check_trade_text(line, ll, &m, rel, lineno);
				break;
			case GW_HEARTBEAT:
				got->heartbeats++;
				break;
			case GW_IGNORED:
				got->ignored++;
				break;
			default:
				CHECKF(0, "%s:%zu: unexpected kind %d", rel, lineno, (int) m.kind);
		}
		if (m.kind == GW_BOOK_UPDATE || m.kind == GW_TRADE)
		{
			int			seen = 0;

			for (i = 0; i < n_snap_syms; i++)
				seen |= strcmp(snapshotted[i], m.symbol) == 0;
			order_ok &= seen;
		}
		gw_message_free(&m);
	}
	CHECKF(all_ok, "%s: every line parses", rel);
	if (whole_session)
		CHECKF(order_ok, "%s: every update and trade follows its symbol's snapshot", rel);
	free(body);
}

static void
check_counts(const char *rel, const session_counts *got, const session_counts *want,
			 const session_counts *pinned)
{
#define SAME(field) \
	do { \
		CHECKF(got->field == want->field, "%s: " #field " parsed %zu, text says %zu", \
			   rel, got->field, want->field); \
		CHECKF(want->field == pinned->field, "%s: " #field " text says %zu, pinned %zu", \
			   rel, want->field, pinned->field); \
	} while (0)
	SAME(lines);
	SAME(snapshots);
	SAME(updates);
	SAME(trades);
	SAME(heartbeats);
	SAME(ignored);
	SAME(levels);
	SAME(bids);
	SAME(snapshot_trades);
#undef SAME
}

static void
test_sessions(void)
{
	/* lines, snapshots, updates, trades, heartbeats, ignored, levels, bids, snapshot trades */
	static const struct
	{
		const char *rel;
		session_counts pinned;
	}			sessions[] = {
		{"v2_marketdata_l2_session_2021-04-05.jsonl", {1805, 10, 1748, 22, 24, 1, 10176, 5201, 500}},
		{"v2_marketdata_l2_session_2021-04-17.jsonl", {994, 10, 925, 51, 7, 1, 22633, 13923, 500}},
		{"v2_marketdata_l2_session_2021-06-23.jsonl", {679, 10, 645, 16, 7, 1, 4574, 1736, 500}},
	};
	size_t		i;

	for (i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++)
	{
		session_counts got;
		session_counts want;

		run_session(sessions[i].rel, 1, &got, &want);
		check_counts(sessions[i].rel, &got, &want, &sessions[i].pinned);
		/* the one ignored line is the client's subscribe request, line 1 */
		CHECKF(want.ignored == 1, "%s: one non-market line", sessions[i].rel);
	}
}

/* Other whole-recording files, one frame a line. */
static void
test_other_recordings(void)
{
	session_counts got;
	session_counts want;

	session_counts pinned = {40, 0, 40, 0, 0, 0, 98, 50, 0};

	/* frames cut out of a session: no snapshot precedes them */
	run_session("v2_l2_updates_2021-06-23.jsonl", 0, &got, &want);
	check_counts("v2_l2_updates_2021-06-23.jsonl", &got, &want, &pinned);
}

/* v2_trade.jsonl and v2_heartbeat.jsonl: simple per-line files. */
static void
test_trade_and_heartbeat_files(void)
{
	static const char *const files[] = {"v2_trade.jsonl", "v2_heartbeat.jsonl"};
	size_t		f;

	for (f = 0; f < 2; f++)
	{
		size_t		len;
		char	   *body = t_read_fixture(files[f], &len);
		size_t		pos = 0;
		size_t		lineno = 0;
		size_t		trades = 0;
		size_t		sells = 0;
		size_t		heartbeats = 0;

		if (body == NULL)
			continue;
		while (pos < len)
		{
			const char *line = body + pos;
			const char *nl = memchr(line, '\n', len - pos);
			size_t		ll = nl ? (size_t) (nl - line) : len - pos;
			gw_message	m;
			gp_error	e;

			pos += ll + (nl ? 1 : 0);
			lineno++;
			if (ll == 0)
				continue;
			if (!CHECKF(gw_parse_v2(line, ll, &m, &e) == GP_OK, "%s:%zu: %s", files[f], lineno, e.message))
				continue;
			if (m.kind == GW_TRADE && m.n_trades == 1)
			{
				trades++;
				sells += m.trades[0].side == GP_SIDE_SELL;
				check_trade_text(line, ll, &m, files[f], lineno);
			}
			else if (m.kind == GW_HEARTBEAT)
			{
				heartbeats++;
				CHECK(m.symbol[0] == '\0' && m.priv == NULL);
			}
			gw_message_free(&m);
		}
		if (f == 0)
		{
			CHECK(trades == count_in(body, len, "{\"type\":\"trade\","));
			CHECK(sells == count_in(body, len, "\"side\":\"sell\""));
			CHECK(trades == 89 && sells == 14 && heartbeats == 0);
		}
		else
		{
			CHECK(heartbeats == count_in(body, len, "{\"type\":\"heartbeat\","));
			CHECK(heartbeats == 38 && trades == 0);
		}
		free(body);
	}
}

static void
test_btcusd_snapshot(void)
{
	size_t		len;
	char	   *body = t_read_fixture("v2_l2_snapshot_BTCUSD_2021-04-17.json", &len);
	gw_message	m;
	gp_error	e;
	size_t		i;
	size_t		bids = 0;
	int			bids_first = 1;

	if (body == NULL)
		return;
	CHECK(gw_parse_v2(body, len, &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_SNAPSHOT);
	CHECK_STR(m.symbol, "BTCUSD");
	CHECK(m.n_levels == 6614);
	CHECK(m.n_levels == count_in(body, len, "[\"buy\",\"") + count_in(body, len, "[\"sell\",\""));
	CHECK(m.n_trades == 50);
	CHECK(m.n_trades == count_in(body, len, "{\"type\":\"trade\""));
	for (i = 0; i < m.n_levels; i++)
	{
		bids += m.levels[i].is_bid ? 1 : 0;
		if (i > 0 && m.levels[i].is_bid && !m.levels[i - 1].is_bid)
			bids_first = 0;
	}
	CHECK(bids == count_in(body, len, "[\"buy\",\""));
	CHECK(bids_first);
	if (m.n_levels == 6614)
	{
		CHECK(m.levels[0].is_bid);
		CHECK_STR(m.levels[0].price, "60696.02");
		CHECK_STR(m.levels[0].size, "0.02");
		CHECK(!m.levels[6613].is_bid);
		CHECK_STR(m.levels[6613].price, "1000000.00");
		CHECK_STR(m.levels[6613].size, "8.60257241");
		/* the whole level list, in order, is in the text */
		{
			char		want[128];
			int			in_order = 1;
			const char *p = body;

			for (i = 0; i < m.n_levels && in_order; i++)
			{
				snprintf(want, sizeof(want), "[\"%s\",\"%s\",\"%s\"]",
						 m.levels[i].is_bid ? "buy" : "sell", m.levels[i].price, m.levels[i].size);
				p = strstr(p, want);
				in_order = p != NULL;
				if (p != NULL)
					p += strlen(want);
			}
			CHECKF(in_order, "level %zu (%s) not found in order", i - 1, want);
		}
	}
	if (m.n_trades == 50)
	{
		CHECK_I64(m.trades[0].tid, INT64_C(34359623632));
		CHECK_I64(m.trades[0].timestampms, INT64_C(1618677941691));
		CHECK_STR(m.trades[0].price, "60707.03");
		CHECK_STR(m.trades[0].amount, "0.01921");
		CHECK(m.trades[0].side == GP_SIDE_BUY);
		CHECK_I64(m.trades[49].tid, INT64_C(34359450538));
		CHECK_I64(m.trades[49].timestampms, INT64_C(1618677861960));
		CHECK_STR(m.trades[49].price, "60637.12");
		CHECK_STR(m.trades[49].amount, "0.03232999");
		CHECK(m.trades[49].side == GP_SIDE_BUY);
	}
	gw_message_free(&m);

	/* the same frame cut short, anywhere, is a JSON error (a sample of cuts) */
	{
		size_t		cut;
		int			all_json = 1;

		for (cut = 0; cut < len - 2; cut += 997)
		{
			gp_status	st = gw_parse_v2(body, cut, &m, &e);

			all_json &= st == GP_ERR_JSON && m.priv == NULL;
			gw_message_free(&m);
		}
		CHECK(all_json);
	}
	free(body);

	body = t_read_fixture("v2_l2_snapshot_ALCXUSD_2021-06-23.json", &len);
	if (body == NULL)
		return;
	CHECK(gw_parse_v2(body, len, &m, &e) == GP_OK);
	CHECK(m.kind == GW_BOOK_SNAPSHOT);
	CHECK_STR(m.symbol, "ALCXUSD");
	CHECK(m.n_levels == count_in(body, len, "[\"buy\",\"") + count_in(body, len, "[\"sell\",\""));
	CHECK(m.n_trades == count_in(body, len, "{\"type\":\"trade\""));
	gw_message_free(&m);
	free(body);
}

/* One line of a file, by 1-based number, into a malloc'd string (NULL if absent). */
static char *
fixture_line(const char *rel, size_t want)
{
	size_t		len;
	char	   *body = t_read_fixture(rel, &len);
	char	   *p;
	char	   *out = NULL;
	size_t		n = 1;

	if (body == NULL)
		return NULL;
	p = body;
	while (n < want && p != NULL)
	{
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
		n++;
	}
	if (p != NULL && *p != '\0')
	{
		size_t		ll = strcspn(p, "\n");

		out = malloc(ll + 1);
		memcpy(out, p, ll);
		out[ll] = '\0';
	}
	free(body);
	CHECKF(out != NULL, "%s has no line %zu", rel, want);
	return out;
}

static void
test_tardis(void)
{
	const char *v2f = "tardis/v2_messages_from_mappers_test.jsonl";
	const char *nwf = "tardis/new_ws_api_v3_messages_from_mappers_test.jsonl";
	char	   *l;
	gw_message	m;
	gp_error	e;

	/* v2: an empty auction_events is a snapshot marker */
	if ((l = fixture_line(v2f, 1)) != NULL)
	{
		CHECK(gw_parse_v2(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_BOOK_SNAPSHOT && m.n_levels == 3 && m.n_trades == 0);
		CHECK_STR(m.symbol, "ZECLTC");
		if (m.n_levels == 3)
		{
			CHECK(m.levels[0].is_bid && m.levels[1].is_bid && !m.levels[2].is_bid);
			CHECK_STR(m.levels[2].price, "15");
			CHECK_STR(m.levels[2].size, "0.078285");
		}
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(v2f, 2)) != NULL)
	{
		CHECK(gw_parse_v2(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_TRADE && m.n_trades == 1);
		if (m.n_trades == 1)
		{
			CHECK_I64(m.trades[0].tid, INT64_C(8280715334));
			CHECK_STR(m.trades[0].price, "8325.00");
		}
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(v2f, 3)) != NULL)
	{
		CHECK(gw_parse_v2(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_BOOK_UPDATE && m.n_levels == 4);
		CHECK_STR(m.symbol, "ETHBTC");
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(v2f, 4)) != NULL)
	{
		CHECK(gw_parse_v2(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_TRADE && m.n_trades == 1);
		CHECK_STR(m.symbol, "ETHUSD");
		if (m.n_trades == 1)
		{
			CHECK(m.trades[0].side == GP_SIDE_BLOCK);
			CHECK_I64(m.trades[0].tid, INT64_C(9608228023));
			CHECK_I64(m.trades[0].timestampms, INT64_C(1580919901276));
			CHECK_STR(m.trades[0].price, "200.19");
			CHECK_STR(m.trades[0].amount, "100");
		}
		gw_message_free(&m);
		free(l);
	}

	/* new API */
	if ((l = fixture_line(nwf, 1)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_BOOK_UPDATE);
		CHECK_STR(m.symbol, "WIFUSD");
		CHECK_I64(m.first_update_id, INT64_C(1764549594389289));
		CHECK_I64(m.last_update_id, INT64_C(1764549594389676));
		CHECK_I64(m.event_time_ns, INT64_C(1783981139947514400));
		CHECK(m.n_levels == 2 && m.levels[0].is_bid && m.levels[1].is_bid);
		if (m.n_levels == 2)
		{
			CHECK_STR(m.levels[1].price, "0.148900");
			CHECK_STR(m.levels[1].size, "49574.82370100");
		}
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 2)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_TRADE && m.n_trades == 1);
		CHECK_STR(m.symbol, "BTCRLUSD");
		if (m.n_trades == 1)
		{
			CHECK_I64(m.trades[0].tid, INT64_C(2840141014190422));
			CHECK_I64(m.trades[0].timestampms, INT64_C(1783981140085));
			CHECK(m.trades[0].side == GP_SIDE_SELL);	/* "m":true */
			CHECK_STR(m.trades[0].price, "62145.38000");
			CHECK_STR(m.trades[0].amount, "0.0162522200");
		}
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 3)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_TOP_OF_BOOK);
		CHECK_STR(m.symbol, "XRPGUSD");
		CHECK_STR(m.bid, "1.0614900");
		CHECK_STR(m.bid_size, "958.69148000");
		CHECK_STR(m.ask, "1.0615000");
		CHECK_STR(m.ask_size, "38.39060000");
		CHECK_I64(m.last_update_id, INT64_C(1764549594389752));
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 4)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_BOOK_UPDATE && m.n_levels == 3);
		CHECK(m.n_levels == 3 && !m.levels[0].is_bid && !m.levels[2].is_bid);
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 5)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_BOOK_UPDATE && m.first_update_id == m.last_update_id);
		CHECK_STR(m.symbol, "GUSDGBP");
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 6)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		/* chained: this U is the previous frame's u */
		CHECK(m.kind == GW_BOOK_UPDATE && m.first_update_id == INT64_C(1764550512767893));
		CHECK(m.n_levels == 2 && m.levels[0].is_bid && !m.levels[1].is_bid);
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 7)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_ACK && m.status == 200);
		CHECK_STR(m.id, "1");
		gw_message_free(&m);
		free(l);
	}
	if ((l = fixture_line(nwf, 8)) != NULL)
	{
		CHECK(gw_parse_new(l, strlen(l), &m, &e) == GP_OK);
		CHECK(m.kind == GW_IGNORED);
		gw_message_free(&m);
		free(l);
	}
}

/* ws_doc_examples.json: every "msg" of a v1/v2 example through gw_parse_v2. */
static void
test_doc_examples(void)
{
	static const struct
	{
		const char *key;
		gw_kind		kind;
		size_t		n;			/* levels, trades or candles, by kind */
	}			expected[] = {
		{"v2_l2_initial", GW_BOOK_SNAPSHOT, 2},
		{"v2_l2_update", GW_BOOK_UPDATE, 1},
		{"v2_trade", GW_TRADE, 1},
		{"v2_subscribe", GW_IGNORED, 0},
		{"v2_unsubscribe", GW_IGNORED, 0},
		{"v2_candles_subscribe", GW_IGNORED, 0},
		{"v2_candles_update", GW_CANDLES, 2},
		{"v2_mark_price", GW_IGNORED, 0},
		{"v2_funding_amount", GW_IGNORED, 0},
		{"v1_change_place", GW_IGNORED, 0},
		{"v1_change_cancel", GW_IGNORED, 0},
		{"v1_trade", GW_IGNORED, 0},
		{"v1_multimarket_trade", GW_IGNORED, 0},
		{"v1_heartbeat", GW_HEARTBEAT, 0},
	};
	size_t		len;
	char	   *body = t_read_fixture("docs_examples/ws_doc_examples.json", &len);
	json_object *root;
	size_t		i;

	if (body == NULL)
		return;
	root = json_tokener_parse(body);
	CHECK(root != NULL);
	for (i = 0; root != NULL && i < sizeof(expected) / sizeof(expected[0]); i++)
	{
		json_object *ex;
		json_object *msgo;
		const char *text;
		gw_message	m;
		gp_error	e;
		size_t		n;

		if (!CHECKF(json_object_object_get_ex(root, expected[i].key, &ex) &&
					json_object_object_get_ex(ex, "msg", &msgo), "no example %s", expected[i].key))
			continue;
		text = json_object_to_json_string_ext(msgo, JSON_C_TO_STRING_PLAIN);
		if (!CHECKF(gw_parse_v2(text, strlen(text), &m, &e) == GP_OK, "%s: %s", expected[i].key, e.message))
			continue;
		CHECKF(m.kind == expected[i].kind, "%s: kind %d", expected[i].key, (int) m.kind);
		n = m.kind == GW_CANDLES ? m.n_candles : m.kind == GW_TRADE ? m.n_trades : m.n_levels;
		CHECKF(n == expected[i].n, "%s: %zu items", expected[i].key, n);
		if (m.kind == GW_TRADE || (m.kind == GW_BOOK_SNAPSHOT && m.n_trades == 1))
			CHECK_I64(m.trades[0].tid, INT64_C(2840140800042677));	/* tid, not event_id */
		if (m.kind == GW_CANDLES && m.n_candles == 2)
		{
			CHECK_STR(m.timeframe, "15m");
			CHECK_STR(m.candles[1].open, "9357.33");
			CHECK_STR(m.candles[1].volume, "1.5900161");
		}
		gw_message_free(&m);
	}
	json_object_put(root);
	free(body);
}

/* Auction events, as standalone frames, are ignored but keep their symbol. */
static void
test_auction_events(void)
{
	size_t		len;
	char	   *body = t_read_fixture("v2_auction_events_extracted.json", &len);
	json_object *root;
	size_t		i;
	size_t		n;

	if (body == NULL)
		return;
	root = json_tokener_parse(body);
	n = json_object_is_type(root, json_type_array) ? json_object_array_length(root) : 0;
	CHECK(n > 0);
	for (i = 0; i < n; i++)
	{
		const char *text = json_object_to_json_string_ext(json_object_array_get_idx(root, i),
														  JSON_C_TO_STRING_PLAIN);
		gw_message	m;
		gp_error	e;

		CHECK(gw_parse_v2(text, strlen(text), &m, &e) == GP_OK);
		CHECK(m.kind == GW_IGNORED && m.symbol[0] != '\0');
		gw_message_free(&m);
	}
	json_object_put(root);
	free(body);
}

/* The builder writes exactly the subscribe request that was recorded. */
static void
test_subscribe_matches_recording(void)
{
	size_t		len;
	char	   *body = t_read_fixture("v2_subscribe_request_2021-06-23.json", &len);
	json_object *root;
	json_object *subs;
	json_object *syms;
	const char *symbols[16];
	size_t		n = 0;
	size_t		i;
	char	   *built;
	gw_message	m;
	gp_error	e;

	if (body == NULL)
		return;
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		body[--len] = '\0';
	root = json_tokener_parse(body);
	if (CHECK(json_object_object_get_ex(root, "subscriptions", &subs) &&
			  json_object_object_get_ex(json_object_array_get_idx(subs, 0), "symbols", &syms)))
	{
		n = json_object_array_length(syms);
		for (i = 0; i < n && i < 16; i++)
			symbols[i] = json_object_get_string(json_object_array_get_idx(syms, i));
	}
	CHECK(n == 10);
	built = gw_v2_subscribe(symbols, n, 0);
	CHECK_STR(built, body);
	free(built);
	json_object_put(root);

	/* and, received, it is ignored (the sessions start with it) */
	CHECK(gw_parse_v2(body, len, &m, &e) == GP_OK && m.kind == GW_IGNORED);
	gw_message_free(&m);
	free(body);
}

void
test_ws_fixtures(void)
{
	test_sessions();
	test_other_recordings();
	test_trade_and_heartbeat_files();
	test_btcusd_snapshot();
	test_tardis();
	test_doc_examples();
	test_auction_events();
	test_subscribe_matches_recording();
}
