"""The Assistants API: an assistant is a project of the key's organization."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from ragen_spec import self_delete_message

from mockserver import jsonio
from mockserver.context import MockState
from mockserver.errors import InvalidRequestError
from mockserver.operations import Call
from mockserver.state import AssistantRecord

__all__ = ["HANDLERS", "SELF_DELETE_MESSAGE"]

# ASST-DEL-2: the words the spec documents (deleteAssistant's 400 example `self_delete`).
SELF_DELETE_MESSAGE = self_delete_message()


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(body=jsonio.dumps(payload), content_type="application/json")


def _target(request: web.Request, call: Call) -> AssistantRecord:
    state: MockState = call.state
    return state.assistant(call.caller, request.match_info["assistant_id"])


async def create_assistant(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    body = call.body
    record = await state.store.create(
        call.caller.org_id, name=body["name"], instructions=body.get("instructions")
    )
    return _json(state.store.to_api(record))  # ASST-CREATE-3: 200


async def list_assistants(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    query = call.query
    limit: int = query["limit"]
    records = state.store.ordered(call.caller.org_id, descending=query["order"] == "desc")
    ids = [r.id for r in records]
    low, high = 0, len(records)
    for name in ("after", "before"):
        cursor = query.get(name)
        if cursor is None:
            continue
        if cursor not in ids:  # ASST-LIST-4
            raise InvalidRequestError(
                f"'{name}' names no assistant of this organization: '{cursor}'.",
                code="invalid_cursor",
                param=name,
            )
        if name == "after":
            low = ids.index(cursor) + 1
        else:
            high = ids.index(cursor)
    window = records[low:high] if low < high else []
    backwards = query.get("before") is not None and query.get("after") is None
    page = window[-limit:] if backwards else window[:limit]
    data = [state.store.to_api(r) for r in page]
    return _json(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(window) > limit,
        }
    )


async def get_assistant(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    return _json(state.store.to_api(_target(request, call)))


async def modify_assistant(request: web.Request, call: Call) -> web.StreamResponse:
    """ASST-MODIFY-1..3: POST and PATCH alike; absent fields keep their value; "" (or null) clears."""
    state: MockState = call.state
    record = _target(request, call)
    body = call.body
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = body["name"]
    if "instructions" in body:
        changes["instructions"] = body["instructions"] or None
    updated = await state.store.modify(record, changes) if changes else record
    return _json(state.store.to_api(updated))


async def delete_assistant(request: web.Request, call: Call) -> web.StreamResponse:
    state: MockState = call.state
    record = _target(request, call)
    if record.id == call.caller.assistant_id:  # ASST-DEL-2
        raise InvalidRequestError(SELF_DELETE_MESSAGE)
    await state.store.delete(record)
    return _json({"id": record.id, "object": "assistant.deleted", "deleted": True})


HANDLERS = {
    "createAssistant": create_assistant,
    "listAssistants": list_assistants,
    "getAssistant": get_assistant,
    "modifyAssistant": modify_assistant,
    "patchAssistant": modify_assistant,
    "deleteAssistant": delete_assistant,
}
