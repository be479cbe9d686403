"""The one schemathesis driver, on a document of neither profile: it sends the document's example,
coverage and generated cases through the run's session, hands schemathesis's failures to the
judge's mapping, and generates the same cases for the same seed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from schemathesis import GenerationMode

from conformance.client import HttpClient
from conformance.config import RunConfig, Target
from conformance.context import Context, Evidence
from conformance.exchange import Exchange
from conformance.results import Kind
from conformance.schema_driver import SchemaDriver, SchemaJudge
from mockserver.background import BackgroundServer

THING = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 8}},
    "additionalProperties": False,
}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "things", "version": "1"},
    "paths": {
        "/v1/things": {
            "post": {
                "operationId": "createThing",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": THING,
                            "examples": {"documented": {"value": {"name": "lamp"}}},
                        }
                    },
                },
                "responses": {
                    "200": {"description": "made", "content": {"application/json": {"schema": THING}}},
                    "400": {"description": "refused", "content": {"application/json": {"schema": {}}}},
                },
            }
        }
    },
}


def _app() -> web.Application:
    async def create(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "not json"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return web.json_response({"error": "bad"}, status=400)
        if body["name"] == "boom":
            return web.json_response({"error": "crashed"}, status=500)
        return web.json_response({"name": body["name"][:8] or "x"})

    app = web.Application()
    app.router.add_post("/v1/things", create)
    return app


class RecordingJudge(SchemaJudge):
    def __init__(self, ctx: Context, rename_to: str | None = None) -> None:
        super().__init__(ctx)
        self.rename_to = rename_to
        self.prepared: list[Any] = []
        self.judged: list[tuple[Any, int]] = []
        self.failures: list[str] = []

    def prepare(self, case: Any) -> None:
        self.prepared.append(case)
        if self.rename_to is not None and isinstance(case.body, dict):
            case.body["name"] = self.rename_to

    def map_failure(self, case: Any, exchange: Exchange, failure: Exception) -> str | None:
        self.failures.append(type(failure).__name__)
        return "THING-5XX" if type(failure).__name__ == "ServerError" else None

    def judge(self, case: Any, exchange: Exchange) -> None:
        self.judged.append((case, exchange.status))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with BackgroundServer(_app) as server:
        yield server.url


def _driver(url: str, judge_factory: Any, seed: int = 7) -> tuple[SchemaDriver, Any, Context]:
    target = Target(url, "sk-things", pace=False)
    ctx = Context(RunConfig(target=target, max_examples=6, seed=seed), HttpClient(target), Evidence())
    judge = judge_factory(ctx)
    return SchemaDriver(ctx, schemathesis.openapi.from_dict(DOCUMENT), judge), judge, ctx


def test_the_documents_example_is_sent_prepared_judged_and_known_as_the_example(url: str) -> None:
    driver, judge, _ = _driver(url, RecordingJudge)
    (operation,) = driver.operations()
    driver.run_examples(operation)
    assert [case.body for case, _ in judge.judged] == [{"name": "lamp"}]
    assert judge.judged[0][1] == 200
    assert judge.prepared == [judge.judged[0][0]]
    assert driver.is_example(judge.judged[0][0])


def test_a_schemathesis_failure_is_filed_under_the_judges_requirement(url: str) -> None:
    driver, judge, ctx = _driver(url, lambda ctx: RecordingJudge(ctx, rename_to="boom"))
    (operation,) = driver.operations()
    driver.run_examples(operation)
    assert "ServerError" in judge.failures
    failed = [f for f in ctx.evidence.findings if f.kind is Kind.FAIL]
    assert [f.requirement for f in failed] == ["THING-5XX"]
    assert failed[0].reproduction and "curl" in failed[0].reproduction


def test_a_correct_answer_fails_nothing(url: str) -> None:
    driver, judge, ctx = _driver(url, RecordingJudge)
    (operation,) = driver.operations()
    for case in driver.coverage_cases(operation)[:10]:
        driver.send(case)
    driver.run_generated(operation, GenerationMode.POSITIVE)
    assert driver.cases == len(judge.judged) > 0
    assert not [f for f in ctx.evidence.findings if f.kind is Kind.FAIL]


def test_the_same_seed_sends_the_same_cases(url: str) -> None:
    bodies = []
    for _ in range(2):
        driver, judge, _ = _driver(url, RecordingJudge, seed=11)
        (operation,) = driver.operations()
        driver.run_generated(operation, GenerationMode.NEGATIVE)
        bodies.append([repr(case.body) for case, _ in judge.judged])
    assert bodies[0] == bodies[1]
    assert bodies[0]
