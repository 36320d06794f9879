-- gemini_etl 0.1: Gemini exchange market data inside PostgreSQL.
--
-- Functions users call carry the gemini_ prefix and live in the extension's
-- schema; data and state live in schema gemini.  Network-facing functions are
-- revoked from PUBLIC and granted to gemini_etl_operator.
--
-- The privilege model (as pg_cron's): users read the tables, and change
-- them only through the functions.  The C functions check the caller's right
-- (EXECUTE, stream ownership) and then write the extension's own tables as
-- the extension's owner, with search_path pinned; no table a worker trusts
-- is writable by anyone but the owner.
--
-- This script is written the way pgspot wants it: search_path is pinned for
-- the whole script, and every object is schema-qualified (@extschema@ for
-- the functions, gemini for data, pg_catalog for built-ins), so an object
-- planted in a schema on the installer's path can never be picked up.

\echo Use "CREATE EXTENSION gemini_etl" to load this file. \quit

SET LOCAL search_path = pg_catalog, pg_temp;

CREATE SCHEMA gemini;
COMMENT ON SCHEMA gemini IS 'gemini_etl: Gemini market data and pipeline state';

-- The operator role is cluster-wide, and the extension may be installed in
-- several databases: an existing role is adopted only when it is as harmless
-- as the one this script would create (NOLOGIN, no special attributes, a
-- member of no role), since it is granted the right to make the server talk
-- to the network.
DO $$
DECLARE
    r       pg_catalog.pg_roles;
    unsafe  text[];
BEGIN
    SELECT * INTO r FROM pg_catalog.pg_roles WHERE rolname = 'gemini_etl_operator';
    IF NOT FOUND THEN
        CREATE ROLE gemini_etl_operator NOLOGIN;
        RETURN;
    END IF;
    unsafe := pg_catalog.array_remove(ARRAY[
        CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
        CASE WHEN r.rolcanlogin THEN 'LOGIN' END,
        CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
        CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
        CASE WHEN r.rolreplication THEN 'REPLICATION' END,
        CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL)
        OPERATOR(pg_catalog.||)
        ARRAY(SELECT 'member of ' OPERATOR(pg_catalog.||) m.roleid::pg_catalog.regrole::text
                FROM pg_catalog.pg_auth_members m WHERE m.member OPERATOR(pg_catalog.=) r.oid);
    IF pg_catalog.cardinality(unsafe) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'role gemini_etl_operator already exists and is not safe to adopt'
            USING ERRCODE = 'duplicate_object',
                  DETAIL = pg_catalog.format('It has %s; gemini_etl grants this role network access and expects a NOLOGIN role with no attributes and no memberships.',
                                             pg_catalog.array_to_string(unsafe, ', ')),
                  HINT = 'ALTER ROLE gemini_etl_operator NOLOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS, revoke its memberships (or drop it), then CREATE EXTENSION again; grant gemini_etl_operator to the login roles that should use it.';
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
    tid         bigint      NOT NULL CHECK (tid >= 0),
    traded_at   timestamptz NOT NULL,
    price       numeric     NOT NULL,
    amount      numeric     NOT NULL,
    side        text        NOT NULL CHECK (side IN ('buy', 'sell', 'auction', 'block')),
    broken      boolean     NOT NULL DEFAULT false,
    source      text        NOT NULL CHECK (source IN ('rest', 'ws')),
    run_id      bigint,
    ingested_at timestamptz NOT NULL DEFAULT pg_catalog.now()
) PARTITION BY RANGE (traded_at);
-- Each partition has its own UNIQUE (symbol, tid), made with it
-- by gemini.ensure_day_partitions(), rather than an index on the parent:
-- pg_dump dumps run-time partitions with their indexes, and a parent index
-- (which CREATE EXTENSION makes before the restore attaches them) would
-- make every restored partition's index twice and fail the restore.  (A
-- unique key of a partitioned table must hold its partition key anyway, so
-- it could not say "once per (symbol, tid)" across days: gemini.trade_ids
-- does.  Within a partition the key is (symbol, tid) itself, so a quality
-- rule IsPrimaryKey "symbol" "tid" over one day is proven by the index.)
-- Rows land here only if a daily partition is missing; gemini.check_partitions()
-- and every partition creation report it.  The pull never routes rows here.
CREATE TABLE gemini.trades_default PARTITION OF gemini.trades DEFAULT;
ALTER TABLE gemini.trades_default ADD UNIQUE (symbol, tid);
COMMENT ON TABLE gemini.trades IS 'Curated Gemini trades, daily partitions (UTC) on traded_at';

-- Every trade ever stored, keyed on (symbol, tid): the registry that makes a
-- trade stored once whatever time each source reports for it (REST and the
-- websocket can differ by a millisecond).  It is two tables: trade_ids, a
-- row per trade, for trades written through INSERT ... ON CONFLICT (which
-- claims the key there first, in the same statement), and trade_id_spans,
-- a row per batch written directly as COPY writes (see trade_id_spans).
-- A key is in exactly one of them.  Deleting trades removes their keys (a
-- trigger); dropping old partitions of gemini.trades leaves their keys, so
-- a later pull does not bring those trades back; to re-import such a range,
-- delete its keys too (gemini.forget_trade_keys does both tables).
CREATE TABLE gemini.trade_ids (
    symbol    text        NOT NULL,
    tid       bigint      NOT NULL,
    traded_at timestamptz NOT NULL,   -- the time of the stored row in gemini.trades
    PRIMARY KEY (symbol, tid)
);
COMMENT ON TABLE gemini.trade_ids IS 'The (symbol, tid) of each trade in gemini.trades written through INSERT ... ON CONFLICT, and the traded_at it is stored under';

-- The keys of a batch of trades written directly: its tids in order and
-- the traded_at each is stored under, one row for the batch (a row per
-- trade cost a third of a pull).  A batch is written directly only when
-- every tid in it is above every key of the symbol in both tables, so a
-- symbol's spans never overlap: the span that may hold a tid is the first
-- with tid_hi >= it.  The arrays are compressed like the raw bodies.
CREATE TABLE gemini.trade_id_spans (
    symbol    text          NOT NULL,
    tid_lo    bigint        NOT NULL,
    tid_hi    bigint        NOT NULL,
    tids      bigint[]      COMPRESSION lz4 NOT NULL,
    traded_at timestamptz[] COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (symbol, tid_hi),
    CHECK (tid_lo <= tid_hi AND cardinality(tids) = cardinality(traded_at) AND cardinality(tids) > 0)
);
COMMENT ON TABLE gemini.trade_id_spans IS 'The keys of each batch of trades written directly into gemini.trades: tids (ascending) and the traded_at each is stored under';

-- Every key of the registry, from both tables: one row per stored trade.
CREATE VIEW gemini.trade_keys AS
SELECT k.symbol, k.tid, k.traded_at, 'trade_ids'::text AS kept_in FROM gemini.trade_ids k
UNION ALL
SELECT s.symbol, u.tid, u.ts, 'trade_id_spans'::text
  FROM gemini.trade_id_spans s, unnest(s.tids, s.traded_at) AS u(tid, ts);
COMMENT ON VIEW gemini.trade_keys IS 'Every key of the registry of stored trades (gemini.trade_ids and gemini.trade_id_spans): symbol, tid, the traded_at it is stored under, and the table that keeps it';

-- A trade deleted from gemini.trades (or all of them, by TRUNCATE of the
-- parent) leaves the registry too, so a later pull can store it again.
-- Dropping or truncating a single partition keeps its keys (see above).
CREATE FUNCTION gemini.forget_trade_ids() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    spans_gone bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- In a span: the span's other keys move to trade_ids, a row each,
        -- and the span goes.  (Taking the one key out of the arrays would
        -- rewrite the whole span for every row of a large DELETE: 330 us a
        -- row; a key in trade_ids costs one index probe.)  The only span
        -- that can hold it is the first ending at or above it: spans do
        -- not overlap.  The spans first, trade_ids after: if another
        -- DELETE is moving this key's span, this statement waits for it
        -- and finds the span gone, and the next statement (a new snapshot)
        -- sees the key in trade_ids.
        WITH gone AS (
            DELETE FROM gemini.trade_id_spans s
             WHERE s.symbol = OLD.symbol
               AND s.tid_hi = (SELECT min(x.tid_hi) FROM gemini.trade_id_spans x
                                WHERE x.symbol = OLD.symbol AND x.tid_hi >= OLD.tid)
               AND s.tid_lo <= OLD.tid
               AND EXISTS (SELECT 1 FROM unnest(s.tids, s.traded_at) AS u(tid, ts)
                            WHERE u.tid = OLD.tid AND u.ts = OLD.traded_at)
            RETURNING s.symbol, s.tids, s.traded_at),
        moved AS (
            INSERT INTO gemini.trade_ids (symbol, tid, traded_at)
            SELECT g.symbol, u.tid, u.ts FROM gone g, unnest(g.tids, g.traded_at) AS u(tid, ts)
             WHERE u.tid <> OLD.tid)
        SELECT count(*) INTO spans_gone FROM gone;
        IF spans_gone = 0 THEN
            DELETE FROM gemini.trade_ids k
             WHERE k.symbol = OLD.symbol AND k.tid = OLD.tid AND k.traded_at = OLD.traded_at;
        END IF;
        RETURN OLD;
    END IF;
    -- A TRUNCATE that names a registry table too still has it open, and a
    -- nested TRUNCATE of it fails (55006): then DELETE, which finds it
    -- already empty or empties it.
    BEGIN
        TRUNCATE gemini.trade_ids, gemini.trade_id_spans;
    EXCEPTION WHEN object_in_use THEN
        DELETE FROM gemini.trade_ids;
        DELETE FROM gemini.trade_id_spans;
    END;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION gemini.forget_trade_ids() FROM PUBLIC;
-- Forget the keys of a symbol's trades with tid_from <= tid <= tid_to, in
-- both registry tables, so a later pull stores those trades again (after
-- their partition was dropped, say).  The trades themselves are not
-- touched.  Needs the right to write the registry (the extension's owner).
CREATE FUNCTION gemini.forget_trade_keys(symbol text, tid_from bigint, tid_to bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint := 0;
    gone bigint;
    last_hi bigint;
    r record;
BEGIN
    IF symbol IS NULL OR tid_from IS NULL OR tid_to IS NULL OR tid_from > tid_to THEN
        RAISE EXCEPTION 'forget_trade_keys needs a symbol and tid_from <= tid_to'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got symbol %L, tid_from %s, tid_to %s.', symbol, tid_from, tid_to),
                  HINT = 'Give the first and the last tid to forget, both included.';
    END IF;
    -- The spans first, trade_ids after (as the delete trigger does): keys a
    -- concurrent DELETE moves out of a span are in trade_ids by then.
    -- Spans do not overlap: the ones that can hold such tids end between
    -- tid_from and the first span end at or above tid_to.
    SELECT min(s.tid_hi) INTO last_hi FROM gemini.trade_id_spans s
     WHERE s.symbol = forget_trade_keys.symbol AND s.tid_hi >= tid_to;
    FOR r IN SELECT s.tid_hi, s.tids, s.traded_at FROM gemini.trade_id_spans s
              WHERE s.symbol = forget_trade_keys.symbol AND s.tid_hi >= tid_from
                AND s.tid_hi <= coalesce(last_hi, s.tid_hi) AND s.tid_lo <= tid_to
              FOR UPDATE
    LOOP
        SELECT count(*) INTO gone FROM unnest(r.tids) AS t WHERE t BETWEEN tid_from AND tid_to;
        CONTINUE WHEN gone = 0;
        IF gone = cardinality(r.tids) THEN
            DELETE FROM gemini.trade_id_spans s
             WHERE s.symbol = forget_trade_keys.symbol AND s.tid_hi = r.tid_hi;
        ELSE
            -- the bounds shrink to the keys kept: spans still do not overlap
            UPDATE gemini.trade_id_spans s
               SET (tids, traded_at, tid_lo, tid_hi) =
                   (SELECT array_agg(u.tid ORDER BY u.tid), array_agg(u.ts ORDER BY u.tid), min(u.tid), max(u.tid)
                      FROM unnest(r.tids, r.traded_at) AS u(tid, ts)
                     WHERE u.tid NOT BETWEEN tid_from AND tid_to)
             WHERE s.symbol = forget_trade_keys.symbol AND s.tid_hi = r.tid_hi;
        END IF;
        n := n + gone;
    END LOOP;
    DELETE FROM gemini.trade_ids k
     WHERE k.symbol = forget_trade_keys.symbol AND k.tid BETWEEN tid_from AND tid_to;
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN n + gone;
END
$$;
REVOKE ALL ON FUNCTION gemini.forget_trade_keys(text, bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION gemini.forget_trade_keys(text, bigint, bigint) IS 'Forget the registry keys of a symbol''s trades with tid_from <= tid <= tid_to (both tables); returns how many';
CREATE TRIGGER trades_forget_ids AFTER DELETE ON gemini.trades
    FOR EACH ROW EXECUTE FUNCTION gemini.forget_trade_ids();
CREATE TRIGGER trades_truncate_ids AFTER TRUNCATE ON gemini.trades
    FOR EACH STATEMENT EXECUTE FUNCTION gemini.forget_trade_ids();

---------------------------------------------------------------------------
-- Raw layer: every REST body exactly as received.
---------------------------------------------------------------------------
CREATE TABLE gemini.raw_pages (
    run_id      bigint      NOT NULL,
    page_no     integer     NOT NULL CHECK (page_no >= 0),
    fetched_at  timestamptz NOT NULL,
    endpoint    text        NOT NULL,
    symbol      text,
    url         text        NOT NULL,
    http_status integer     NOT NULL CHECK (http_status BETWEEN 100 AND 599),
    attempts    integer     NOT NULL CHECK (attempts >= 1),
    body        text        COMPRESSION lz4 NOT NULL
) PARTITION BY RANGE (fetched_at);
CREATE TABLE gemini.raw_pages_default PARTITION OF gemini.raw_pages DEFAULT;
-- per partition, like gemini.trades' key (see there)
CREATE INDEX ON gemini.raw_pages_default (run_id, page_no);
COMMENT ON TABLE gemini.raw_pages IS 'Raw REST response bodies, exactly as received, daily partitions on fetched_at';

---------------------------------------------------------------------------
-- Watermarks and the record of pulls.
---------------------------------------------------------------------------
CREATE TABLE gemini.watermarks (
    symbol         text PRIMARY KEY,
    last_tid       bigint      NOT NULL,
    last_traded_at timestamptz,
    run_id         bigint,
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
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
    quarantined_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
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
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
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
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
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
    database_name   text        NOT NULL DEFAULT pg_catalog.current_database(),
    -- the stream's owner: the role that started it; only it (or a superuser)
    -- stops it, and the worker checks at every connect that it still may stream
    run_as          regrole     NOT NULL,
    desired         text        NOT NULL DEFAULT 'running' CHECK (desired IN ('running', 'stopped')),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    stopped_at      timestamptz,
    -- kept across worker restarts, so a persistent failure backs off and the
    -- connect budget (gemini_etl.ws_max_connects_per_minute) holds whoever connects
    failures        integer     NOT NULL DEFAULT 0,   -- consecutive, reset after a stable connection
    retry_at        timestamptz,                      -- the supervisor starts no worker before this
    recent_connects timestamptz[] NOT NULL DEFAULT '{}',
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
            WHEN alive THEN state
            WHEN retry_at IS NOT NULL THEN 'backoff' -- failed; the supervisor retries at retry_at
            WHEN pid IS NULL THEN 'connecting'      -- launched, not yet reporting
            ELSE 'stopped' END AS state,
       CASE WHEN alive THEN pid END AS pid,
       CASE WHEN alive THEN connected_since END AS connected_since,
       last_message_at, messages, trades_written, reconnects, last_error,
       pg_catalog.now() OPERATOR(pg_catalog.-) last_event_at AS lag,
       book_changes, dead_letters, backfilled, protocol, ws_url,
       run_as AS owner, failures, retry_at, last_error_at
  -- alive: the worker holds the stream's lock (locks.c; class "GSTR", space
  -- 18245).  pg_locks, unlike pg_stat_activity, shows every backend to every
  -- role, so the state is right for operators too.
  FROM (SELECT s.*, EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                             WHERE l.locktype = 'advisory' AND l.granted AND l.pid = s.pid
                               AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                                  WHERE d.datname = pg_catalog.current_database())
                               AND l.classid = 1196643410 AND l.objid = s.stream_id::pg_catalog.oid
                               AND l.objsubid = 18245) AS alive
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
    received_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    stream_id      integer,
    reason         text        NOT NULL,
    -- the frame as received; bytes that are not valid text in the database
    -- encoding (and NUL) are written as \xNN, so any frame can be kept
    raw            text        NOT NULL
);

---------------------------------------------------------------------------
-- Partition maintenance.
---------------------------------------------------------------------------

-- Makes the daily partitions [first_day, last_day] of parent that are
-- missing (UTC days), as CREATE TABLE + ATTACH so the parent is only
-- ShareUpdateExclusive-locked.  Returns how many it made and how many rows
-- sit in the parent's DEFAULT partition (which should always be 0).
--
-- SECURITY DEFINER so that operators (and the pull, the stream and the
-- supervisor) can make partitions of tables they may only read; so it
-- accepts only the extension's own partitioned tables, whose keys are plain
-- columns, and only days Gemini can have trades for.  Bounds are written as
-- ISO UTC literals, and DateStyle and TimeZone are pinned, so no session
-- setting can shift a partition by a time zone.
CREATE FUNCTION gemini.ensure_day_partitions(parent regclass, first_day date, last_day date,
                                             OUT created integer, OUT default_rows bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $$
DECLARE
    nsp  text;
    rel  text;
    part text;
    def  regclass;
    d    date;
BEGIN
    created := 0;
    IF parent IS NULL OR parent NOT IN ('gemini.trades'::regclass, 'gemini.raw_pages'::regclass,
                                        'gemini.book_changes'::regclass)
       OR NOT EXISTS (SELECT 1 FROM pg_depend dep
                       WHERE dep.classid = 'pg_class'::regclass AND dep.objid = parent
                         AND dep.refclassid = 'pg_extension'::regclass AND dep.deptype = 'e'
                         AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'gemini_etl')) THEN
        RAISE EXCEPTION 'gemini.ensure_day_partitions only makes partitions of gemini_etl''s own tables'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('%s is not gemini.trades, gemini.raw_pages or gemini.book_changes.', parent),
                  HINT = 'Partition your own tables yourself (or with pg_partman).';
    END IF;
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'invalid partition range % .. %', first_day, last_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF first_day < date '2015-01-01' OR last_day > (now() AT TIME ZONE 'UTC')::date + 7 THEN
        RAISE EXCEPTION 'refusing to create partitions of % for % .. %', parent, first_day, last_day
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Gemini has no data before 2015-01-01, and partitions are made at most a week ahead.',
                  HINT = 'This guards against runaway partition creation from bad timestamps.';
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

    -- Serialise makers of partitions of this parent: SHARE UPDATE EXCLUSIVE
    -- conflicts with itself, is what ATTACH takes anyway, and (unlike an
    -- advisory lock key) cannot be taken by roles that may only read.
    EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
    FOR d IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        part := format('%s_p%s', rel, to_char(d, 'YYYYMMDD'));
        CONTINUE WHEN to_regclass(format('%I.%I', nsp, part)) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                       nsp, part, parent);
        -- each partition's own indexes (the parents have none; see gemini.trades)
        IF parent = 'gemini.trades'::regclass THEN
            EXECUTE format('ALTER TABLE %I.%I ADD UNIQUE (symbol, tid)', nsp, part);
        ELSIF parent = 'gemini.raw_pages'::regclass THEN
            EXECUTE format('CREATE INDEX ON %I.%I (run_id, page_no)', nsp, part);
        END IF;
        BEGIN
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           parent, nsp, part,
                           to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
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
-- Functions.  Each pins search_path: the C code's SQL is schema-qualified
-- too, but a function that is called by a superuser (a pg_cron job, say)
-- must never resolve a name through the caller's path.
---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.gemini_pull_since(symbol text, since timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_since'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_pull_since(text, timestamptz) IS
    'Incremental REST pull of a symbol''s trades from its watermark (or from since); returns trades newly stored';

CREATE FUNCTION @extschema@.gemini_pull_symbols()
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_symbols'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gemini_pull_candles(symbol text, timeframe text DEFAULT '1m')
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_pull_candles'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION gemini.pull_progress_rows(
    OUT pid integer, OUT symbol text, OUT run_id bigint, OUT started_at timestamptz,
    OUT updated_at timestamptz, OUT pages bigint, OUT trades_seen bigint, OUT trades_new bigint,
    OUT current_tid bigint, OUT current_traded_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gemini_pull_progress'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gemini_stream_start(symbols text[], channels text[] DEFAULT '{l2,trades}')
RETURNS integer
AS 'MODULE_PATHNAME', 'gemini_stream_start'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_stream_start(text[], text[]) IS
    'Starts a background worker streaming these symbols; returns the stream id';

CREATE FUNCTION @extschema@.gemini_stream_stop(stream_id integer DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'gemini_stream_stop'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_stream_stop(integer) IS
    'Stops one of your streams, or all of them when NULL (a superuser: anyone''s); returns how many were stopped';

-- Live counters of running pulls (needs gemini_etl in shared_preload_libraries).
CREATE VIEW gemini.pull_progress AS SELECT * FROM gemini.pull_progress_rows();

---------------------------------------------------------------------------
-- Data quality (the Glue Data Quality of the AWS design): rules written in
-- DQDL, checked over a data interval, every outcome stored.
--
-- Rules are changed only through gemini_add_rule(), gemini_add_ruleset(),
-- gemini_enable_rule() and gemini_drop_rule().  A rule belongs to the role
-- that added it and is evaluated as that role (its `where` filters and
-- CustomSql are that role's SQL), as pg_cron runs a job as its owner.
---------------------------------------------------------------------------
CREATE TABLE gemini.quality_rule_defs (
    rule_id    integer     PRIMARY KEY,
    target     regclass    NOT NULL,
    rule_name  text        NOT NULL,
    rule       text        NOT NULL,   -- the DQDL text, as given
    severity   text        NOT NULL CHECK (severity IN ('warn', 'quarantine', 'fail')),
    enabled    boolean     NOT NULL DEFAULT true,
    -- the defaults this script installs (ids below 0); pg_dump leaves them
    -- out, since CREATE EXTENSION makes them again on restore
    builtin    boolean     NOT NULL DEFAULT false,
    owner      regrole     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (target, rule_name),
    CHECK (builtin = (rule_id < 0))
);
CREATE SEQUENCE gemini.quality_rule_id_seq OWNED BY gemini.quality_rule_defs.rule_id;

-- Default rules that were switched off.  Their rows are not dumped (see
-- above), so their switch lives here, where a dump keeps it.
CREATE TABLE gemini.quality_builtin_off (
    rule_id integer PRIMARY KEY CHECK (rule_id < 0)
);

CREATE VIEW gemini.quality_rules AS
SELECT d.rule_id, d.target, d.rule_name, d.rule, d.severity,
       d.enabled AND NOT EXISTS (SELECT 1 FROM gemini.quality_builtin_off o WHERE o.rule_id = d.rule_id) AS enabled,
       d.builtin, d.owner, d.created_at
  FROM gemini.quality_rule_defs d;
COMMENT ON VIEW gemini.quality_rules IS 'Data-quality rules (DQDL) per target; change them with gemini_add_rule, gemini_enable_rule, gemini_drop_rule';

-- One row per gemini_check_quality() call on a target.
CREATE TABLE gemini.quality_evaluations (
    evaluation_id    bigserial   PRIMARY KEY,
    target           regclass    NOT NULL,
    interval_start   timestamptz,
    interval_end     timestamptz,
    run_id           bigint,
    rules_run        integer     NOT NULL,
    rules_passed     integer     NOT NULL,
    rules_failed     integer     NOT NULL,
    rules_errored    integer     NOT NULL,
    score            numeric,              -- rules passed / rules run (NULL when none ran)
    rows_quarantined bigint      NOT NULL,
    evaluated_by     regrole     NOT NULL,
    evaluated_at     timestamptz NOT NULL,
    duration         interval    NOT NULL
);

-- One row per rule evaluation.
CREATE TABLE gemini.quality_results (
    result_id        bigserial   PRIMARY KEY,
    evaluation_id    bigint      NOT NULL,
    rule_id          integer     NOT NULL,
    rule_name        text        NOT NULL,
    rule             text        NOT NULL,
    severity         text        NOT NULL,
    target           regclass    NOT NULL,
    interval_start   timestamptz,
    interval_end     timestamptz,
    run_id           bigint,
    outcome          text        NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    metric           numeric,
    failing_rows     bigint,
    sample           text[],               -- up to 5 keys of failing rows
    rows_quarantined bigint      NOT NULL DEFAULT 0,
    detail           text,
    evaluated_at     timestamptz NOT NULL,
    duration         interval    NOT NULL
);
-- dynamic thresholds read a rule's newest metrics
CREATE INDEX quality_results_rule ON gemini.quality_results (rule_id, result_id DESC);

-- What a quality rule moved to the quarantine.
ALTER TABLE gemini.quarantine ADD COLUMN rule_id integer, ADD COLUMN target regclass;

-- The first five keys given (the sample of failing rows), without holding
-- more: C, and parallel-safe, since it runs in the one scan of every row.
CREATE FUNCTION gemini.key_sample_add(text[], text) RETURNS text[]
AS 'MODULE_PATHNAME', 'gemini_key_sample_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gemini.key_sample_combine(text[], text[]) RETURNS text[]
AS 'MODULE_PATHNAME', 'gemini_key_sample_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE gemini.key_sample(text) (
    SFUNC = gemini.key_sample_add, STYPE = text[], INITCOND = '{}',
    COMBINEFUNC = gemini.key_sample_combine, PARALLEL = SAFE);

-- What is wrong with a raw REST body for its endpoint, by the same parsers
-- the pull uses: NULL when fine, else 'json' (not JSON), 'api_error'
-- (Gemini's error object), 'shape' (not what the endpoint returns), or
-- 'fields' (an element lacks a required field or has a bad value).
CREATE FUNCTION gemini.raw_body_problem(endpoint text, body text) RETURNS text
AS 'MODULE_PATHNAME', 'gemini_raw_body_problem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.gemini_add_rule(target regclass, rule text, severity text DEFAULT 'fail',
                                            rule_name text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'gemini_add_rule'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_add_rule(regclass, text, text, text) IS
    'Adds a data-quality rule written in DQDL for target; returns the rule id';

CREATE FUNCTION @extschema@.gemini_add_ruleset(target regclass, ruleset text, severity text DEFAULT 'fail')
RETURNS SETOF integer
AS 'MODULE_PATHNAME', 'gemini_add_ruleset'
LANGUAGE C VOLATILE ROWS 10
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_add_ruleset(regclass, text, text) IS
    'Adds every rule of a DQDL document (Rules = [ ... ]), all or nothing; returns the rule ids';

CREATE FUNCTION @extschema@.gemini_drop_rule(rule_id integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'gemini_drop_rule'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gemini_enable_rule(rule_id integer, enabled boolean DEFAULT true)
RETURNS boolean
AS 'MODULE_PATHNAME', 'gemini_enable_rule'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gemini_check_quality(target regclass, interval_start timestamptz DEFAULT NULL,
                                                 interval_end timestamptz DEFAULT NULL)
RETURNS TABLE (rule_name text, outcome text, metric numeric, failing_rows bigint, detail text)
AS 'MODULE_PATHNAME', 'gemini_check_quality'
LANGUAGE C VOLATILE ROWS 10
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_check_quality(regclass, timestamptz, timestamptz) IS
    'Runs the enabled rules of target over [interval_start, interval_end) (all rows when NULL); stores the outcomes in gemini.quality_results';

-- The one scan gemini_check_quality() runs for a target's per-row rules over
-- an interval, to EXPLAIN it (which partitions it reads, what it computes).
CREATE FUNCTION gemini.quality_scan_sql(target regclass, interval_start timestamptz DEFAULT NULL,
                                        interval_end timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'gemini_quality_scan_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

---------------------------------------------------------------------------
-- Exports to S3 (Athena's layout): {prefix}/{table}/dt=YYYY-MM-DD/hour=HH/
-- part-NNNNN.{ext}, one key set per hour, so a re-export replaces.
---------------------------------------------------------------------------
-- One row per object written, recorded only after S3 accepted it; a
-- re-export of an hour replaces that hour's rows.
CREATE TABLE gemini.exports (
    bucket         text        NOT NULL,
    key            text        NOT NULL,
    source         text        NOT NULL,          -- schema.table exported
    format         text        NOT NULL,
    interval_start timestamptz,                   -- the hour (NULL: aws_s3.query_export_to_s3)
    interval_end   timestamptz,
    part_no        integer     NOT NULL CHECK (part_no >= 0),
    rows           bigint      NOT NULL CHECK (rows >= 0),
    bytes          bigint      NOT NULL CHECK (bytes >= 0),
    etag           text        NOT NULL,
    sha256         text        NOT NULL,          -- of the object's bytes
    run_id         bigint,                        -- the pipeline run, if any
    exported_by    pg_catalog.regrole NOT NULL,
    exported_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (bucket, key)
);
CREATE INDEX ON gemini.exports (source, interval_start);
COMMENT ON TABLE gemini.exports IS 'Objects written to S3 by gemini_export_s3 and the pipeline';

CREATE FUNCTION @extschema@.gemini_export_s3(source regclass, interval_start timestamptz,
                                             interval_end timestamptz, format text DEFAULT 'csv.gz')
RETURNS TABLE (key text, rows bigint, bytes bigint)
AS 'MODULE_PATHNAME', 'gemini_export_s3'
LANGUAGE C VOLATILE ROWS 24
SET search_path = pg_catalog, pg_temp
-- the same text from every session, for the types written by their output
-- function (dates, intervals, floats)
SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres'
SET extra_float_digits = 1
-- one sorted scan of the interval: JIT compiling it costs more than it saves,
-- and a sort of an hour or a day's rows in memory is faster than on disk
SET jit = off
SET work_mem = '256MB';
COMMENT ON FUNCTION @extschema@.gemini_export_s3(regclass, timestamptz, timestamptz, text) IS
    'Writes the whole UTC hours of [interval_start, interval_end) of source to S3 ({prefix}/{table}/dt=/hour=/part-NNNNN.{ext}), replacing what was there';

CREATE FUNCTION @extschema@.gemini_athena_ddl(source regclass, format text DEFAULT 'csv.gz')
RETURNS text
AS 'MODULE_PATHNAME', 'gemini_athena_ddl'
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gemini_athena_ddl(regclass, text) IS
    'The Athena CREATE EXTERNAL TABLE (partition projection on dt and hour) that reads what gemini_export_s3 writes';

-- The aws_s3 compatibility extension's worker (gemini_etl_aws_s3 wraps it
-- in aws_s3.query_export_to_s3): runs query as the caller through COPY
-- with options, and uploads the result to s3://bucket/key.
CREATE FUNCTION gemini.query_export_to_s3(query text, bucket text, key text, region text, options text,
                                          OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                          OUT bytes_uploaded bigint)
AS 'MODULE_PATHNAME', 'gemini_query_export_to_s3'
LANGUAGE C VOLATILE;
-- No SET search_path here, unlike every other function: query is the
-- caller's SQL and resolves with the caller's search_path, as on RDS.  The
-- C code pins search_path itself before it writes gemini.exports.

---------------------------------------------------------------------------
-- The hourly pipeline (the managed Airflow of the design we replace):
-- gemini_run_pipeline runs pull -> quality(raw) -> transform ->
-- quality(curated) -> export for a data interval, in a background worker
-- with a transaction per step attempt; gemini.runs and gemini.run_steps
-- are its ledger.  pg_cron is the clock (gemini_schedule).
---------------------------------------------------------------------------
CREATE TABLE gemini.runs (
    run_id         bigint      PRIMARY KEY,
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL CHECK (interval_end > interval_start),
    symbols        text[]      NOT NULL,
    status         text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    trigger        text        NOT NULL CHECK (trigger IN ('manual', 'schedule', 'backfill')),
    run_as         pg_catalog.regrole NOT NULL,
    pid            integer,                   -- the worker's, while running
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at    timestamptz,
    rows           jsonb       NOT NULL DEFAULT '{}',   -- rows per step
    failed_step    text,
    failed_rule    text,                      -- a quality rule of severity fail
    sqlstate       text,
    message        text,
    detail         text
);
CREATE INDEX ON gemini.runs (interval_start, interval_end);
COMMENT ON TABLE gemini.runs IS 'One row per pipeline run: its data interval, symbols, status, rows per step and, when failed, why';

CREATE TABLE gemini.run_steps (
    run_id      bigint      NOT NULL REFERENCES gemini.runs ON DELETE CASCADE,
    step        text        NOT NULL CHECK (step IN ('pull', 'quality_raw', 'transform', 'quality_curated', 'export')),
    symbol      text        NOT NULL DEFAULT '',  -- '' for steps over all symbols
    attempt     integer     NOT NULL CHECK (attempt >= 1),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    rows        bigint,
    sqlstate    text,
    message     text,
    detail      text,
    PRIMARY KEY (run_id, step, symbol, attempt)
);
COMMENT ON TABLE gemini.run_steps IS 'One row per attempt of a step of a pipeline run';

-- The run itself (C): starts the worker and waits; trigger is manual,
-- schedule or backfill.
CREATE FUNCTION gemini.run_pipeline_internal(symbols text[], interval_start timestamptz, interval_end timestamptz,
                                             trigger text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'gemini_run_pipeline_internal'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.gemini_run_pipeline(symbols text[], interval_start timestamptz DEFAULT NULL,
                                                interval_end timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT gemini.run_pipeline_internal(symbols, interval_start, interval_end, 'manual') $$;
COMMENT ON FUNCTION @extschema@.gemini_run_pipeline(text[], timestamptz, timestamptz) IS
    'One pipeline run (pull, quality raw, transform, quality curated, export) of a data interval (default: the last whole hour); returns its run id in gemini.runs';

-- Has this hour succeeded for every one of these symbols?
CREATE FUNCTION gemini.hour_done(symbols text[], hour timestamptz)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM pg_catalog.unnest(symbols) s(symbol)
     WHERE NOT EXISTS (SELECT 1 FROM gemini.runs r
                        WHERE r.status = 'succeeded' AND s.symbol = ANY (r.symbols)
                          AND r.interval_start <= hour AND r.interval_end >= hour + interval '1 hour'))
$$;

-- Run the pipeline for every whole hour from first_hour up to (not
-- including) end_hour that has not succeeded yet, oldest first.
CREATE FUNCTION gemini.run_due_hours(symbols text[], first_hour timestamptz, end_hour timestamptz, trigger text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h timestamptz := first_hour;
    n int := 0;
BEGIN
    WHILE h + interval '1 hour' <= end_hour LOOP
        IF NOT gemini.hour_done(run_due_hours.symbols, h) THEN
            PERFORM gemini.run_pipeline_internal(run_due_hours.symbols, h, h + interval '1 hour', run_due_hours.trigger);
            n := n + 1;
        END IF;
        h := h + interval '1 hour';
    END LOOP;
    RETURN n;
END
$$;

CREATE FUNCTION @extschema@.gemini_backfill(symbols text[], from_time timestamptz, to_time timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF from_time IS NULL OR to_time IS NULL OR to_time <= from_time THEN
        RAISE EXCEPTION 'gemini_backfill needs from_time before to_time'
              USING ERRCODE = '22023', DETAIL = 'It runs the pipeline for every whole hour in [from_time, to_time) not yet succeeded.',
                    HINT = 'For example: SELECT gemini_backfill(''{BTCUSD}'', now() - interval ''1 day'', now());';
    END IF;
    RETURN gemini.run_due_hours(gemini_backfill.symbols, pg_catalog.date_trunc('hour', from_time, 'UTC'),
                                LEAST(to_time, pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC')), 'backfill');
END
$$;
COMMENT ON FUNCTION @extschema@.gemini_backfill(text[], timestamptz, timestamptz) IS
    'Runs the pipeline for every whole hour of [from_time, to_time) not yet succeeded, oldest first; returns how many runs it made';

-- Drop partitions and run history past their age (the schedule calls it).
-- SECURITY DEFINER: the partitions and the ledger are the extension's; it
-- touches nothing else, and names every object.
CREATE FUNCTION gemini.apply_retention()
RETURNS TABLE (dropped text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days int := pg_catalog.current_setting('gemini_etl.retention_days')::int;
    run_days int := pg_catalog.current_setting('gemini_etl.run_retention_days')::int;
    p record;
BEGIN
    IF days > 0 THEN
        FOR p IN
            SELECT c.oid::regclass AS part, n.nspname, c.relname
              FROM pg_catalog.pg_inherits i
              JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE i.inhparent IN ('gemini.trades'::regclass, 'gemini.raw_pages'::regclass, 'gemini.book_changes'::regclass)
               AND c.relname ~ '_p[0-9]{8}$'
               AND pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') + 1
                   <= (pg_catalog.now() AT TIME ZONE 'UTC')::date - days
             ORDER BY c.relname
        LOOP
            EXECUTE pg_catalog.format('DROP TABLE %I.%I', p.nspname, p.relname);
            dropped := p.nspname || '.' || p.relname;
            RETURN NEXT;
        END LOOP;
    END IF;
    IF run_days > 0 THEN
        DELETE FROM gemini.runs WHERE started_at < pg_catalog.now() - pg_catalog.make_interval(days => run_days)
                                  AND status <> 'running';
    END IF;
END
$$;

-- What the schedule runs each time it fires: partitions ahead, retention,
-- then every hour not yet succeeded since the symbols' first run (at most
-- 7 days back: Gemini's public trade history), oldest first.
CREATE FUNCTION gemini.pipeline_tick(symbols text[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur timestamptz := pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC');
    first_run timestamptz;
    last_ok timestamptz;
    h timestamptz;
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
BEGIN
    PERFORM gemini.ensure_day_partitions(t, today, today + 2)
       FROM pg_catalog.unnest(ARRAY['gemini.trades', 'gemini.raw_pages', 'gemini.book_changes']::regclass[]) t;
    PERFORM gemini.apply_retention();
    SELECT pg_catalog.min(r.interval_start) INTO first_run FROM gemini.runs r WHERE r.symbols && pipeline_tick.symbols;
    SELECT pg_catalog.max(r.interval_end) INTO last_ok FROM gemini.runs r
     WHERE r.status = 'succeeded' AND r.symbols @> pipeline_tick.symbols;
    h := GREATEST(LEAST(COALESCE(first_run, cur - interval '1 hour'), cur - interval '1 hour'), cur - interval '7 days');
    IF cur - COALESCE(last_ok, first_run, cur) > interval '6 days' THEN
        RAISE WARNING 'gemini_etl: % have not succeeded since %; Gemini keeps 7 days of public trades', symbols,
              COALESCE(last_ok, first_run)
              USING HINT = 'Hours older than 7 days can no longer be pulled: see gemini.pipeline_status and gemini.runs.';
        PERFORM pg_catalog.pg_notify('gemini_pipeline', pg_catalog.json_build_object(
            'event', 'gap_nearing_history_limit', 'symbols', symbols, 'last_success', last_ok)::text);
    END IF;
    RETURN gemini.run_due_hours(pipeline_tick.symbols, h, cur, 'schedule');
END
$$;

-- Near real time: while a stream runs, the current (open) hour of the
-- streamed data goes to S3 every live_export_minutes, rewriting its keys.
CREATE FUNCTION gemini.export_live()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur timestamptz := pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC');
    n bigint;
BEGIN
    IF pg_catalog.current_setting('gemini_etl.s3_bucket') = ''
       OR NOT EXISTS (SELECT 1 FROM gemini.stream_status WHERE state = 'streaming') THEN
        RETURN 0;
    END IF;
    SELECT COALESCE(pg_catalog.sum(e.rows), 0) INTO n
      FROM pg_catalog.unnest(ARRAY['gemini.trades', 'gemini.book_changes']::regclass[]) t,
           @extschema@.gemini_export_s3(t, cur, cur + interval '1 hour',
                                        pg_catalog.current_setting('gemini_etl.pipeline_export_format')) e;
    RETURN n;
END
$$;

-- The next time a 5-field cron schedule fires, for the simple forms a
-- pipeline uses ('M * * * *', '*/N * * * *', '* * * * *'); NULL otherwise.
CREATE FUNCTION gemini.cron_next(schedule text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f text[] := pg_catalog.regexp_split_to_array(pg_catalog.btrim(schedule), '\s+');
    m timestamptz := pg_catalog.date_trunc('minute', after, 'UTC') + interval '1 minute';
    step int;
BEGIN
    IF pg_catalog.array_length(f, 1) <> 5 OR f[2] <> '*' OR f[3] <> '*' OR f[4] <> '*' OR f[5] <> '*' THEN
        RETURN NULL;
    END IF;
    IF f[1] = '*' THEN
        RETURN m;
    ELSIF f[1] ~ '^\*/[0-9]+$' THEN
        step := pg_catalog.substr(f[1], 3)::int;
        WHILE pg_catalog.date_part('minute', m AT TIME ZONE 'UTC')::int % step <> 0 LOOP
            m := m + interval '1 minute';
        END LOOP;
        RETURN m;
    ELSIF f[1] ~ '^[0-9]+$' THEN
        WHILE pg_catalog.date_part('minute', m AT TIME ZONE 'UTC')::int <> f[1]::int LOOP
            m := m + interval '1 minute';
        END LOOP;
        RETURN m;
    END IF;
    RETURN NULL;
END
$$;

-- The pipeline's pg_cron schedule, NULL when there is none (or no pg_cron).
CREATE FUNCTION gemini.pipeline_schedule()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
BEGIN
    IF pg_catalog.to_regclass('cron.job') IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT schedule FROM cron.job WHERE jobname = ''gemini_etl pipeline'' ORDER BY jobid DESC LIMIT 1' INTO s;
    RETURN s;
END
$$;

CREATE FUNCTION @extschema@.gemini_schedule(symbols text[], schedule text DEFAULT '5 * * * *')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
              USING ERRCODE = '55000', DETAIL = 'gemini_schedule registers its jobs with pg_cron.',
                    HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, and CREATE EXTENSION pg_cron.';
    END IF;
    IF symbols IS NULL OR pg_catalog.cardinality(symbols) = 0 THEN
        RAISE EXCEPTION 'gemini_schedule needs symbols' USING ERRCODE = '22023',
              HINT = 'For example: SELECT gemini_schedule(''{BTCUSD,ETHUSD}'');';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
      USING 'gemini_etl pipeline', schedule,
            pg_catalog.format('SELECT gemini.pipeline_tick(%L::text[])', (SELECT pg_catalog.array_agg(pg_catalog.upper(s)) FROM pg_catalog.unnest(symbols) s));
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
      USING 'gemini_etl live export',
            pg_catalog.format('*/%s * * * *', pg_catalog.current_setting('gemini_etl.live_export_minutes')),
            'SELECT gemini.export_live()';
    RETURN job;
END
$$;
COMMENT ON FUNCTION @extschema@.gemini_schedule(text[], text) IS
    'Registers the pipeline with pg_cron (job ''gemini_etl pipeline'', and ''gemini_etl live export'' every live_export_minutes); returns the pipeline job id';

CREATE FUNCTION @extschema@.gemini_unschedule()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n int;
BEGIN
    IF pg_catalog.to_regnamespace('cron') IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) FILTER (WHERE cron.unschedule(jobid)) FROM cron.job WHERE jobname LIKE ''gemini_etl %''' INTO n;
    RETURN n;
END
$$;

CREATE VIEW gemini.pipeline_status AS
SELECT s.symbol,
       ok.last_success,
       pg_catalog.now() - ok.last_success AS lag,
       (SELECT pg_catalog.count(*) FROM gemini.runs r
         WHERE r.status = 'failed' AND s.symbol = ANY (r.symbols)
           AND r.interval_start >= COALESCE(ok.last_success, '-infinity')
           AND NOT gemini.hour_done(ARRAY[s.symbol], r.interval_start)) AS failing_runs,
       (SELECT r.failed_step || ': ' || COALESCE('quality rule ' || r.failed_rule, r.sqlstate || ' ' || r.message)
          FROM gemini.runs r WHERE r.status = 'failed' AND s.symbol = ANY (r.symbols)
         ORDER BY r.started_at DESC LIMIT 1) AS last_error,
       (SELECT pg_catalog.count(*) FROM pg_catalog.generate_series(
                 GREATEST(COALESCE(ok.last_success, first.first_start),
                          pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC') - interval '7 days'),
                 pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC') - interval '1 hour', interval '1 hour') h
         WHERE NOT gemini.hour_done(ARRAY[s.symbol], h)) AS intervals_due,
       COALESCE(ok.last_success, first.first_start) < pg_catalog.now() - interval '6 days' AS gap_nearing_history_limit,
       gemini.cron_next(gemini.pipeline_schedule()) AS next_scheduled
  FROM (SELECT DISTINCT pg_catalog.unnest(r.symbols) AS symbol FROM gemini.runs r) s
  CROSS JOIN LATERAL (SELECT pg_catalog.max(r.interval_end) AS last_success FROM gemini.runs r
                       WHERE r.status = 'succeeded' AND s.symbol = ANY (r.symbols)) ok
  CROSS JOIN LATERAL (SELECT pg_catalog.min(r.interval_start) AS first_start FROM gemini.runs r
                       WHERE s.symbol = ANY (r.symbols)) first;
COMMENT ON VIEW gemini.pipeline_status IS 'Per symbol: last success, lag, failing runs, last error, hours due, a gap nearing 7 days, the next scheduled time';

-- The default rules (ids below 0; switch them off with gemini_enable_rule(id, false)).
INSERT INTO gemini.quality_rule_defs (rule_id, target, rule_name, rule, severity, builtin, owner)
SELECT v.id, v.target::pg_catalog.regclass, v.name, v.rule, v.severity, true,
       (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'gemini_etl')::pg_catalog.regrole
  FROM (VALUES
    (-1, 'gemini.raw_pages', 'raw: HTTP status 200', 'ColumnValues "http_status" = 200', 'fail'),
    (-2, 'gemini.raw_pages', 'raw: body parses as the endpoint''s shape',
         'CustomSql "select count(*) from primary where gemini.raw_body_problem(endpoint, body) in (''json'', ''api_error'', ''shape'')" = 0', 'fail'),
    (-3, 'gemini.raw_pages', 'raw: required fields present',
         'CustomSql "select count(*) from primary where gemini.raw_body_problem(endpoint, body) = ''fields''" = 0', 'warn'),
    (-4, 'gemini.trades', 'trades: (symbol, tid) unique', 'IsPrimaryKey "symbol" "tid"', 'fail'),
    (-5, 'gemini.trades', 'trades: price > 0', 'ColumnValues "price" > 0', 'quarantine'),
    (-6, 'gemini.trades', 'trades: amount > 0', 'ColumnValues "amount" > 0', 'quarantine'),
    (-7, 'gemini.trades', 'trades: side is known', 'ColumnValues "side" in ["buy", "sell", "auction", "block"]', 'quarantine'),
    (-8, 'gemini.trades', 'trades: fresh (2 hours)', 'DataFreshness "traded_at" <= 2 hours', 'warn')
  ) AS v (id, target, name, rule, severity);

---------------------------------------------------------------------------
-- pg_dump: the data and state a dump must keep.
--
-- pg_dump leaves out the rows of an extension's own tables unless they are
-- marked here; without this a restored database has no watermarks, and its
-- next pull starts an hour back and leaves a gap.  A table added later
-- that holds data or state must be marked here too (test/t/dump_restore.t
-- compares every table of schema gemini after a restore).  What pg_dump 15
-- does (measured; the test checks it):
--  * A marked table's rows are dumped, and restored into the table that
--    CREATE EXTENSION makes.  No filter: every row is state, including
--    stopped streams (whether a restored stream runs is the supervisor's
--    business).
--  * A sequence keeps its position only if it is marked itself (marking the
--    table of a serial column is not enough).  Unmarked, the first pull
--    after a restore would take a run_id the restored gemini.pulls holds.
--  * The daily partitions are made at run time and are not members of the
--    extension: pg_dump dumps each in full like a user's table (CREATE
--    TABLE, ATTACH PARTITION, its rows, its indexes), marked or not.
--    Marking a partitioned parent does nothing (it has no rows of its own),
--    so the parents are not marked.  The parents have no indexes: with one,
--    ATTACH PARTITION on restore would make each partition's index from it
--    before the dumped CREATE INDEX, which then fails ("already exists"),
--    so pg_restore -1 or --exit-on-error would fail.
--  * The DEFAULT partitions are members: their rows (normally none) survive
--    only because they are marked.
---------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('gemini.trades_default', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.trade_ids', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.trade_id_spans', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.raw_pages_default', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.book_changes_default', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.watermarks', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.pulls', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.quarantine', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.symbols', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.candles', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.streams', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.top_of_book', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.run_id_seq', '');
-- user rules only: the defaults (builtin) are made again by CREATE EXTENSION
SELECT pg_catalog.pg_extension_config_dump('gemini.quality_rule_defs', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('gemini.quality_builtin_off', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.quality_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.quality_evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.quality_results', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.exports', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.runs', '');
SELECT pg_catalog.pg_extension_config_dump('gemini.run_steps', '');
-- One call per statement: each updates the extension's catalog row.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('gemini.quarantine', 'quarantine_id')::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('gemini.streams', 'stream_id')::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('gemini.dead_letters', 'dead_letter_id')::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('gemini.quality_evaluations', 'evaluation_id')::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('gemini.quality_results', 'result_id')::pg_catalog.regclass, '');

---------------------------------------------------------------------------
-- Privileges: least privilege, network functions for operators only.
-- Operators read every table; they write none: every change goes through
-- the functions above, which check ownership and write as the extension's
-- owner.
---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION @extschema@.gemini_pull_since(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_pull_symbols() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_pull_candles(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.ensure_day_partitions(regclass, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_stream_start(text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_stream_stop(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_stream_start(text[], text[]) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_stream_stop(integer) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_pull_since(text, timestamptz) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_pull_symbols() TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_pull_candles(text, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.ensure_day_partitions(regclass, date, date) TO gemini_etl_operator;
-- Data quality: for operators (a rule runs as the role that added it, and
-- only on tables that role may read; quarantine needs DELETE on the target)
REVOKE ALL ON FUNCTION @extschema@.gemini_add_rule(regclass, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_add_ruleset(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_drop_rule(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_enable_rule(integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_check_quality(regclass, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_add_rule(regclass, text, text, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_add_ruleset(regclass, text, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_drop_rule(integer) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_enable_rule(integer, boolean) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_check_quality(regclass, timestamptz, timestamptz) TO gemini_etl_operator;
-- Exports: for operators (the rows are read as the caller, so only tables
-- the caller may read go out; the bucket and credentials are the server's)
REVOKE ALL ON FUNCTION @extschema@.gemini_export_s3(regclass, timestamptz, timestamptz, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_athena_ddl(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.query_export_to_s3(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_export_s3(regclass, timestamptz, timestamptz, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_athena_ddl(regclass, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.query_export_to_s3(text, text, text, text, text) TO gemini_etl_operator;
-- The pipeline: for operators (a run's steps run as the caller)
REVOKE ALL ON FUNCTION gemini.run_pipeline_internal(text[], timestamptz, timestamptz, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_run_pipeline(text[], timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_backfill(text[], timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.pipeline_tick(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.run_due_hours(text[], timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gemini.run_due_hours(text[], timestamptz, timestamptz, text) TO gemini_etl_operator;
REVOKE ALL ON FUNCTION gemini.export_live() FROM PUBLIC;
REVOKE ALL ON FUNCTION gemini.apply_retention() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_schedule(text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.gemini_unschedule() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gemini.run_pipeline_internal(text[], timestamptz, timestamptz, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_run_pipeline(text[], timestamptz, timestamptz) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_backfill(text[], timestamptz, timestamptz) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.pipeline_tick(text[]) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.export_live() TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION gemini.apply_retention() TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_schedule(text[], text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION @extschema@.gemini_unschedule() TO gemini_etl_operator;

GRANT USAGE ON SCHEMA gemini TO gemini_etl_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA gemini TO gemini_etl_operator;
