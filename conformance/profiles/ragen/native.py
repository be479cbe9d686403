"""The native /v1/chat endpoint (OURS: this project's shape; informational for other servers)."""

from __future__ import annotations

from conformance.context import Context
from conformance.profiles.ragen.registry import check


@check("NATIVE-1", "NATIVE-2", "RATE-NATIVE-1", group="native", cost={"chat": 2}, extra=True)
def native_chat(ctx: Context) -> None:
    """POST /v1/chat answers a ragen.chat object, or delta events then one done event."""
    body: dict[str, object] = {
        "content": "How do I get a refund?",
        "context": {"url": "https://shop.example.com/orders/42", "title": "Order 42"},
    }
    if ctx.target.assistant_id:
        body["assistant_id"] = ctx.target.assistant_id
    ex = ctx.request("POST", "/v1/chat", json_body=body)
    if ex.status == 404 and ex.error is None:
        ctx.note("NATIVE-1", "the server has no /v1/chat endpoint (404)")
        ctx.note("NATIVE-2", "the server has no /v1/chat endpoint (404)")
        return
    ctx.expect(ex.status == 200, "NATIVE-1", f"answered {ex.status}", ex)
    ex = ctx.request("POST", "/v1/chat", json_body={**body, "stream": True})
    ctx.expect(ex.status == 200, "NATIVE-2", f"stream: true answered {ex.status}", ex)
    ctx.skip("RATE-NATIVE-1", "whether /v1/chat shares the chat budget is reported by the rate-limit checks")
