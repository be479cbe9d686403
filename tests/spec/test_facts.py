"""The facts the tools act on are the spec's: tiers, error types, the self-delete words, rule ids.

Each fact is read by ``ragen_spec`` from one place in the spec; these tests tie that place to the
rule texts and vendor quotes it restates, and the tools' defaults to the spec's values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from ragen_spec import (
    PROXY_SPEC_PATH,
    SPEC_PATH,
    error_types,
    load_spec,
    requirements,
    self_delete_message,
    tiers,
)
from ragen_spec.operations import operations

from loadtests.scenario import TIERS as LOAD_TIERS
from mockserver.settings import Settings

DOCUMENTS = [pytest.param(None, id="ragen"), pytest.param(PROXY_SPEC_PATH, id="openai-proxy")]
# The rules stating each document's error table, quoted from the vendor document ("400 | type | ...").
TABLE_RULES = {None: ("ERR-TYPE-1",), PROXY_SPEC_PATH: ("PROXY-ERR-TYPE-1", "PROXY-ERR-TYPE-2")}


# --- requirement ids ------------------------------------------------------------------------------
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_observable_rule_is_carried_by_an_operation_or_the_document(document: Path | None) -> None:
    """An operation lists the rules specific to it; the top-level list, those every operation carries."""
    ops = operations(document)
    attached = set(ops.shared_requirement_ids).union(*(op.requirement_ids for op in ops))
    observable = {rid for rid, req in requirements(document).items() if req.get("observable") is not False}
    assert observable - attached == set()
    assert attached <= set(requirements(document)), attached - set(requirements(document))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_shared_rule_is_not_listed_again_on_an_operation(document: Path | None) -> None:
    ops = operations(document)
    for op in ops:
        assert not set(op.requirement_ids) & set(ops.shared_requirement_ids), op.name
        assert len(op.requirement_ids) == len(set(op.requirement_ids)), op.name


# --- rate-limit tiers -----------------------------------------------------------------------------
def test_every_operation_names_a_declared_tier() -> None:
    assert {op.tier for op in operations()} == set(tiers())


@pytest.mark.parametrize(("tier", "rule"), [("chat", "RATE-CHAT-1"), ("assistants", "RATE-ASST-1")])
def test_the_tier_rules_state_the_declared_budget(tier: str, rule: str) -> None:
    text = requirements()[rule]["text"]
    limit, window = tiers()[tier]
    assert re.search(rf"at most {limit} requests\b", text), text
    assert window == 60 and "one-minute window" in text


def test_the_mock_and_the_load_tests_default_to_the_spec_tiers() -> None:
    settings = Settings()
    assert (settings.chat_limit, settings.chat_window) == tiers()["chat"]
    assert (settings.assistants_limit, settings.assistants_window) == tiers()["assistants"]
    for name, tier in tiers().items():
        assert (LOAD_TIERS[name].limit, LOAD_TIERS[name].window) == tier


# --- error types ----------------------------------------------------------------------------------
def _quoted_table(document: Path | None) -> dict[str, str]:
    """``{"400": "invalid_request_error", "5xx": "api_error", ...}`` from the rules' vendor quotes."""
    table = {}
    for rid in TABLE_RULES[document]:
        sources = requirements(document)[rid]["source"]
        for source in sources if isinstance(sources, list) else [sources]:
            found = re.match(r"(\d{3}|\dxx) \| (\w+) \|", source["quote"])
            if found:
                table[found[1]] = found[2]
    return table


@pytest.mark.parametrize("document", DOCUMENTS)
def test_pinned_error_types_are_the_vendor_table(document: Path | None) -> None:
    pinned = error_types(document)
    quoted = _quoted_table(document)
    assert quoted
    for status, type_ in quoted.items():
        statuses = range(500, 600) if status == "5xx" else [int(status)]
        assert all(pinned[s][0] == type_ for s in statuses), (status, pinned.get(statuses[0]))
    assert {str(s) for s in pinned if s < 500 or document} <= set(quoted) | {"5xx"}


def test_a_status_the_table_does_not_name_is_not_pinned() -> None:
    """ERR-TYPE-1: 405, 413 and the like need only the envelope; pinning them would fail a server
    for a choice the documents leave open."""
    assert 413 not in error_types() and 405 not in error_types()
    assert error_types(PROXY_SPEC_PATH)[404] == ("not_found_error", "invalid_request_error")  # PROXY-MODEL-2


def _response(status: int, type_: str) -> schemathesis.Response:
    body = {"error": {"message": "m", "type": type_, "code": None, "param": None}}
    return schemathesis.Response(
        status_code=status,
        headers={"content-type": ["application/json"]},
        content=json.dumps(body).encode(),
        request=requests.Request("GET", "http://127.0.0.1/v1/assistants/asst-1").prepare(),
        elapsed=0.0,
        verify=True,
    )


@pytest.mark.parametrize(
    ("status", "right", "wrong"),
    [
        (400, "invalid_request_error", "api_error"),
        (404, "not_found_error", "invalid_request_error"),
        (503, "api_error", "service_unavailable"),
    ],
)
def test_schemathesis_checks_the_error_type_by_itself(status: int, right: str, wrong: str) -> None:
    operation = schemathesis.openapi.from_path(str(SPEC_PATH))["/v1/assistants/{assistant_id}"]["GET"]
    assert operation.is_valid_response(_response(status, right))
    assert not operation.is_valid_response(_response(status, wrong))


# --- the self-delete words ------------------------------------------------------------------------
def test_the_self_delete_example_is_the_vendor_quote() -> None:
    message = self_delete_message()
    assert message.startswith("Cannot delete the assistant")
    assert f'"{message}"' in requirements()["ASST-DEL-2"]["source"]["quote"]
    assert f'"{message}"' in requirements()["ASST-DEL-2"]["text"]


def _variant(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    spec = load_spec()
    edit(spec)
    path = tmp_path / f"{edit.__name__}.yaml"  # one file per variant: documents are read once per path
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _pinned_response(type_: str) -> dict[str, Any]:
    pin = {"properties": {"error": {"properties": {"type": {"const": type_}}}}}
    schema = {"allOf": [{"$ref": "#/components/schemas/ErrorResponse"}, pin]}
    return {"description": type_, "content": {"application/json": {"schema": schema}}}


def test_an_exact_status_overrides_its_range_and_a_contradiction_is_refused(tmp_path: Path) -> None:
    def exact_503(spec: dict[str, Any]) -> None:
        spec["paths"]["/v1/assistants/{assistant_id}"]["get"]["responses"]["503"] = _pinned_response(
            "overloaded"
        )

    table = error_types(_variant(tmp_path, exact_503))
    assert (table[502], table[503]) == (("api_error",), ("overloaded",))

    def two_404s(spec: dict[str, Any]) -> None:
        spec["paths"]["/v1/assistants/{assistant_id}"]["get"]["responses"]["404"] = _pinned_response("gone")

    with pytest.raises(ValueError, match="404 pins"):
        error_types(_variant(tmp_path, two_404s))
