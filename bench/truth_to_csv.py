#!/usr/bin/python3
"""truth_to_csv.py -- the replay server's ground truth -> COPY input for bench/pull.

Usage: truth_to_csv.py SYMBOL TRUTH_CSV OUT_CSV

Reads the truth CSV of the replay server (tid,timestampms,price,amount,side,broken)
and writes the same trades in gemini.trades' column layout, for
  COPY t (symbol, tid, traded_at, price, amount, side, broken, source, run_id)
       FROM OUT_CSV WITH (FORMAT csv)
traded_at is the exact UTC text of timestampms (integer arithmetic, no float);
price and amount are copied verbatim.  Prints the UTC days the trades span,
"first_day last_day" (YYYY-MM-DD), so the caller can pre-create the partitions.
"""

import csv
import datetime
import sys

EPOCH = datetime.datetime(1970, 1, 1)


def ts_text(ms):
    secs, frac = divmod(ms, 1000)
    dt = EPOCH + datetime.timedelta(seconds=secs)
    return "%s.%03d+00" % (dt.strftime("%Y-%m-%d %H:%M:%S"), frac)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    symbol, src, dst = argv[1:]
    first = last = None
    n = 0
    with open(src, newline="") as fin, open(dst, "w", newline="") as fout:
        rd = csv.reader(fin)
        header = next(rd)
        if header != ["tid", "timestampms", "price", "amount", "side", "broken"]:
            sys.stderr.write("unexpected truth header: %r\n" % (header,))
            return 1
        out = []
        for tid, ms, price, amount, side, broken in rd:
            ms = int(ms)
            first = ms if first is None else min(first, ms)
            last = ms if last is None else max(last, ms)
            out.append("%s,%s,%s,%s,%s,%s,%s,rest,1\n" % (symbol, tid, ts_text(ms), price, amount, side, broken))
            n += 1
        fout.writelines(out)
    if n == 0:
        sys.stderr.write("no trades in %s\n" % src)
        return 1
    print(ts_text(first)[:10], ts_text(last)[:10])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
