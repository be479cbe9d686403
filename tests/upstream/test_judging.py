"""The proxy judges real traffic with the gate's rules: silent on a correct upstream, and in front of
an upstream that breaks one rule it names exactly that requirement."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conformance import altserver
from tests.upstream.conftest import Servers
from tests.upstream.servers import alt_app

AUTH = {"Authorization": f"Bearer {altserver.MAIN_KEY}"}
QUESTION = [{"role": "user", "content": "What is your refund policy?"}]


def mixed_session(base: str) -> None:
    """JSON and streamed chat (with and without include_usage), assistants CRUD and paging, errors."""

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", AUTH)
        response = requests.request(method, base + path, timeout=10, **kwargs)
        response.content  # noqa: B018  (read the whole answer, streams included)
        return response

    chat = {"assistant_id": altserver.ASSISTANT_A, "messages": QUESTION}
    assert call("POST", "/v1/chat/completions", json=chat).status_code == 200
    assert call("POST", "/v1/chat/completions", json={**chat, "max_tokens": 3}).status_code == 200
    assert call("POST", "/v1/chat/completions", json={**chat, "stream": True}).status_code == 200
    usage = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    assert call("POST", "/v1/chat/completions", json=usage).status_code == 200
    created = [call("POST", "/v1/assistants", json={"name": f"probe {i}"}).json()["id"] for i in range(3)]
    after = None
    for _ in range(6):  # page through, two at a time
        cursor = {"after": after} if after else {}
        page = call("GET", "/v1/assistants", params={"limit": 2, **cursor}).json()
        if not page["has_more"]:
            break
        after = page["last_id"]
    call("GET", f"/v1/assistants/{created[0]}")
    call("POST", f"/v1/assistants/{created[0]}", json={"instructions": ""})
    call("PATCH", f"/v1/assistants/{created[1]}", json={"name": "renamed"})
    for assistant_id in created:
        call("DELETE", f"/v1/assistants/{assistant_id}")
    # Errors: unknown assistant, out of range, no key, unknown id, not JSON, a 404 route.
    assert call("POST", "/v1/chat/completions", json={**chat, "assistant_id": "asst-nope"}).status_code == 404
    call("POST", "/v1/chat/completions", json={**chat, "temperature": 5})
    assert call("POST", "/v1/chat/completions", json=chat, headers={}).status_code == 401
    call("GET", "/v1/assistants/asst-00000000-0000-4000-8000-00000000dead")
    as_json = {**AUTH, "Content-Type": "application/json"}
    call("POST", "/v1/chat/completions", data=b"{not json", headers=as_json)


def server_findings(proxy: str) -> dict[str, str]:
    """Requirement id -> level of everything the proxy found against the upstream."""
    summary = requests.get(proxy + "/__mock/violations", timeout=5).json()
    return {row["requirement"]: row["level"] for row in summary["data"] if row["by"] == "server"}


def test_a_correct_upstream_shows_no_violation(servers: Servers) -> None:
    upstream = servers.start(alt_app)
    proxy = servers.proxy(upstream.url)
    mixed_session(proxy.url)
    assert server_findings(proxy.url) == {}
    summary = requests.get(proxy.url + "/__mock/violations", timeout=5).json()
    assert summary["server_must_violations"] == 0
    # The session's own malformed requests are reported, as the client's.
    client = {row["requirement"] for row in summary["data"] if row["by"] == "client"}
    assert client == {"CHAT-REQ-2", "ERR-BODY-1"}  # temperature: 5, and "{not json"
    journal = requests.get(proxy.url + "/__mock/journal", params={"limit": 100}, timeout=5).json()["data"]
    assert len(journal) >= 20 and all("violations" in entry for entry in journal)


# fault of the alt server -> the requirement it breaks
ONE_RULE_BROKEN = {
    "usage_chunk_with_choices": "CHAT-USAGE-STREAM-2",
    "flat_error_envelope": "ERR-ENV-1",
    "misnamed_list": "ASST-LIST-6",  # the list object's name is OpenAI's convention (SHOULD)
    "missing_done": "CHAT-STREAM-5",
    "wrong_object_name": "CHAT-RESP-1",
    "usage_without_opt_in": "CHAT-USAGE-STREAM-1",
    # lines without "data:" are no events at all to a client: no chunk, no [DONE] either
    "unframed_events": "CHAT-STREAM-1 CHAT-STREAM-2 CHAT-STREAM-5",
    "wrong_error_type": "ERR-TYPE-1",
    "inconsistent_chunk_ids": "CHAT-STREAM-2",
    "role_not_first": "CHAT-STREAM-3",
    "bad_usage_sum": "CHAT-USAGE-1",
    "data_after_done": "CHAT-STREAM-5",
    "finish_chunk_content": "CHAT-STREAM-4",
    "wrong_delete_object": "ASST-DEL-1",
    # max_tokens unchecked also means answers are never cut: two rules, both named
    "accepts_out_of_range": "CHAT-REQ-2 CHAT-LEN-1",
    "stream_as_json": "CHAT-STREAM-1",
    "crash_on_bad_json": "ERR-5XX-1 ERR-ENV-1",  # the crash answers in plain text
    "no_logprobs": "CHAT-RESP-3",
    "created_in_ms": "CHAT-RESP-2",
    "no_request_id": "HDR-REQID-1",
    "no_rate_headers": "HDR-RATE-1",
}
# Not here: faults only two exchanges can show (no_length_finish: "stop" where a cut answer needs
# "length", seen only against the uncut answer; model_echo), and the proxy compares no two calls.


@pytest.mark.parametrize(("fault", "requirement"), sorted(ONE_RULE_BROKEN.items()))
def test_an_upstream_breaking_one_rule_is_named(servers: Servers, fault: str, requirement: str) -> None:
    upstream = servers.start(lambda: alt_app(frozenset({fault})))
    proxy = servers.proxy(upstream.url)
    mixed_session(proxy.url)
    found = server_findings(proxy.url)
    expected = set(requirement.split())
    assert expected <= found.keys(), found
    must = {rid for rid, level in found.items() if level == "MUST"}
    assert must <= expected, f"{fault}: also flagged {must - expected}"


def test_journal_filters_on_violations(servers: Servers) -> None:
    upstream = servers.start(lambda: alt_app(frozenset({"usage_chunk_with_choices"})))
    proxy = servers.proxy(upstream.url)
    mixed_session(proxy.url)

    def journal(**params: str) -> list[dict[str, Any]]:
        params["limit"] = "200"
        return requests.get(proxy.url + "/__mock/journal", params=params, timeout=5).json()["data"]  # type: ignore[no-any-return]

    flagged = journal(violation="CHAT-USAGE-STREAM-2")
    assert len(flagged) == 1
    assert flagged[0]["path"] == "/v1/chat/completions" and flagged[0]["response"]["stream"]
    entry = next(v for v in flagged[0]["violations"] if v["requirement"] == "CHAT-USAGE-STREAM-2")
    assert entry["level"] == "MUST" and entry["by"] == "server" and "choices: []" in entry["message"]
    assert "include_usage" in entry["text"]
    clean = journal(violation="none")
    assert clean and all(not e["violations"] for e in clean)
    assert len(journal(violation="any")) + len(clean) == len(journal())


def test_a_stream_the_upstream_cut_is_judged(servers: Servers) -> None:
    from tests.upstream.servers import cutting_app

    upstream = servers.start(cutting_app)
    proxy = servers.proxy(upstream.url)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        stream = {"messages": QUESTION, "stream": True}
        requests.post(proxy.url + "/v1/chat/completions", json=stream, timeout=10).raise_for_status()
    entry = requests.get(proxy.url + "/__mock/journal", timeout=5).json()["data"][0]
    found = {v["requirement"]: v["message"] for v in entry["violations"] if v["by"] == "server"}
    assert "dropped the connection" in found["CHAT-STREAM-5"]
    assert entry["response"]["stream"][-1]["data"] == "<the upstream cut the answer short>"
