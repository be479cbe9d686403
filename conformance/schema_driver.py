"""The one schemathesis driver both profiles run: cases generated from a profile's document are
sent through the run's recording session, validated by schemathesis's response checks, and handed
to the profile's judge (``SchemaJudge``), which knows what the documents demand of each answer.

The driver knows how to generate and send (the spec's own request examples, coverage cases,
positive and negative hypothesis runs, the stateful run that follows the spec's links); the judge
knows which requirement a schemathesis failure breaks, which ids to put in a generated case, and
whether an answer conforms.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from conformance.common import example_settings
from conformance.context import Context
from conformance.errors import HarnessError, Skip, TargetUnreachable, UnsendableRequest
from conformance.exchange import Exchange

__all__ = ["SchemaDriver", "SchemaJudge", "operation_id"]


def operation_id(case_or_operation: Any) -> str:
    operation = getattr(case_or_operation, "operation", case_or_operation)
    return str(operation.definition.raw.get("operationId", ""))


class SchemaJudge:
    """A profile's side of the driver. Every hook has a neutral default."""

    # schemathesis's response checks the driver runs on every answer (response bodies may be
    # judged field by field by the profile's response checks instead).
    checks: tuple[Any, ...] = (not_a_server_error, status_code_conformance, content_type_conformance)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.driver: SchemaDriver | None = None  # set by the driver that runs this judge

    def prepare(self, case: Any) -> None:
        """Adjust a generated case before it is sent (e.g. point its ids at real resources)."""

    @contextmanager
    def scope(self, case: Any) -> Iterator[None]:
        """Wrapped around the judging of one answer (e.g. re-attribute an operation's failures)."""
        yield

    def observe(self, case: Any, exchange: Exchange) -> None:
        """Track what an answer changed on the server (created or deleted resources)."""

    def map_failure(self, case: Any, exchange: Exchange, failure: Exception) -> str | None:
        """The requirement a schemathesis failure breaks; None when it breaks none."""
        return None

    def judge_credentials(self, case: Any, exchange: Exchange, sent: str | None) -> None:
        """A negative case whose credentials were dropped or mangled (``sent``) got this answer."""

    def judge(self, case: Any, exchange: Exchange) -> None:
        """An answer to a case sent with the run's credentials: did the server treat it right?"""


class SchemaDriver:
    """Sends generated cases of one loaded schema and has ``judge`` judge every answer."""

    def __init__(self, ctx: Context, schema: Any, judge: SchemaJudge) -> None:
        self.ctx = ctx
        self.schema = schema
        self.schema.config.update(base_url=ctx.target.base_url)
        self.judge = judge
        judge.driver = self
        self.headers = {"Authorization": f"Bearer {ctx.target.api_key}"}
        self.cases = 0  # answered
        self.unsendable = 0  # generated requests the HTTP client refused to put on the wire
        self.examples: list[Any] = []  # the cases built from the document's own request examples

    def operations(self) -> Iterator[Any]:
        for result in self.schema.get_all_operations():
            if not isinstance(result, Ok):
                raise Skip(f"the spec has an operation schemathesis cannot use: {result.err()}")
            yield result.ok()

    # -- sending ------------------------------------------------------------------------------------
    def send(self, case: Any) -> None:
        self.ctx.check_time()
        self.judge.prepare(case)
        try:
            response = case.call(session=self.ctx.client.session, headers=self.headers)
        except UnsendableRequest:
            self.unsendable += 1
            return
        exchange = self.ctx.client.last
        if exchange is None:
            return
        self.cases += 1
        self.evaluate(case, response, exchange)

    def evaluate(self, case: Any, response: Any, exchange: Exchange) -> None:
        judge = self.judge
        with judge.scope(case):
            judge.observe(case, exchange)
            try:
                case.validate_response(response, checks=list(judge.checks), headers=self.headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    rid = judge.map_failure(case, exchange, failure)
                    if rid is not None:
                        self.ctx.fail(rid, describe(failure), exchange)
            sent = exchange.request_header("authorization")
            if sent != self.headers["Authorization"]:
                judge.judge_credentials(case, exchange, sent)
            else:
                judge.judge(case, exchange)

    # -- what to send -------------------------------------------------------------------------------
    def run_examples(self, operation: Any, path_parameters: dict[str, str] | None = None) -> None:
        """The document's own request examples (a documented request must be accepted)."""
        raw = operation.definition.raw
        content = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
        for example in (content.get("examples") or {}).values():
            if self.ctx.out_of_time() or "value" not in example:
                return
            case = operation.Case(
                body=copy.deepcopy(example["value"]),
                media_type="application/json",
                path_parameters=path_parameters,
            )
            self.examples.append(case)
            self.send(case)

    def is_example(self, case: Any) -> bool:
        return any(case is example for example in self.examples)

    def coverage_cases(self, operation: Any) -> list[Any]:
        """schemathesis's coverage cases (boundaries, wrong types, missing fields) of ``operation``."""
        config = self.schema.config.generation_for(operation=operation)
        return [
            case
            for case in self.schema.iter_coverage_cases(
                operation,
                generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                generation_config=config,
            )
            if case.method.upper() == operation.method.upper()
        ]

    def run_generated(self, operation: Any, mode: GenerationMode) -> None:
        """Hypothesis-generated cases of ``mode``: the run's example budget, seeded."""
        ctx = self.ctx

        @example_settings(ctx)
        @given(operation.as_strategy(generation_mode=mode))
        def test(case: Any) -> None:
            if not ctx.out_of_time():
                self.send(case)

        test()

    def run_stateful(self) -> str | None:
        """Follow the document's links (create → retrieve → modify → delete); returns why the phase
        stopped early, if it did (the earlier phases' findings stand)."""
        ctx, driver = self.ctx, self
        base = self.schema.as_state_machine()

        class Machine(base):  # type: ignore[valid-type,misc]
            def call(self, case: Any, **kwargs: Any) -> Any:
                driver.judge.prepare(case)
                return case.call(session=ctx.client.session, headers=driver.headers)

            def validate_response(
                self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
            ) -> None:
                exchange = ctx.client.last
                if exchange is not None:
                    driver.evaluate(case, response, exchange)

        from schemathesis.generation.stateful import run_state_machine_as_test

        if ctx.out_of_time():
            return None
        try:
            run_state_machine_as_test(
                Machine,
                settings=settings(
                    max_examples=max(1, ctx.config.max_examples // 2),
                    stateful_step_count=6,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate],
                    derandomize=ctx.config.seed is not None,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except (TargetUnreachable, Skip):
            raise
        except (HarnessError, Exception) as exc:
            # A scenario the client cannot replay (hypothesis's flaky-replay check once the server's
            # state moved on, an unsendable generated request) ends this phase, not the run.
            return f"the stateful phase stopped early: {type(exc).__name__}: {str(exc)[:160]}"
        return None


def describe(failure: Exception) -> str:
    title = getattr(failure, "title", type(failure).__name__)
    return f"schemathesis: {title}: {str(getattr(failure, 'message', failure)).strip()[:240]}"
