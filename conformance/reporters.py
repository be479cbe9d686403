"""Reporters: the terminal table, JUnit XML, JSON, and the progress line. Only these print."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree as ET

from conformance.results import Kind, Report, Verdict, VerdictKind
from conformance.runner import Progress

__all__ = ["ProgressPrinter", "terminal", "write_json", "write_junit"]

_MARK = {
    VerdictKind.PASS: "pass",
    VerdictKind.FAIL: "FAIL",
    VerdictKind.WARN: "warn",
    VerdictKind.INFO: "info",
    VerdictKind.SKIP: "skip",
    VerdictKind.UNOBSERVED: "n/obs",
    VerdictKind.ERROR: "ERROR",
}
# Rows only this vendor's document states: a server can be OpenAI-compatible and still fail them.
VENDOR_LABEL = "[vendor table]"


def _level(verdict: Verdict) -> str:
    return f"{verdict.level}*" if verdict.vendor_specific else verdict.level


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def terminal(
    report: Report, out: TextIO | None = None, *, width: int | None = None, verbose: bool = False
) -> None:
    out = out or sys.stdout
    width = width or max(100, shutil.get_terminal_size((120, 20)).columns)
    idw = max(len(v.requirement) for v in report.verdicts) if report.verdicts else 12
    reason_w = max(30, width - idw - 16)
    print(f"ragen-conformance against {report.base_url}", file=out)
    print(f"{'REQUIREMENT':<{idw}}  {'LEVEL':<6}  {'VERDICT':<7}  REASON", file=out)
    for v in report.verdicts:
        print(
            f"{v.requirement:<{idw}}  {_level(v):<6}  {_MARK[v.verdict]:<7}  {_one_line(v.reason, reason_w)}",
            file=out,
        )
    if any(v.vendor_specific for v in report.verdicts):
        print(
            f"\n* {VENDOR_LABEL}: a row only this vendor's document states, not an OpenAI convention",
            file=out,
        )
    problems = [
        v for v in report.verdicts if v.verdict in (VerdictKind.FAIL, VerdictKind.WARN, VerdictKind.ERROR)
    ]
    if problems:
        print("\nDetails and reproductions:", file=out)
    for v in problems:
        label = f" {VENDOR_LABEL}" if v.vendor_specific else ""
        print(f"\n{_MARK[v.verdict]} {v.requirement} ({v.level}){label}: {v.text}", file=out)
        for f in v.findings:
            if f.kind not in (Kind.FAIL, Kind.ERROR):
                continue
            where = f" [{f.operation}]" if f.operation else ""
            print(f"  - {f.check}{where}: {_one_line(f.message, 400)}", file=out)
            if f.reproduction:
                print(f"    reproduce: {f.reproduction}", file=out)
    for error in report.harness_errors:
        print(f"\nerror: {error}", file=out)
    if report.incomplete:
        ids = ", ".join(v.requirement for v in report.incomplete)
        allowed = " (allowed by --allow-incomplete)" if report.allow_incomplete else ""
        print(f"\nincomplete{allowed}: MUST rules not checked for a missing input: {ids}", file=out)
    counts = ", ".join(f"{report.count(k)} {k.value}" for k in VerdictKind if report.count(k))
    verdict = {0: "CONFORMANT", 1: "VIOLATIONS", 2: "INCOMPLETE" if _only_incomplete(report) else "ERROR"}[
        report.exit_code
    ]
    strict = " (strict: warnings fail)" if report.strict else ""
    tiers = ", ".join(f"{t} {n}" for t, n in sorted(report.requests_by_tier.items()) if t != "-")
    print(
        f"\n{verdict}{strict}: {counts}; {report.requests} requests ({tiers}) in {report.duration:.1f}s"
        f" (paced {report.paced_seconds:.1f}s); seed {report.seed if report.seed is not None else 'none'}",
        file=out,
    )


def _only_incomplete(report: Report) -> bool:
    return not report.harness_errors and not report.count(VerdictKind.ERROR) and bool(report.incomplete)


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_junit(report: Report, path: str | Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="ragen-conformance",
        tests=str(len(report.verdicts)),
        failures=str(len(report.violations)),
        errors=str(report.count(VerdictKind.ERROR)),
        skipped=str(report.count(VerdictKind.SKIP) + report.count(VerdictKind.UNOBSERVED)),
        time=f"{report.duration:.3f}",
    )
    for v in report.verdicts:
        scope = ".vendor" if v.vendor_specific else ""
        case = ET.SubElement(suite, "testcase", classname=f"ragen.{v.level}{scope}", name=v.requirement)
        details = "\n".join(
            f"{f.check} [{f.operation}]: {f.message}"
            + (f"\nreproduce: {f.reproduction}" if f.reproduction else "")
            for f in v.findings
            if f.kind in (Kind.FAIL, Kind.ERROR)
        )
        if v.verdict is VerdictKind.FAIL or (v.verdict is VerdictKind.WARN and report.strict):
            ET.SubElement(
                case, "failure", message=f"{v.requirement}: {v.reason}"[:500], type=v.level
            ).text = details
        elif v.verdict is VerdictKind.ERROR:
            ET.SubElement(case, "error", message=v.reason[:500]).text = details
        elif v.verdict in (VerdictKind.SKIP, VerdictKind.UNOBSERVED):
            prefix = "not observed: " if v.verdict is VerdictKind.UNOBSERVED else ""
            ET.SubElement(case, "skipped", message=(prefix + v.reason)[:500])
        else:
            ET.SubElement(case, "system-out").text = f"{v.verdict.value}: {v.reason}\n{details}".strip()
    for error in report.harness_errors:
        case = ET.SubElement(suite, "testcase", classname="ragen.harness", name="harness")
        ET.SubElement(case, "error", message=error[:500])
    ET.ElementTree(suite).write(str(path), encoding="utf-8", xml_declaration=True)


class ProgressPrinter:
    """``[ 5/31] chat_rejects_out_of_range … 12 requests, 4.1s elapsed, ETA 20s`` on stderr."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    def __call__(self, event: Progress) -> None:
        eta = f", ETA {event.eta:.0f}s" if event.eta is not None else ""
        if event.kind == "start":
            line = (
                f"[{event.index:>2}/{event.total}] {event.check} … {event.requests} requests, "
                f"{event.elapsed:.1f}s elapsed{eta}"
            )
        elif event.kind == "wait":
            line = f"        {event.check}: {event.detail}"
        else:
            return
        print(line, file=self.out, flush=True)
