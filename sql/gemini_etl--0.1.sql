-- gemini_etl 0.1: Gemini exchange market data inside PostgreSQL.
--
-- Functions users call carry the gemini_ prefix and live in the extension's
-- schema; data and state live in schema gemini.  Network-facing functions are
-- revoked from PUBLIC and granted to gemini_etl_operator.

\echo Use "CREATE EXTENSION gemini_etl" to load this file. \quit

CREATE SCHEMA gemini;
COMMENT ON SCHEMA gemini IS 'gemini_etl: Gemini market data and pipeline state';

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gemini_etl_operator') THEN
        CREATE ROLE gemini_etl_operator NOLOGIN;
    END IF;
END
$$;

-- One id space for every run (a pull now, pipeline runs later).
CREATE SEQUENCE gemini.run_id_seq;

---------------------------------------------------------------------------
-- Curated trades: one row per Gemini trade, exact decimals.
---------------------------------------------------------------------------
CREATE TABLE gemini.trades (
    symbol      text        NOT NULL,
    tid         bigint      NOT NULL,
    traded_at   timestamptz NOT NULL,
    price       numeric     NOT NULL,
    amount      numeric     NOT NULL,
    side        text        NOT NULL CHECK (side IN ('buy', 'sell', 'auction', 'block')),
    broken      boolean     NOT NULL DEFAULT false,
    source      text        NOT NULL CHECK (source IN ('rest', 'ws')),
    run_id      bigint,
    ingested_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol, tid, traded_at)
) PARTITION BY RANGE (traded_at);
-- Rows land here only if a daily partition is missing; gemini.check_partitions()
-- and every partition creation report it.  The pull never routes rows here.
CREATE TABLE gemini.trades_default PARTITION OF gemini.trades DEFAULT;
COMMENT ON TABLE gemini.trades IS 'Curated Gemini trades, daily partitions (UTC) on traded_at';

---------------------------------------------------------------------------
-- Raw layer: every REST body exactly as received.
---------------------------------------------------------------------------
CREATE TABLE gemini.raw_pages (
    run_id      bigint      NOT NULL,
    page_no     integer     NOT NULL,
    fetched_at  timestamptz NOT NULL,
    endpoint    text        NOT NULL,
    symbol      text,
    url         text        NOT NULL,
    http_status integer     NOT NULL,
    attempts    integer     NOT NULL,
    body        text        COMPRESSION lz4 NOT NULL
) PARTITION BY RANGE (fetched_at);
CREATE TABLE gemini.raw_pages_default PARTITION OF gemini.raw_pages DEFAULT;
CREATE INDEX ON gemini.raw_pages (run_id, page_no);
COMMENT ON TABLE gemini.raw_pages IS 'Raw REST response bodies, exactly as received, daily partitions on fetched_at';

---------------------------------------------------------------------------
-- Watermarks and the record of pulls.
---------------------------------------------------------------------------
CREATE TABLE gemini.watermarks (
    symbol         text PRIMARY KEY,
    last_tid       bigint      NOT NULL,
    last_traded_at timestamptz,
    run_id         bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gemini.pulls (
    run_id         bigint PRIMARY KEY,
    symbol         text        NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL,
    start_mode     text        NOT NULL,   -- 'since_tid' or 'timestamp'
    start_tid      bigint,
    start_time     timestamptz,
    last_tid       bigint,
    pages          integer     NOT NULL,
    requests       integer     NOT NULL,   -- retries included
    trades_seen    bigint      NOT NULL,
    trades_new     bigint      NOT NULL,
    trades_updated bigint      NOT NULL,
    quarantined    bigint      NOT NULL    -- newly quarantined by this pull
);

CREATE TABLE gemini.quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    source         text        NOT NULL,   -- what sent it here, e.g. 'pull'
    symbol         text,
    tid            bigint,
    reason         text        NOT NULL,
    raw            text,
    run_id         bigint
);
-- A trade is quarantined once per source, however often a pull sees it again.
CREATE UNIQUE INDEX quarantine_once ON gemini.quarantine (source, symbol, tid) WHERE tid IS NOT NULL;

---------------------------------------------------------------------------
-- Reference data and candles.
---------------------------------------------------------------------------
CREATE TABLE gemini.symbols (
    symbol          text PRIMARY KEY,
    base_currency   text,
    quote_currency  text,
    tick_size       numeric,   -- quantity increment (Gemini's naming)
    quote_increment numeric,   -- price increment
    min_order_size  numeric,
    status          text,
    product_type    text,
    contract_type   text,
    listed          boolean NOT NULL DEFAULT true,
    details         jsonb,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gemini.candles (
    symbol       text        NOT NULL,
    timeframe    text        NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '30m', '1hr', '6hr', '1day')),
    bucket_start timestamptz NOT NULL,
    open         numeric     NOT NULL,
    high         numeric     NOT NULL,
    low          numeric     NOT NULL,
    close        numeric     NOT NULL,
    volume       numeric     NOT NULL,
    source       text        NOT NULL CHECK (source IN ('rest', 'computed')),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, timeframe, bucket_start, source)
);

---------------------------------------------------------------------------
-- Streams: websocket subscriptions served by background workers.
---------------------------------------------------------------------------
CREATE TABLE gemini.streams (
    stream_id       serial PRIMARY KEY,
    symbols         text[]      NOT NULL,
    channels        text[]      NOT NULL,
    ws_url          text        NOT NULL,   -- fixed at start, from gemini_etl.ws_url
    protocol        text        NOT NULL CHECK (protocol IN ('v2', 'new')),
    api_url         text        NOT NULL,   -- REST, for the backfill after each connect
    database_name   text        NOT NULL DEFAULT current_database(),
    run_as          regrole     NOT NULL DEFAULT current_user::regrole,
    desired         text        NOT NULL DEFAULT 'running' CHECK (desired IN ('running', 'stopped')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    stopped_at      timestamptz,
    -- written by the worker (at state changes and at each flush)
    state           text        NOT NULL DEFAULT 'connecting'
                                CHECK (state IN ('connecting', 'streaming', 'backoff', 'stopped')),
    pid             integer,
    connected_since timestamptz,
    last_message_at timestamptz,
    last_event_at   timestamptz,
    messages        bigint      NOT NULL DEFAULT 0,
    trades_written  bigint      NOT NULL DEFAULT 0,
    book_changes    bigint      NOT NULL DEFAULT 0,
    dead_letters    bigint      NOT NULL DEFAULT 0,
    backfilled      bigint      NOT NULL DEFAULT 0,
    reconnects      bigint      NOT NULL DEFAULT 0,
    last_error      text,
    last_error_at   timestamptz
);

CREATE VIEW gemini.stream_status AS
SELECT stream_id, symbols, channels,
       -- the row says what the worker last wrote; a worker that died cannot say so
       CASE WHEN desired = 'stopped' THEN 'stopped'
            WHEN pid IS NULL THEN 'connecting'      -- launched, not yet reporting
            WHEN NOT alive THEN 'stopped'
            ELSE state END AS state,
       CASE WHEN alive THEN pid END AS pid,
       CASE WHEN alive THEN connected_since END AS connected_since,
       last_message_at, messages, trades_written, reconnects, last_error,
       now() - last_event_at AS lag,
       book_changes, dead_letters, backfilled, protocol, ws_url
  FROM (SELECT s.*, EXISTS (SELECT 1 FROM pg_stat_activity a
                             WHERE a.pid = s.pid AND a.backend_type = 'gemini_etl stream') AS alive
          FROM gemini.streams s) s;

-- Order-book changes as received (snapshots included), daily partitions.
CREATE TABLE gemini.book_changes (
    symbol      text        NOT NULL,
    received_at timestamptz NOT NULL,
    side        text        NOT NULL CHECK (side IN ('bid', 'ask')),
    price       numeric     NOT NULL,
    size        numeric     NOT NULL,   -- new absolute size; 0 removes the level
    snapshot    boolean     NOT NULL,
    update_id   bigint,                 -- new API u; NULL for v2
    stream_id   integer
) PARTITION BY RANGE (received_at);
CREATE TABLE gemini.book_changes_default PARTITION OF gemini.book_changes DEFAULT;

CREATE TABLE gemini.top_of_book (
    symbol     text PRIMARY KEY,
    bid        numeric,
    bid_size   numeric,
    ask        numeric,
    ask_size   numeric,
    updated_at timestamptz NOT NULL
);

-- Frames a stream could not use, with the reason; the stream goes on.
CREATE TABLE gemini.dead_letters (
    dead_letter_id bigserial PRIMARY KEY,
    received_at    timestamptz NOT NULL DEFAULT now(),
    stream_id      integer,
    reason         text        NOT NULL,
    raw            text        NOT NULL
);

---------------------------------------------------------------------------
-- Partition maintenance.
---------------------------------------------------------------------------

-- Makes the daily partitions [first_day, last_day] of parent that are
-- missing (UTC days), as CREATE TABLE + ATTACH so the parent is only
-- ShareUpdateExclusive-locked.  Returns how many it made and how many rows
-- sit in the parent's DEFAULT partition (which should always be 0).
CREATE FUNCTION gemini.ensure_day_partitions(parent regclass, first_day date, last_day date,
                                             OUT created integer, OUT default_rows bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsp  text;
    rel  text;
    part text;
    def  regclass;
    d    date;
BEGIN
    created := 0;
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'invalid partition range % .. %', first_day, last_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF last_day - first_day > 400 THEN
        RAISE EXCEPTION 'refusing to create % daily partitions of % at once', last_day - first_day + 1, parent
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'This guards against runaway partition creation from bad timestamps.';
    END IF;
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    SELECT i.inhrelid::regclass INTO def
      FROM pg_inherits i JOIN pg_partitioned_table p ON p.partrelid = i.inhparent
     WHERE i.inhparent = parent AND p.partdefid = i.inhrelid;

    -- Serialise makers of partitions of this parent (short: this runs in its own transaction).
    PERFORM pg_advisory_xact_lock(hashtext('gemini_etl.partitions'), parent::oid::integer);
    FOR d IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        part := format('%s_p%s', rel, to_char(d, 'YYYYMMDD'));
        CONTINUE WHEN to_regclass(format('%I.%I', nsp, part)) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                       nsp, part, parent);
        BEGIN
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           parent, nsp, part,
                           (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
        EXCEPTION WHEN check_violation THEN
            RAISE EXCEPTION 'cannot create partition %.% of %: its DEFAULT partition holds rows for %', nsp, part, parent, d
                USING ERRCODE = 'check_violation',
                      DETAIL = format('Rows of %s between %s and %s UTC are in %s.', parent, d, d + 1, def),
                      HINT = format('Move them out (DELETE ... RETURNING from %s, then insert them again) and retry.', def);
        END;
        created := created + 1;
    END LOOP;
    IF def IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %s', def) INTO default_rows;
    ELSE
        default_rows := 0;
    END IF;
END
$$;

-- Reports, per partitioned table of gemini_etl, its DEFAULT partition's rows.
CREATE FUNCTION gemini.check_partitions()
RETURNS TABLE (parent regclass, partitions bigint, default_partition regclass, default_rows bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.partrelid::regclass AS parent, p.partdefid
               FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
              WHERE c.relnamespace = 'gemini'::regnamespace ORDER BY p.partrelid::regclass::text LOOP
        parent := r.parent;
        default_partition := nullif(r.partdefid, 0)::regclass;
        SELECT count(*) INTO partitions FROM pg_inherits WHERE inhparent = r.parent;
        default_rows := NULL;
        IF default_partition IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %s', default_partition) INTO default_rows;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

---------------------------------------------------------------------------
-- Functions.
---------------------------------------------------------------------------
CREATE FUNCTION gemini_pull_since(symbol text, since timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_since'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION gemini_pull_since(text, timestamptz) IS
    'Incremental REST pull of a symbol''s trades from its watermark (or from since); returns trades newly stored';

CREATE FUNCTION gemini_pull_symbols()
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_symbols'
LANGUAGE C VOLATILE;

CREATE FUNCTION gemini_pull_candles(symbol text, timeframe text DEFAULT '1m')
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_candles'
LANGUAGE C VOLATILE;

CREATE FUNCTION gemini.pull_progress_rows(
    OUT pid integer, OUT symbol text, OUT run_id bigint, OUT started_at timestamptz,
    OUT updated_at timestamptz, OUT pages bigint, OUT trades_seen bigint, OUT trades_new bigint,
    OUT current_tid bigint, OUT current_traded_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gemini_pull_progress'
LANGUAGE C VOLATILE;

CREATE FUNCTION gemini_stream_start(symbols text[], channels text[] DEFAULT '{l2,trades}')
RETURNS integer
AS 'MODULE_PATHNAME', 'gemini_stream_start'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION gemini_stream_start(text[], text[]) IS
    'Starts a background worker streaming these symbols; returns the stream id';

CREATE FUNCTION gemini_stream_stop(stream_id integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'gemini_stream_stop'
LANGUAGE C VOLATILE;

-- Live counters of running pulls (needs gemini_etl in shared_preload_libraries).
CREATE VIEW gemini.pull_progress AS SELECT * FROM gemini.pull_progress_rows();

---------------------------------------------------------------------------
-- Privileges: least privilege, network functions for operators only.
---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION gemini_pull_since(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini_pull_symbols() FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini_pull_candles(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.ensure_day_partitions(regclass, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini_stream_start(text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini_stream_stop(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gemini_stream_start(text[], text[]) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini_stream_stop(integer) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini_pull_since(text, timestamptz) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini_pull_symbols() TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini_pull_candles(text, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.ensure_day_partitions(regclass, date, date) TO gemini_etl_operator;

GRANT USAGE ON SCHEMA gemini TO gemini_etl_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA gemini TO gemini_etl_operator;
GRANT INSERT, UPDATE ON gemini.trades, gemini.raw_pages, gemini.watermarks, gemini.pulls,
                        gemini.quarantine, gemini.symbols, gemini.candles, gemini.streams,
                        gemini.book_changes, gemini.top_of_book, gemini.dead_letters TO gemini_etl_operator;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA gemini TO gemini_etl_operator;
