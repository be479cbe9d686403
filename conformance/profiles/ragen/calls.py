"""The Ragen requests the profile's checks build on: a chat body for the configured assistant and
scratch assistants the run creates (and the profile's clean-up deletes)."""

from __future__ import annotations

from typing import Any

from conformance.context import Context, brief
from conformance.errors import Failure, Skip
from conformance.exchange import Exchange

__all__ = ["assistant_id", "chat_body", "create_assistant", "created_assistant"]


def assistant_id(ctx: Context) -> str:
    """The assistant the key may use (a Skip that makes the run incomplete without one)."""
    if not ctx.target.assistant_id:
        raise Skip("no assistant id configured (--assistant-id / RAGEN_ASSISTANT_ID)", missing_input=True)
    return ctx.target.assistant_id


def chat_body(ctx: Context, question: str = "What is your refund policy?", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assistant_id": assistant_id(ctx),
        "messages": [{"role": "user", "content": question}],
    }
    body.update(fields)
    return body


def create_assistant(ctx: Context, body: dict[str, Any], *, key: Any = ...) -> Exchange:
    """POST /v1/assistants; an assistant it creates is remembered for the clean-up."""
    extra = {} if key is ... else {"key": key}
    exchange = ctx.request("POST", "/v1/assistants", json_body=body, **extra)
    created = exchange.json()
    if exchange.status in (200, 201) and isinstance(created, dict) and isinstance(created.get("id"), str):
        ctx.created.append(created["id"])
    return exchange


def created_assistant(
    ctx: Context, requirement: str, name: str = "conformance probe", **fields: Any
) -> dict[str, Any]:
    """Create a scratch assistant or fail ``requirement``; returns the object."""
    exchange = create_assistant(ctx, {"name": name, **fields})
    body = exchange.json()
    if exchange.status not in (200, 201) or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise Failure(
            requirement,
            f"could not create an assistant: {exchange.status} {brief(exchange)}",
            exchange=exchange,
        )
    return body
