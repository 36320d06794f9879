# gemini_etl: PGXS build.  PG_CONFIG may be overridden:
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
MODULE_big = gemini_etl
EXTENSION  = gemini_etl gemini_etl_aws_s3
DATA       = sql/gemini_etl--0.1.sql sql/gemini_etl_aws_s3--0.1.sql
PGFILEDESC = "gemini_etl - Gemini market data ETL"

SRCS = $(wildcard src/*.c src/parse/*.c src/net/*.c src/store/*.c src/jobs/*.c)
OBJS = $(SRCS:.c=.o)

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/parse
SHLIB_LINK  = -lcurl -ljson-c -lwebsockets -lz -lzstd -lsnappy

# pg_regress: tests live in sql/ and expected/; the replay server must be
# running and REPLAY_URL exported (test/run_all.sh does both).
REGRESS      = setup pull_basic pull_idempotent pull_faults pull_errors symbols_candles pull_progress hardening quality export
REGRESS_OPTS = --dbname=contrib_regression

# No LLVM bitcode: JIT inlining of this module buys nothing, and it doubles
# build time.  Set before PGXS is included, which decides on the .bc rules.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Zero warnings is a rule of the project: make them fatal in our own code.
override CFLAGS += -Werror -Wno-error=deprecated-declarations


# PGXS tracks no header dependencies (unless PostgreSQL was configured with
# --enable-depend): rebuild every object when any of our headers changes, so
# a changed struct never meets a stale object file.
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)
