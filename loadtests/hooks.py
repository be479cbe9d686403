"""Locust event listeners shared by the locustfiles: options, phase broadcast, record shipping.

Importing this module registers the listeners on ``locust.events`` once per process.

- ``--ragen-scenario`` (JSON of ``loadtests.scenario.Scenario``), ``--ragen-api-key`` (or
  ``RAGEN_LOAD_API_KEY``) and ``--ragen-records`` (where the master writes the records). Locust
  forwards custom options from the master to its workers with every spawn message.
- The shape runs on the master (or the local runner) and announces each phase with a custom
  ``ragen_phase`` message; users read it to tag their records and to pick their role.
- Workers drain their records into every ``report_to_master``; the master collects them in
  ``worker_report`` and writes them all when quitting.
"""

# Locust's EventHook.add_listener is unannotated.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import functools
import itertools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.rpc import Message
from locust.runners import MasterRunner, Runner, WorkerRunner

from loadtests.records import RecordLog, write_records
from loadtests.scenario import Scenario

__all__ = ["PHASE_MESSAGE", "STATE", "api_key_of", "scenario_of"]

PHASE_MESSAGE = "ragen_phase"


@dataclass
class _State:
    """Per-process state of a run (each worker process has its own)."""

    phase: str = "burst"
    log: RecordLog = field(default_factory=RecordLog)
    phase_starts: dict[str, float] = field(default_factory=dict)
    secondary: itertools.count[int] = field(default_factory=itertools.count)
    reports: int = 0  # worker reports received (master)

    def reset(self) -> None:
        self.phase = "burst"
        self.log.clear()
        self.phase_starts.clear()
        self.secondary = itertools.count()
        self.reports = 0


STATE = _State()


@functools.cache
def _parse(text: str) -> Scenario:
    return Scenario.from_json(text)


def scenario_of(environment: Environment) -> Scenario:
    options = environment.parsed_options
    text = getattr(options, "ragen_scenario", None) if options is not None else None
    if not text:
        raise RuntimeError("this locustfile is run by ragen-load (--ragen-scenario is missing)")
    return _parse(text)


def api_key_of(environment: Environment) -> str:
    options = environment.parsed_options
    return (getattr(options, "ragen_api_key", None) if options is not None else None) or os.environ.get(
        "RAGEN_LOAD_API_KEY", ""
    )


def progress(line: str) -> None:
    """Progress lines go to stderr with a prefix ragen-load echoes."""
    print(f"[ragen-load] {line}", file=sys.stderr, flush=True)


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--ragen-scenario", default="", include_in_web_ui=False, help="JSON scenario")
    parser.add_argument(
        "--ragen-api-key",
        default="",
        env_var="RAGEN_LOAD_API_KEY",
        include_in_web_ui=False,
        help="bearer key (prefer the RAGEN_LOAD_API_KEY environment variable)",
    )
    parser.add_argument(
        "--ragen-records", default="", include_in_web_ui=False, help="JSON lines output (master)"
    )


def _on_phase(environment: Environment, msg: Message, **_: Any) -> None:
    STATE.phase = str(msg.data["phase"])


def _init(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    STATE.reset()
    if runner is not None and not isinstance(runner, MasterRunner):
        runner.register_message(PHASE_MESSAGE, _on_phase)


def _report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data["ragen_records"] = STATE.log.drain()


def _collect(client_id: str, data: dict[str, Any], **_: Any) -> None:
    STATE.log.extend(data.get("ragen_records") or [])
    STATE.reports += 1


def _write(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    options = environment.parsed_options
    target = getattr(options, "ragen_records", "") if options is not None else ""
    if target:
        meta = {
            "written": time.time(),
            "phase_starts": dict(STATE.phase_starts),
            "workers": getattr(options, "expect_workers", 0)
            if isinstance(environment.runner, MasterRunner)
            else 0,
            "worker_reports": STATE.reports,
        }
        write_records(Path(target), meta, STATE.log.records)
    # The verdicts are ragen-load's; Locust's own exit code would only echo its failure count.
    environment.process_exit_code = 0


events.init_command_line_parser.add_listener(_options)
events.init.add_listener(_init)
events.report_to_master.add_listener(_report)
events.worker_report.add_listener(_collect)
events.quitting.add_listener(_write)
