"""The Ragen profile's set-up and tear-down around a run (the runner itself is profile-neutral):
the preflight that proves the base URL, the key and the assistant before anything else is sent,
and the clean-up that deletes the scratch assistants a run created."""

from __future__ import annotations

from conformance.context import Context, brief
from conformance.errors import HarnessError, SetupError, Skip, TargetUnreachable

__all__ = ["cleanup", "preflight"]


def preflight(ctx: Context) -> None:
    """Prove the base URL, the key and the assistant with a few paced requests before anything
    else is sent; a mistake there is a set-up error, not dozens of server violations."""
    base = ctx.target.base_url
    try:
        listed = ctx.request("GET", "/v1/assistants", params={"limit": 1})
    except TargetUnreachable as exc:
        raise SetupError(f"cannot reach {base}: {exc}") from exc
    error = listed.error or {}
    if listed.status in (401, 403):
        raise SetupError(
            f"the API key was rejected by {base} ({listed.status} {error.get('type') or ''}: "
            f"{str(error.get('message') or brief(listed))[:120]}); check --api-key / RAGEN_API_KEY"
        )
    if listed.status != 200:
        raise SetupError(
            f"{base} does not serve the Ragen API: GET /v1/assistants answered {listed.status} "
            f"{brief(listed)}; check --base-url (the server's root, e.g. https://host or https://host/v1)"
        )
    assistant_id = ctx.target.assistant_id
    if assistant_id:
        got = ctx.request("GET", f"/v1/assistants/{assistant_id}")
        if got.status == 404:
            raise SetupError(
                f"assistant {assistant_id} is not found in the key's organization (404); "
                "check --assistant-id / RAGEN_ASSISTANT_ID"
            )
        if got.status != 200:
            raise SetupError(f"GET /v1/assistants/{assistant_id} answered {got.status} {brief(got)}")


def cleanup(ctx: Context) -> None:
    """Delete the scratch assistants this run created (best effort)."""
    ctx.check_name, ctx.touched = "cleanup", set()
    for assistant_id in dict.fromkeys(ctx.created):
        try:
            ctx.request("DELETE", f"/v1/assistants/{assistant_id}")
        except (HarnessError, Skip):
            break
    ctx.created.clear()
