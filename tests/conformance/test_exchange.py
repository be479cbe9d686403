"""An exchange's reproduction: a curl command with the keys as environment variables."""

from __future__ import annotations

from tests.conformance.fabricate import (
    exchange,
)


def test_curl_reproduction_redacts_keys() -> None:
    ex = exchange(400, "{}", request={"assistant_id": "a", "note": "it's"})
    curl = ex.curl()
    assert "sk-secret" not in curl
    assert '"Authorization: Bearer $RAGEN_API_KEY"' in curl
    assert curl.startswith("curl -sS -X POST http://127.0.0.1:1/v1/chat/completions")
    assert "it'\"'\"'s" in curl
