"""Schema conformance driven by spec/openapi.yaml through schemathesis 4.x.

Per operation, positive and negative cases are generated, sent through the run's paced session
and judged by schemathesis's response checks (status codes, content types, headers, response
schemas incl. SSE via ``itemSchema``) plus our own acceptance rules; then a stateful run follows
the spec's links (create → retrieve → modify → delete).

Acceptance rules never raise a false alarm on a correct server's free choices: an invalid field
only has to be rejected where a requirement says so (otherwise ignoring it is fine); a valid
request may get 404 for an unknown id, 400 for the MAY points (unknown fields, no user message,
stream_options without stream, bad cursors, context length, self-delete) and 413 for size.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from ragen_spec import SPEC_PATH, load_spec, mandates, requirements, resolve
from ragen_spec.operations import operations
from ragen_spec.request_rules import RequestViolation, request_violations
from ragen_spec.request_rules import request_schemas as _request_schemas
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import MalformedJson, ServerError
from schemathesis.openapi.checks import (
    JsonSchemaError,
    MissingContentType,
    MissingHeaders,
    UndefinedContentType,
    UndefinedStatusCode,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    status_code_conformance,
)

from conformance.context import Context, brief
from conformance.exchange import Exchange
from conformance.profiles.ragen.calls import create_assistant
from conformance.profiles.ragen.registry import check
from conformance.schema_driver import SchemaDriver, SchemaJudge, operation_id

__all__ = ["RequestViolation", "request_violations"]


def _operation_rules(key: str) -> dict[str, str]:
    """operationId -> the requirement the spec names under ``key`` on the operation."""
    return {op.operation_id: op.raw[key] for op in operations() if key in op.raw}


# The requirement a wrong answer to a valid request of each operation breaks, and the one a schema
# problem of its 2xx body falls under (both declared on the operations in the spec).
PRIMARY = _operation_rules("x-requirement-for-answer")
RESPONSE_SCHEMA = _operation_rules("x-requirement-for-response-schema")
# What this check may report: the rejections the spec's annotations demand, the operations' own
# rules, auth probes, and the free choices (MAY) a rejection of a valid request is filed under.
SCHEMA_IDS = tuple(
    dict.fromkeys(
        [
            "ERR-5XX-1",
            "ERR-BODY-1",
            "AUTH-1",
            "AUTH-2",
            "AUTH-3",
            *sorted({rid for _, rid in mandates.annotated(load_spec())}),
            *sorted(set(PRIMARY.values()) | set(RESPONSE_SCHEMA.values())),
            "AUTH-ORDER-1",
            "REQ-EDGE-1",
            "ERR-BODY-2",
            "ASST-REQ-1",
            "ASST-REQ-3",
            "ASST-MODIFY-5",
            "CHAT-REQ-6",
        ]
    )
)


def _unknown_fields(body: Any, schema: dict[str, Any] | None) -> bool:
    """Whether ``body`` carries a field the spec does not define (at any depth of known objects)."""
    if not isinstance(body, dict) or schema is None:
        return False
    schema = resolve(schema)
    props = schema.get("properties")
    if props is None:
        return False
    for key, value in body.items():
        if key not in props:
            return True
        sub = resolve(props[key])
        if isinstance(value, list) and "items" in sub:
            if any(_unknown_fields(v, sub["items"]) for v in value):
                return True
        elif isinstance(value, dict):
            branches = [resolve(b) for b in sub.get("oneOf", sub.get("anyOf", [sub]))]
            if any(b.get("properties") for b in branches) and all(
                _unknown_fields(value, b) for b in branches if b.get("properties")
            ):
                return True
    return False


def _tolerated(
    ctx: Context, operation_id: str, case: Any, exchange: Exchange, deleted: set[str | None]
) -> tuple[str, str] | None:
    """Which free choice (the MAY requirement and what the server chose) explains a non-2xx answer
    to a request valid under the schema; None when the answer is not a rejection at all."""
    error = exchange.error or {}
    status = exchange.status
    body = case.body if isinstance(case.body, dict) else {}
    if status == 413:
        return "ERR-SIZE-1", "a body size limit"
    if status in (400, 415) and not _json_media(exchange):
        return "ERR-BODY-2", "JSON under another content type is rejected"
    if status == 429:
        return "RATE-COUNT-1", "rate limited while fuzzing"
    cursor = bool(case.query and {"after", "before"} & set(case.query))
    if operation_id == "listAssistants" and cursor and status in (400, 404):
        return "ASST-LIST-4", f"an unknown cursor gets {status}"
    if status == 404 and error.get("type") == "not_found_error":
        ids = [
            case.path_parameters.get("assistant_id") if case.path_parameters else None,
            body.get("assistant_id"),
        ]
        known = {ctx.target.assistant_id, *ctx.created} - deleted
        if any(isinstance(i, str) and i not in known for i in ids) or operation_id in (
            "getAssistant",
            "deleteAssistant",
        ):
            return "REQ-EDGE-1", "an unknown assistant id gets 404"
        if operation_id == "createNativeChat" and "assistant_id" not in body:
            return "REQ-EDGE-1", "no bound assistant"
    if status != 400:
        return None
    if error.get("code") == "context_length_exceeded":
        return "CHAT-LEN-3", "a prompt over the context length"
    if operation_id == "createChatCompletion":
        messages = body.get("messages") or []
        if not any(isinstance(m, dict) and m.get("role") == "user" for m in messages):
            return "CHAT-REQ-8", "a conversation without a user message is rejected"
        if body.get("stream_options") is not None and body.get("stream") is not True:
            return "CHAT-REQ-7", "stream_options without stream is rejected"
    if operation_id == "deleteAssistant":
        return "ASST-DEL-2", "self-delete protection"
    assistants = operation_id.endswith("Assistant") or operation_id == "listAssistants"
    if operation_id in ("modifyAssistant", "patchAssistant") and case.body is NOT_SET:
        return "ASST-MODIFY-5", "a modify without a body is rejected"
    schemas = _request_schemas().get(operation_id, {})
    if _unknown_fields(case.body, schemas.get("body")):
        return ("ASST-REQ-1" if assistants else "CHAT-REQ-6"), "unknown fields are rejected"
    if case.query and set(case.query) - set(schemas.get("query", {})):
        return "ASST-REQ-3" if assistants else "REQ-EDGE-1", "unknown query parameters are rejected"
    param = error.get("param")
    edge = f"an edge value{f' of {param!r}' if param else ''} is rejected"
    return ("ASST-REQ-3" if assistants else "REQ-EDGE-1"), edge


def _json_media(exchange: Exchange) -> bool:
    sent = exchange.request_header("content-type") or ""
    return not sent or "json" in sent


def _map_failure(operation_id: str, exchange: Exchange, failure: Any) -> str | None:
    """The requirement a schemathesis failure breaks; None when no requirement is broken by it."""
    if isinstance(failure, ServerError):
        return "ERR-5XX-1"
    is_error = exchange.status >= 400
    if isinstance(failure, UndefinedStatusCode):
        # An error status the operation does not list (405, 409, 422, ...) breaks no rule by itself
        # (ERR-TYPE-1 covers only the documented statuses): whether the request deserved a 2xx or a
        # 400 is judged below, against the requirement the request's content falls under.
        return None if is_error else PRIMARY.get(operation_id, "ERR-TYPE-1")
    if isinstance(failure, MissingHeaders | JsonSchemaError) and "header" in str(failure.title).lower():
        if exchange.status == 429:
            return "RATE-RETRY-1"
        return "HDR-RATE-1"
    if isinstance(failure, UndefinedContentType | MissingContentType | MalformedJson | JsonSchemaError):
        if is_error:
            return None  # the envelope of every error answer is judged by error_has_envelope itself
        if operation_id == "createChatCompletion" and "event-stream" in exchange.content_type:
            return "CHAT-STREAM-2"
        return RESPONSE_SCHEMA.get(operation_id, "ERR-ENV-1")
    return None if is_error else PRIMARY.get(operation_id, "ERR-5XX-1")


@contextmanager
def _attribute_to(ctx: Context, requirement: str) -> Iterator[None]:
    """Re-attribute the failures recorded inside to ``requirement`` (the response checks keep theirs)."""
    ctx.redirect = requirement
    try:
        yield
    finally:
        ctx.redirect = None


def _bucket(violation: RequestViolation) -> str:
    """The requirement and the field (array indexes dropped) a mandated rejection is about."""
    field = "/".join(p for p in violation.where.split("/") if not p.isdigit())
    return f"{violation.requirement}:{field}"


class RagenSchemaJudge(SchemaJudge):
    """The Ragen profile's side of the schemathesis driver: real ids in generated cases, and which
    requirement (or free choice) an answer to each case falls under."""

    # Response bodies are judged by the response checks (responses.py), field by field
    # against the requirement each belongs to; schemathesis judges statuses, content types, headers.
    checks = (
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.scratch: str | None = None  # an assistant this run created, for modify cases
        self.deleted: set[str | None] = set()

    def ensure_scratch(self) -> None:
        if self.scratch is None:
            created = create_assistant(self.ctx, {"name": "Conformance schema scratch"}).json()
            if isinstance(created, dict) and isinstance(created.get("id"), str):
                self.scratch = created["id"]

    def prepare(self, case: Any) -> None:
        """Point generated ids at real ones, so a valid case exercises the happy path."""
        ctx, op_id = self.ctx, operation_id(case)
        if (
            isinstance(case.body, dict)
            and isinstance(case.body.get("assistant_id"), str)
            and ctx.target.assistant_id
            and op_id in ("createChatCompletion", "createNativeChat")
        ):
            case.body["assistant_id"] = ctx.target.assistant_id
        if case.path_parameters and "assistant_id" in case.path_parameters:
            current = case.path_parameters["assistant_id"]
            if current in ctx.created or current in self.deleted:
                return
            if op_id == "getAssistant" and ctx.target.assistant_id and str(current).startswith("asst-0"):
                case.path_parameters["assistant_id"] = ctx.target.assistant_id
            elif op_id in ("modifyAssistant", "patchAssistant") and self.scratch:
                case.path_parameters["assistant_id"] = self.scratch
            elif op_id != "getAssistant":
                # Never modify or delete anything this run did not create.
                case.path_parameters["assistant_id"] = f"asst-conformance-missing-{uuid.uuid4().hex[:8]}"

    @contextmanager
    def scope(self, case: Any) -> Iterator[None]:
        if case.operation.definition.raw.get("x-ragen-defined"):
            # Our own endpoint: whatever goes wrong there is informational (OURS) for other servers.
            with _attribute_to(self.ctx, PRIMARY[operation_id(case)]):
                yield
        else:
            yield

    def observe(self, case: Any, exchange: Exchange) -> None:
        op_id = operation_id(case)
        if op_id == "deleteAssistant" and exchange.status == 200 and case.path_parameters:
            self.deleted.add(str(case.path_parameters.get("assistant_id")))
        if op_id == "createAssistant" and exchange.status in (200, 201) and isinstance(exchange.json(), dict):
            created_id = exchange.json().get("id")
            if isinstance(created_id, str):
                self.ctx.created.append(created_id)

    def map_failure(self, case: Any, exchange: Exchange, failure: Exception) -> str | None:
        return _map_failure(operation_id(case), exchange, failure)

    def judge(self, case: Any, exchange: Exchange) -> None:
        ctx, op_id = self.ctx, operation_id(case)
        media = (
            exchange.request_header("content-type") or getattr(case, "media_type", None) or "application/json"
        )
        violations = request_violations(
            op_id, case.body, case.query, media, has_body=case.body is not NOT_SET
        )
        status = exchange.status
        mandated = next((v for v in violations if v.requirement is not None), None)
        if mandated is None:
            if 200 <= status < 300 or status >= 500:
                return
            self._judge_rejection(op_id, case, exchange, bool(violations))
            return
        if 200 <= status < 300:
            ctx.fail(
                mandated.requirement or "",
                f"accepted invalid input ({mandated.where}: {mandated.message})",
                exchange,
            )
        elif status < 500 and status not in mandated.statuses:
            ctx.fail(
                mandated.requirement or "",
                f"invalid input ({mandated.where}: {mandated.message}) got "
                f"{status}, expected {' or '.join(map(str, sorted(mandated.statuses)))}",
                exchange,
            )
        elif status < 500:
            ctx.passed(mandated.requirement or "")

    def judge_credentials(self, case: Any, exchange: Exchange, sent: str | None) -> None:
        """schemathesis's negative data may drop or mangle the credentials: an auth probe. Any check
        order conforms (AUTH-ORDER-1): only a request *admitted* without valid credentials, or a 401
        of the wrong type, breaks an auth rule."""
        ctx = self.ctx
        rid = (
            "AUTH-1"
            if sent is None
            else "AUTH-3"
            if sent.startswith("Bearer ") and len(sent.split()) == 2
            else "AUTH-2"
        )
        shown = "missing" if sent is None else repr(exchange.redact(sent))
        what = f"a request with credentials {shown}"
        if 200 <= exchange.status < 300:
            ctx.fail(rid, f"{what} was admitted ({exchange.status})", exchange)
        elif exchange.status == 401:
            ctx.expect_error(exchange, 401, "authentication_error", rid, what)
        elif exchange.status < 500:
            ctx.note("AUTH-ORDER-1", f"{what} got {exchange.status} before authentication was judged")

    def _judge_rejection(self, op_id: str, case: Any, exchange: Exchange, invalid: bool) -> None:
        """A non-2xx answer to a request no requirement demands be rejected: the server's choice,
        unless the request is one of the documents' own examples (documented acceptance)."""
        ctx = self.ctx
        assert self.driver is not None
        if self.driver.is_example(case) and exchange.status not in (404, 413, 429):
            ctx.fail(
                PRIMARY.get(op_id, "ERR-5XX-1"),
                f"the spec's own request example got {exchange.status} {brief(exchange)}",
                exchange,
            )
            return
        choice = _tolerated(ctx, op_id, case, exchange, self.deleted)
        if choice is None:
            return  # 401/403/405/...: other checks' business (ERR-ENV-1 judges the envelope)
        rid, what = choice
        if invalid:
            what = f"{what} (input outside the schema that no requirement demands be rejected)"
        if "answers" in requirements()[rid]:
            ctx.choice(rid, exchange, what)
        else:
            ctx.note(rid, f"{what}: {exchange.status} {(exchange.error or {}).get('type', '')}".rstrip())


def _coverage_in_order(driver: SchemaDriver, operation: Any) -> list[Any]:
    """The coverage cases, the mandated rejections first, round-robin over the (requirement, field)
    pairs they break (so a small budget still reaches every bound and every nested field), then
    valid cases, then the other invalid ones. Bounds and missing fields before wrong types: a
    server that checks types but not ranges is the common bug."""
    op_id = operation_id(operation)
    buckets: dict[tuple[int, str], list[tuple[bool, Any]]] = {}
    for case in driver.coverage_cases(operation):
        violations = request_violations(
            op_id,
            case.body,
            case.query,
            getattr(case, "media_type", None),
            has_body=case.body is not NOT_SET,
        )
        mandated = [v for v in violations if v.requirement]
        key = (0, _bucket(mandated[0])) if mandated else (1, "") if not violations else (2, "")
        buckets.setdefault(key, []).append((mandated[0].kind == "type" if mandated else False, case))
    ordered_buckets = {k: [c for _, c in sorted(b, key=lambda item: item[0])] for k, b in buckets.items()}
    ordered: list[Any] = []
    mandated_buckets = [b for k, b in sorted(ordered_buckets.items()) if k[0] == 0]
    for i in range(max((len(b) for b in mandated_buckets), default=0)):
        ordered.extend(b[i] for b in mandated_buckets if i < len(b))
    return ordered + ordered_buckets.get((1, ""), []) + ordered_buckets.get((2, ""), [])


@check(*SCHEMA_IDS, group="schema", cost={"assistants": 1, "chat": 0}, extra=True, fills=True)
def schema_driven(ctx: Context) -> None:
    """Every operation: coverage, positive and negative cases (schemathesis), then stateful link runs."""
    judge = RagenSchemaJudge(ctx)
    driver = SchemaDriver(ctx, schemathesis.openapi.from_path(str(ctx.config.spec_path or SPEC_PATH)), judge)
    judge.ensure_scratch()
    for operation in driver.operations():
        params = (
            {"assistant_id": ctx.target.assistant_id or "asst-0"}
            if "{assistant_id}" in str(operation.path)
            else None
        )
        driver.run_examples(operation, params)
        # Coverage cases, capped at 5x --max-examples per operation.
        for case in _coverage_in_order(driver, operation)[: max(1, ctx.config.max_examples) * 5]:
            if ctx.out_of_time():
                break
            driver.send(case)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            ctx.check_time()
            driver.run_generated(operation, mode)
    stopped = driver.run_stateful()
    if stopped is not None:
        for rid in ("ASST-MODIFY-1", "ASST-DEL-1"):
            ctx.skip(rid, stopped)
    ctx.facts["schema_cases"] = driver.cases
