"""Schema-driven probing of the openai-proxy profile with schemathesis 4.x.

The bundled spec/openai-proxy.yaml (external refs inlined) drives generation: positive cases
must be answered 2xx and match the documented
responses; negative cases must be rejected with 400 (a bad ``model`` may also get 404
``model_not_found``). A generated model name is replaced by the run's model: unknown models are
the probes' business. A violation is filed under the requirement the broken rule belongs to:
missing fields PROXY-REQ-1, documented types and ranges PROXY-REQ-2, OpenAI's own limits
PROXY-REQ-3 (SHOULD). Requests go through the run's recording session, so every response check
sees them too.
"""

from __future__ import annotations

import functools
from typing import Any

import schemathesis
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ragen_spec.bundle import load_bundled
from ragen_spec.schemas import validator_for
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.context import Context, brief
from conformance.exchange import Exchange
from conformance.profiles.openai_proxy.registry import SPEC, check, model
from conformance.schema_driver import SchemaDriver, SchemaJudge, operation_id

__all__ = ["ProxySchemaJudge", "violated_requirement"]

_RANGED = {"temperature", "frequency_penalty", "presence_penalty"}  # the document's own ranges
RESPONSE_IDS = {"createChatCompletion": "PROXY-RESP-1", "listModels": "PROXY-MODELS-1"}


@functools.cache
def _request_validator() -> Draft202012Validator:
    return validator_for("#/components/schemas/CreateChatCompletionRequest", document=SPEC)


def violated_requirement(body: Any) -> str | None:
    """The requirement an invalid chat body breaks (None: the body is valid)."""
    if not isinstance(body, dict):
        return "PROXY-BODY-1"
    error = best_match(_request_validator().iter_errors(body))
    if error is None:
        return None
    path = list(error.absolute_path)
    if error.validator == "required" and not path:
        return "PROXY-REQ-1"
    field = str(path[0]) if path else ""
    if error.validator == "type" and len(path) == 1:
        return "PROXY-REQ-2"
    if field in _RANGED and error.validator in ("minimum", "maximum"):
        return "PROXY-REQ-2"
    return "PROXY-REQ-3"


class ProxySchemaJudge(SchemaJudge):
    """The openai-proxy profile's side of the schemathesis driver."""

    checks = (
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    )

    def prepare(self, case: Any) -> None:
        if isinstance(case.body, dict) and isinstance(case.body.get("model"), str):
            # A random model name is an unknown model (the probes' business): ask the run's model, so
            # positive cases take the happy path and negative ones fail for their own mutation.
            case.body["model"] = model(self.ctx)

    def map_failure(self, case: Any, exchange: Exchange, failure: Exception) -> str | None:
        """None for an error answer, whose envelope the response check judges itself (a 422 with a
        full envelope is a status question, not an envelope problem) and whose status the request's
        own requirement judges (``judge``)."""
        if type(failure).__name__ == "ServerError":
            return "PROXY-5XX-1"
        if exchange.status >= 400:
            return None
        return RESPONSE_IDS.get(operation_id(case), "PROXY-RESP-1")

    def judge_credentials(self, case: Any, exchange: Exchange, sent: str | None) -> None:
        """Credentials mangled by negative generation: the auth probes' business."""

    def judge(self, case: Any, exchange: Exchange) -> None:
        if operation_id(case) != "createChatCompletion" or exchange.status >= 500:
            return
        if not case.media_type or "json" not in case.media_type:
            return
        ctx = self.ctx
        rid = violated_requirement(case.body)
        status = exchange.status
        error = exchange.error or {}
        model_404 = status == 404 and error.get("code") == "model_not_found"
        if rid is None:
            # Generated valid input holds edge values the document never discusses (empty or odd
            # strings, extreme numbers): rejecting them is the server's choice. Documented acceptance
            # is proven by proxy_accepts_documented_parameters with the document's own example.
            if 200 <= status < 300:
                ctx.passed("PROXY-REQ-4")
            elif status < 500 and not model_404:
                ctx.note(
                    "PROXY-REQ-4",
                    f"an edge value the document does not discuss got {status} "
                    f"{brief(exchange)} (the server's choice)",
                )
            return
        ctx.expect(status == 400 or model_404, rid, f"invalid input got {status} {brief(exchange)}", exchange)


@check(
    "PROXY-REQ-1",
    "PROXY-REQ-2",
    "PROXY-REQ-3",
    "PROXY-REQ-4",
    "PROXY-BODY-1",
    "PROXY-5XX-1",
    "PROXY-RESP-1",
    "PROXY-MODELS-1",
    "PROXY-ERR-ENV-1",
    group="schema",
)
def proxy_schema_driven(ctx: Context) -> None:
    """Every operation, positive and negative data generated from the spec (schemathesis)."""
    model(ctx)  # no model: nothing positive can be sent
    driver = SchemaDriver(ctx, schemathesis.openapi.from_dict(load_bundled(SPEC)), ProxySchemaJudge(ctx))
    for operation in driver.operations():
        modes = [GenerationMode.POSITIVE]
        if operation.definition.raw.get("requestBody"):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            ctx.check_time()
            driver.run_generated(operation, mode)
