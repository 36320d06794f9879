"""state.py -- namespaces: per-token datasets, faults, route counters, request log.

Every URL prefix /t/<token>/ (and the root, token "default") is a Namespace,
created on first use with the server's default datasets: the recorded ones
plus those from --generate.  Datasets are shared copy-on-write between
namespaces (writable() clones before a change), so creating a namespace is
cheap and changing one never shows in another.

Admin /config replaces a namespace by a fresh one built from its body:
recorded datasets (unless "recorded": false; then the fixture symbol list and
details are left out too) plus the generated datasets it names (the
--generate ones are not added).  Generated datasets are cached by their
parameters, so configuring many namespaces with the same data is cheap.
"""

import collections
import json

import data
import faults as faults_mod

LOG_FIELDS = ("seq", "t_start", "t_end", "route", "path", "query", "status", "fault",
              "n_trades", "first_tid", "last_tid", "limit_trades", "since_tid",
              "timestamp", "include_breaks")

GEN_KEYS = {"count", "seed", "start", "span_seconds", "bad_times", "ints_as_strings",
            "price_base", "price_decimals", "broken_rate", "giant_bursts", "tid_start"}


def gen_args(symbol, spec):
    """Admin dataset spec (JSON) -> data.generate() keyword arguments."""
    if not isinstance(spec, dict):
        raise ValueError("dataset %s: spec must be an object" % symbol)
    unknown = set(spec) - GEN_KEYS
    if unknown:
        raise ValueError("dataset %s: unknown keys %s" % (symbol, sorted(unknown)))
    if not isinstance(symbol, str) or not symbol.isalnum() or not symbol.isascii():
        raise ValueError("bad symbol %r" % (symbol,))
    if "count" not in spec:
        raise ValueError("dataset %s: count is required" % symbol)
    args = {"symbol": symbol.upper(), "count": int(spec["count"]), "seed": spec.get("seed", 1)}
    if spec.get("start") is not None:
        args["start_ms"] = data.parse_instant(spec["start"])
    if spec.get("span_seconds") is not None:
        args["span_s"] = float(spec["span_seconds"])
    for k in ("bad_times", "ints_as_strings", "price_base", "price_decimals", "broken_rate",
              "giant_bursts", "tid_start"):
        if spec.get(k) is not None:
            args[k] = spec[k]
    if args["count"] < 0 or args["count"] > 5_000_000:
        raise ValueError("dataset %s: count out of range" % symbol)
    return args


class Namespace:
    def __init__(self, token, registry, datasets, recorded=True):
        self.token = token
        self.registry = registry
        self.datasets = dict(datasets)          # SYMBOL -> Dataset (maybe shared)
        self.recorded = recorded
        self.faults = []
        self.counters = collections.Counter()
        self.log = collections.deque(maxlen=registry.log_max)
        self.seq = 0
        self._symbols = None                    # cached (list, set, body)

    # ---- symbols ---------------------------------------------------------------

    def _symbol_cache(self):
        if self._symbols is None:
            out = []
            seen = set()
            base = self.registry.fixtures.symbol_list if self.recorded else []
            for s in list(base) + [s.lower() for s in self.datasets]:
                if s not in seen:
                    seen.add(s)
                    out.append(s)
            body = json.dumps(out, separators=(",", ":")).encode()
            self._symbols = (out, {s.upper() for s in out}, body)
        return self._symbols

    def symbols(self):
        return self._symbol_cache()[0]

    def symbols_body(self):
        return self._symbol_cache()[2]

    def knows(self, symbol_upper):
        return symbol_upper in self._symbol_cache()[1]

    def details(self, symbol_upper):
        if not self.knows(symbol_upper):
            return None
        if self.recorded:
            line = self.registry.fixtures.details.get(symbol_upper)
            if line is not None:
                return line
        return data.synth_details(symbol_upper)

    # ---- datasets ----------------------------------------------------------------

    def writable(self, symbol_upper):
        ds = self.datasets.get(symbol_upper)
        if ds is None:
            return None
        if ds.owner is not self:
            ds = ds.clone()
            ds.owner = self
            self.datasets[symbol_upper] = ds
        return ds

    def break_trades(self, symbol, tids, flag=True):
        ds = self.writable(symbol.upper())
        if ds is None:
            raise KeyError(symbol)
        return ds.set_broken(tids, flag)

    def append(self, symbol, count, seed, **opts):
        sym = symbol.upper()
        ds = self.writable(sym)
        if ds is None:
            opts.setdefault("start_ms", data.now_ms())
            opts.setdefault("span_s", max(1, int(count) // 4))
            opts.setdefault("broken_rate", 0.0)
            ds = data.generate(sym, count, seed, **opts)
            ds.owner = self
            self.datasets[sym] = ds
            self._symbols = None
            return (ds.tids[0], ds.tids[-1]) if ds.tids else (None, None)
        return ds.append_generated(int(count), seed, **opts)

    # ---- faults and counting --------------------------------------------------------

    def set_faults(self, faults):
        self.faults = faults
        self.counters = collections.Counter()

    def begin(self, route):
        """Count a request to route; -> (pre-action faults, response fault or None)."""
        c = self.counters
        c[route] += 1
        c["any"] += 1
        if not self.faults:
            return (), None
        return faults_mod.match(self.faults, route, c[route], c["any"])

    def run_pre(self, f, symbol):
        """Run a pre-action fault (break_before / append_before)."""
        sym = (f.p.get("symbol") or symbol or "").upper()
        if f.kind == "break_before":
            tids = f.p.get("tids") or [f.p["tid"]]
            if self.datasets.get(sym) is not None:
                self.break_trades(sym, tids, True)
        elif f.kind == "append_before":
            if sym and self.knows(sym):
                self.append(sym, f.p.get("count", 10), f.p.get("seed", f.nth))

    def record(self, t_start, t_end, route, path, query, status, fault, n=None,
               first_tid=None, last_tid=None, limit=None, since_tid=None,
               timestamp=None, include_breaks=None):
        self.seq += 1
        self.log.append((self.seq, t_start, t_end, route, path, query, status, fault, n,
                         first_tid, last_tid, limit, since_tid, timestamp, include_breaks))

    def state(self):
        return {
            "token": self.token,
            "recorded": self.recorded,
            "datasets": {s: d.summary() for s, d in sorted(self.datasets.items())},
            "faults": [f.spec for f in self.faults],
            "counters": dict(self.counters),
            "log_entries": len(self.log),
            "last_seq": self.seq,
        }


class Registry:
    """All namespaces, plus what a new namespace starts from."""

    def __init__(self, fixtures, defaults, log_max=1_000_000, gen_cache_max=8):
        self.fixtures = fixtures
        self.defaults = dict(fixtures.recorded)
        self.defaults.update(defaults)           # --generate wins over recorded
        self.namespaces = {}
        self.log_max = log_max
        self._gen_cache = collections.OrderedDict()
        self._gen_cache_max = gen_cache_max

    def warm(self):
        """Render the default datasets and their views (done right after the
        server starts listening, so startup itself stays short)."""
        for ds in self.defaults.values():
            ds.view(True)
            ds.view(False)

    def get(self, token):
        ns = self.namespaces.get(token)
        if ns is None:
            ns = Namespace(token, self, self.defaults, recorded=True)
            self.namespaces[token] = ns
        return ns

    def generated(self, args):
        key = json.dumps(args, sort_keys=True, default=str)
        ds = self._gen_cache.get(key)
        if ds is None:
            ds = data.generate(**args)
            self._gen_cache[key] = ds
            while len(self._gen_cache) > self._gen_cache_max:
                self._gen_cache.popitem(last=False)
        else:
            self._gen_cache.move_to_end(key)
        return ds

    def configure(self, token, cfg):
        """Replace namespace `token` per an admin /config body; -> Namespace."""
        if not isinstance(cfg, dict):
            raise ValueError("config body must be a JSON object")
        unknown = set(cfg) - {"faults", "datasets", "recorded"}
        if unknown:
            raise ValueError("unknown config keys %s" % sorted(unknown))
        recorded = cfg.get("recorded", True)
        if not isinstance(recorded, bool):
            raise ValueError("recorded must be true or false")
        faults = faults_mod.parse_faults(cfg.get("faults") or [])
        specs = cfg.get("datasets") or {}
        if not isinstance(specs, dict):
            raise ValueError("datasets must be an object {SYMBOL: spec}")
        datasets = dict(self.fixtures.recorded) if recorded else {}
        for sym, spec in specs.items():
            args = gen_args(sym, spec)
            datasets[args["symbol"]] = self.generated(args).rendered()
        ns = Namespace(token, self, datasets, recorded=recorded)
        ns.set_faults(faults)
        self.namespaces[token] = ns
        return ns
