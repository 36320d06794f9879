#!/usr/bin/python3
"""rss_sampler.py PID OUT [INTERVAL_S]: append RssAnon (kB) of PID to OUT every
INTERVAL_S (0.05) seconds until the process exits.  One process that sleeps in
between, so sampling costs the measured machine next to nothing."""
import sys
import time

pid, out = sys.argv[1], sys.argv[2]
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
with open(out, "a") as f:
    while True:
        try:
            with open("/proc/%s/status" % pid) as st:
                for line in st:
                    if line.startswith("RssAnon:"):
                        f.write(line.split()[1] + "\n")
                        f.flush()
                        break
        except OSError:
            break
        time.sleep(interval)
