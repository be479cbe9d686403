"""Verdicts on a finished run, computed from its records in plain Python.

The client only knows that the server decided on a request somewhere between sending it and
reading the answer, so every judgement uses that interval and errs on the server's side: a leak
is reported only when more than ``limit`` admissions provably fall inside one window.

Properties, in table order:
  no-leak            per client IP, no span of time holds more successes than any sane limiter of the
                     tier allows in it: ``limit × (1 + ⌈t/window⌉)`` in a span of ``t`` seconds
  limit-reached      the primary IP is admitted the full ``limit`` from a rested budget, twice
  well-formed-429    every 429 is the spec's TooManyRequests response; 429 latency reported
  headers-match-tier x-ratelimit-* present on successes and equal to the declared tier
  healthy            no 5xx, no transport error, no broken stream, nothing but 2xx and 429
  recovery           after waiting out the window the primary IP is admitted again
  isolation          other IPs get their own budget while the primary IP is throttled
  limiter            information: the algorithm the primary IP's re-admissions suggest
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loadtests.checks import RATE_HEADERS, advisory_problems, envelope_problems, header_mismatches
from loadtests.records import Record
from loadtests.scenario import Tier

__all__ = [
    "FAIL",
    "INFO",
    "PASS",
    "SKIP",
    "WARN",
    "Figures",
    "Span",
    "TierReport",
    "Verdict",
    "analyse",
    "infer_limiter",
    "percentile",
    "proven_max_in_window",
    "span_bound",
    "worst_span",
]

# WARN: only a SHOULD (OpenAI-convention) rule is broken; it fails a run only with --strict.
PASS, FAIL, WARN, INFO, SKIP = "PASS", "FAIL", "WARN", "INFO", "SKIP"
TOO_MANY_REQUESTS = 429


@dataclass(frozen=True)
class Verdict:
    name: str
    requirements: tuple[str, ...]
    status: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass(frozen=True)
class Figures:
    requests: int
    by_status: dict[int, int]
    by_op: dict[str, int]
    seconds: float  # first request start to last response end
    p50_429_ms: float | None
    p99_429_ms: float | None
    max_429_ms: float | None
    p99_ok_ms: float | None


@dataclass(frozen=True)
class TierReport:
    tier: Tier
    ips: tuple[str, ...]
    verdicts: list[Verdict]
    figures: Figures
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(v.failed for v in self.verdicts)

    @property
    def warned(self) -> bool:
        return any(v.status == WARN for v in self.verdicts)

    def passes(self, *, strict: bool = False) -> bool:
        return self.passed and not (strict and self.warned)

    def verdict(self, name: str) -> Verdict:
        return next(v for v in self.verdicts if v.name == name)


def _ok(record: Record) -> bool:
    return 200 <= record["status"] < 300


def _end(record: Record) -> float:
    return record["t"] + record["ms"] / 1000


def _label(ip: str) -> str:
    return ip or "(default address)"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def proven_max_in_window(successes: Iterable[Record], window: float) -> int:
    """The most successes whose whole request/response interval lies inside one window.

    Their admissions then lie inside it too, whatever the server's clock: more than ``limit``
    of them is a leak beyond doubt.
    """
    spans = sorted((r["t"], _end(r)) for r in successes)
    best = 0
    for i, (start, _) in enumerate(spans):
        best = max(best, sum(1 for s, e in spans[i:] if e < start + window))
    return best


def _first_window(records: list[Record], window: float) -> list[Record]:
    """The records that started within one window of the earliest of them."""
    if not records:
        return []
    first = min(r["t"] for r in records)
    return [r for r in records if r["t"] < first + window]


def _by_ip(records: Iterable[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(r["ip"], []).append(r)
    return out


def _count_problems(problems: Iterable[str]) -> str:
    counts = Counter(problems)
    return "; ".join(f"{p} ({n})" for p, n in counts.most_common(4))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def span_bound(limit: int, window: float, seconds: float) -> int:
    """The most admissions any sane limiter of ``limit`` per ``window`` allows within ``seconds``.

    A fixed window admits ``limit`` in each window a span touches, at most ``⌈t/W⌉ + 1`` of them;
    a sliding log ``limit`` in any W, so no more; a token bucket (capacity ``limit``, refilled
    ``limit`` per W) ``limit × (1 + t/W)``. Hence ``limit × (1 + ⌈t/W⌉)``: twice the limit
    within one window's span (../shared/NOTES.md, "Rate limiters in the wild"), and ``limit/W``
    in the long run.
    """
    return limit * (1 + math.ceil(seconds / window - 1e-9))


@dataclass(frozen=True)
class Span:
    """Successes whose whole request/response interval lies inside ``[start, start + seconds]``."""

    admitted: int
    start: float
    seconds: float
    bound: int  # span_bound() for this length

    @property
    def excess(self) -> int:
        return self.admitted - self.bound


def worst_span(successes: Iterable[Record], limit: int, window: float) -> Span | None:
    """The span whose proven admissions most exceed the bound (a leak), or come closest to it.

    Spans run from one request's start to another's end. Stops at the first start that proves a
    leak, so a server that limits nothing costs no more than one pass.
    """
    spans = sorted((r["t"], _end(r)) for r in successes)
    ends: list[float] = []  # the ends of the intervals starting at or after ``start``, sorted
    worst: Span | None = None
    for start, end in reversed(spans):
        bisect.insort(ends, end)
        for admitted, last in enumerate(ends, 1):
            seconds = last - start
            span = Span(admitted, start, seconds, span_bound(limit, window, seconds))
            if worst is None or span.excess > worst.excess:
                worst = span
        if worst is not None and worst.excess > 0:
            break
    return worst


def _no_leak(tier: Tier, records: list[Record], ips: Sequence[str]) -> Verdict:
    by_ip = _by_ip(r for r in records if _ok(r))
    spans = {ip: worst_span(by_ip.get(ip, []), tier.limit, tier.window) for ip in ips}
    leaks = {ip: span for ip, span in spans.items() if span is not None and span.excess > 0}
    if leaks:
        parts = "; ".join(
            f"{_label(ip)} admitted {s.admitted} within {s.seconds:.2f} s" for ip, s in leaks.items()
        )
        worst = max(leaks.values(), key=lambda s: s.excess)
        return Verdict(
            "no-leak",
            tier.no_leak,
            FAIL,
            f"leak: {parts}; no limiter of {tier.limit} per {tier.window:g} s admits more than "
            f"{worst.bound} in {worst.seconds:.2f} s ({tier.limit} x (1 + ceil(t/{tier.window:g} s)))",
        )
    window_max = {ip: proven_max_in_window(by_ip.get(ip, []), tier.window) for ip in ips}
    in_window = ", ".join(f"{_label(ip)} {n}" for ip, n in window_max.items())
    whole = []
    for ip in ips:
        seconds = _active_seconds(by_ip.get(ip, []))
        bound = span_bound(tier.limit, tier.window, seconds)
        whole.append(f"{_label(ip)} {len(by_ip.get(ip, []))} in {seconds:.1f} s (at most {bound})")
    return Verdict(
        "no-leak",
        tier.no_leak,
        PASS,
        f"most successes inside one {tier.window:g} s span: {in_window} (any sane limiter: at most "
        f"{2 * tier.limit}); whole run: {', '.join(whole)}",
    )


def _active_seconds(records: list[Record]) -> float:
    return max(_end(r) for r in records) - min(r["t"] for r in records) if records else 0.0


def _decided(record: Record) -> float:
    """When the server most likely decided: the middle of the request's interval."""
    return record["t"] + record["ms"] / 2000


def _pressure_runs(records: list[Record], window: float) -> list[list[Record]]:
    """One client's answered requests, split where it paused for half a window or more."""
    runs: list[list[Record]] = []
    for r in sorted(records, key=lambda r: r["t"]):
        if runs and r["t"] - runs[-1][-1]["t"] < window / 2:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


def _readmissions(run: list[Record]) -> tuple[float, float, list[list[float]]]:
    """First admission, first 429, and the successes after it grouped into uninterrupted clusters."""
    first_ok = next(_decided(r) for r in run if _ok(r))
    first_429 = next(i for i, r in enumerate(run) if r["status"] == TOO_MANY_REQUESTS)
    clusters: list[list[float]] = []
    previous_ok = False
    for r in run[first_429:]:
        if _ok(r):
            if not previous_ok:
                clusters.append([])
            clusters[-1].append(_decided(r))
        previous_ok = _ok(r)
    return first_ok, _decided(run[first_429]), clusters


def _classify_run(tier: Tier, run: list[Record]) -> tuple[str, str] | None:
    """What one throttled run says: ``(kind, evidence)``, or None when nothing was re-admitted."""
    first_ok, _, clusters = _readmissions(run)
    if not clusters:
        return None
    if len(clusters) >= 2 and all(len(c) == 1 for c in clusters):
        gap = statistics.median(b[0] - a[0] for a, b in itertools.pairwise(clusters))
        return "bucket", f"{len(clusters)} single re-admissions about every {gap:.2f} s"
    start, tolerance = clusters[0][0], tier.window / 10
    phase = start % tier.window
    on_the_clock = (
        min(phase, tier.window - phase) <= tolerance and start <= first_ok + tier.window + tolerance
    )
    a_window_later = abs(start - (first_ok + tier.window)) <= tolerance
    kind = {(True, True): "either", (True, False): "fixed", (False, True): "sliding"}.get(
        (on_the_clock, a_window_later), "other"
    )
    return kind, f"{len(clusters[0])} back at once {start - first_ok:.2f} s after the first admission"


_KINDS = {
    "fixed": "fixed window aligned to the clock (the budget came back whole on a multiple of {w} s: {e})",
    "sliding": "sliding window (the budget came back one window after it was spent: {e})",
    "either": "fixed or sliding window (the budget came back whole one window later: {e})",
    "bucket": "token bucket or GCRA ({e}; {w} s / {n} = {r} s)",
    "other": "a window with its own phase, or a sliding counter ({e})",
}


def infer_limiter(tier: Tier, records: list[Record], ip: str) -> str:
    """A guess at the algorithm from how ``ip`` was re-admitted while it kept asking (information).

    The first re-admission after a 429 tells them apart: a fixed window gives a whole budget back
    at once, on a multiple of the window on the clock and less than a window after the first
    admission; a sliding log gives it back one window after the admissions it replaces; a token
    bucket one request at a time, every ``window / limit`` seconds.
    """
    answered = [r for r in records if r["ip"] == ip and (_ok(r) or r["status"] == TOO_MANY_REQUESTS)]
    throttled = [
        run
        for run in _pressure_runs(answered, tier.window)
        if any(_ok(r) for r in run) and any(r["status"] == TOO_MANY_REQUESTS for r in run)
    ]
    if not throttled:
        return "not inferred: the limit was never reached under load"
    found = [c for c in (_classify_run(tier, run) for run in throttled) if c is not None]
    if not found:
        pressed = max(_decided(run[-1]) - _readmissions(run)[1] for run in throttled)
        return (
            f"a window of its own, fixed or sliding: nothing re-admitted within {pressed:.1f} s "
            "of the first 429"
        )
    kinds = {kind for kind, _ in found}
    if kinds == {"fixed", "either"} or kinds == {"sliding", "either"}:
        kinds -= {"either"}
    evidence = "; ".join(e for _, e in found[:2])
    if len(kinds) > 1:
        return f"not inferred: the runs disagree ({', '.join(sorted(kinds))}: {evidence})"
    w, n = f"{tier.window:g}", tier.limit
    return _KINDS[kinds.pop()].format(w=w, n=n, r=f"{tier.window / n:.2f}", e=evidence)


def _limiter(tier: Tier, records: list[Record], ips: Sequence[str]) -> Verdict:
    return Verdict("limiter", (), INFO, infer_limiter(tier, records, ips[0]))


def _primary(records: list[Record], phases: Iterable[str]) -> list[Record]:
    wanted = set(phases)
    return [r for r in records if r["role"] == "primary" and r["phase"] in wanted]


def _limit_reached(tier: Tier, records: list[Record]) -> tuple[Verdict, int]:
    bursts = {
        "first burst": _first_window(_primary(records, ("burst", "isolation")), tier.window),
        "recovery burst": _first_window(_primary(records, ("recovery",)), tier.window),
    }
    admitted = {name: sum(1 for r in rs if _ok(r)) for name, rs in bursts.items()}
    sent = {name: len(rs) for name, rs in bursts.items()}
    parts = ", ".join(f"{admitted[n]} of {sent[n]} admitted in the {n}" for n in bursts)
    first = admitted["first burst"]
    short = [n for n in bursts if admitted[n] < tier.limit]
    if not short:
        return Verdict("limit-reached", tier.limit_reached, PASS, f"{parts} (limit {tier.limit})"), first
    starved = [n for n in short if sent[n] <= tier.limit]
    if starved:
        detail = f"inconclusive, too few requests sent ({parts}): raise --users or lower --wait-time"
    else:
        detail = f"over-throttled: {parts} (limit {tier.limit})"
    return Verdict("limit-reached", tier.limit_reached, FAIL, detail), first


def _well_formed(records: list[Record]) -> Verdict:
    reqs = ("RATE-RETRY-1", "HDR-RATE-1", "ERR-TYPE-1")
    rejected = [r for r in records if r["status"] == TOO_MANY_REQUESTS]
    latencies = [r["ms"] for r in rejected]
    timing = f"latency p50 {_ms(percentile(latencies, 50))}, p99 {_ms(percentile(latencies, 99))}"
    waits = [int(v) for r in rejected if (v := r["headers"].get("retry-after", "").strip()).isdigit()]
    if waits:
        timing += f"; Retry-After {min(waits)}-{max(waits)} s"
    if not rejected:
        return Verdict("well-formed-429", reqs, SKIP, "no 429 observed")
    must = [p for r in rejected for p in envelope_problems(r["body"])]
    should = [p for r in rejected for p in advisory_problems(r["headers"])]
    bad = sum(1 for r in rejected if envelope_problems(r["body"]) or advisory_problems(r["headers"]))
    if must or should:
        status = FAIL if must else WARN
        detail = f"{bad}/{len(rejected)} malformed: {_count_problems(must + should)}; {timing}"
        return Verdict("well-formed-429", reqs, status, detail)
    return Verdict("well-formed-429", reqs, PASS, f"{len(rejected)}/{len(rejected)} well-formed; {timing}")


def _headers_match(tier: Tier, records: list[Record]) -> Verdict:
    answered = [r for r in records if r["status"] in (TOO_MANY_REQUESTS,) or _ok(r)]
    problems = [p for r in answered for p in header_mismatches(r["headers"], r["status"], limit=tier.limit)]
    missing = sum(1 for r in answered if _ok(r) and any(h not in r["headers"] for h in RATE_HEADERS))
    if missing:
        problems += ["x-ratelimit-* missing on a success"] * missing
    if problems:
        return Verdict("headers-match-tier", ("HDR-RATE-1",), WARN, _count_problems(problems))
    if not answered:
        return Verdict("headers-match-tier", ("HDR-RATE-1",), SKIP, "no response")
    return Verdict(
        "headers-match-tier", ("HDR-RATE-1",), PASS, f"limit {tier.limit} advertised on every response"
    )


def _healthy(records: list[Record]) -> Verdict:
    reqs = ("ERR-5XX-1",)
    problems: list[str] = []
    for r in records:
        if r["status"] == 0:
            problems.append(f"no response: {r['error']}")
        elif r["status"] >= 500:
            problems.append(f"{r['status']}")
        elif r["error"]:
            problems.append(r["error"])
        elif not _ok(r) and r["status"] != TOO_MANY_REQUESTS:
            problems.append(f"unexpected {r['status']}")
    if problems:
        return Verdict("healthy", reqs, FAIL, f"{len(problems)} bad responses: {_count_problems(problems)}")
    return Verdict("healthy", reqs, PASS, f"{len(records)} responses, all 2xx or 429")


def _recovery(tier: Tier, records: list[Record]) -> Verdict:
    before = [r for r in _primary(records, ("burst", "isolation")) if _ok(r)]
    after = sorted(_primary(records, ("recovery",)), key=lambda r: r["t"])
    if not after:
        return Verdict("recovery", ("RATE-RECOVER-1",), FAIL, "no request in the recovery phase")
    first = after[0]
    waited = (
        f"{first['t'] - max(_end(r) for r in before):.1f} s after its last admission"
        if before
        else "after the wait"
    )
    if not _ok(first):
        admitted = sum(1 for r in after if _ok(r))
        return Verdict(
            "recovery",
            ("RATE-RECOVER-1",),
            FAIL,
            f"first request {waited} got {first['status'] or first['error']}; {admitted} admitted later",
        )
    return Verdict("recovery", ("RATE-RECOVER-1",), PASS, f"admitted again {waited}")


def _isolation(tier: Tier, records: list[Record], ips: Sequence[str], primary_budget: int) -> Verdict:
    if len(ips) < 2:
        return Verdict("isolation", tier.isolation, SKIP, "one source address: give --source-ips two or more")
    during = [r for r in records if r["phase"] == "isolation"]
    throttled = any(r["role"] == "primary" and r["status"] == TOO_MANY_REQUESTS for r in during)
    others = {ip: sum(1 for r in during if r["ip"] == ip and _ok(r)) for ip in ips[1:]}
    expected = min(tier.limit, primary_budget)
    parts = ", ".join(f"{_label(ip)} {n}" for ip, n in others.items())
    if not throttled:
        return Verdict(
            "isolation", tier.isolation, SKIP, f"inconclusive: {_label(ips[0])} was not throttled ({parts})"
        )
    if all(n >= expected for n in others.values()):
        return Verdict(
            "isolation",
            tier.isolation,
            PASS,
            f"while {_label(ips[0])} was throttled, admitted: {parts} (own budget {expected})",
        )
    primary = _label(ips[0])
    detail = (
        f"budget shared with {primary}: while it was throttled only {parts} admitted (expected {expected})"
    )
    if tier.isolation_level == "MAY":
        return Verdict("isolation", tier.isolation, INFO, detail + "; per key or organization is conformant")
    return Verdict("isolation", tier.isolation, FAIL, detail)


def _figures(records: list[Record]) -> Figures:
    rejected = [r["ms"] for r in records if r["status"] == TOO_MANY_REQUESTS]
    admitted = [r["ms"] for r in records if _ok(r)]
    seconds = (max(_end(r) for r in records) - min(r["t"] for r in records)) if records else 0.0
    return Figures(
        requests=len(records),
        by_status=dict(sorted(Counter(r["status"] for r in records).items())),
        by_op=dict(sorted(Counter(r["op"] for r in records).items())),
        seconds=seconds,
        p50_429_ms=percentile(rejected, 50),
        p99_429_ms=percentile(rejected, 99),
        max_429_ms=max(rejected) if rejected else None,
        p99_ok_ms=percentile(admitted, 99),
    )


def analyse(tier: Tier, records: list[Record], ips: Sequence[str]) -> TierReport:
    """``tier`` carries the declared limit and window; ``ips`` the source addresses, primary first."""
    ips = tuple(ips) or ("",)
    limit_reached, primary_budget = _limit_reached(tier, records)
    verdicts = [
        _no_leak(tier, records, ips),
        limit_reached,
        _well_formed(records),
        _headers_match(tier, records),
        _healthy(records),
        _recovery(tier, records),
        _isolation(tier, records, ips, primary_budget),
        _limiter(tier, records, ips),
    ]
    notes: list[str] = []
    unknown = sorted({r["ip"] for r in records} - set(ips))
    if unknown:
        notes.append(f"records from unexpected source addresses: {unknown}")
    return TierReport(tier, ips, verdicts, _figures(records), notes)
