"""Assistants semantics: round trips, ignored fields, modify, list pagination, delete, org isolation.

Operations: /v1/assistants and /v1/assistants/{assistant_id} in spec/openapi.yaml. Only scratch
assistants this run creates are modified or deleted; they are deleted again at the end.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from ragen_spec import self_delete_message

from conformance.context import Context, brief
from conformance.errors import Failure, Skip
from conformance.exchange import Exchange
from conformance.profiles.ragen.calls import assistant_id, create_assistant, created_assistant
from conformance.profiles.ragen.registry import check

INVALID = "invalid_request_error"
SELF_DELETE_MESSAGE = self_delete_message()  # ASST-DEL-2: the spec's documented words
_MAX_PAGES = 60


def _pool(ctx: Context) -> list[dict[str, Any]]:
    """Scratch assistants this run created, as last seen: reused across checks by default (each
    create costs a request of the budget and a clean-up delete); --thorough creates fresh ones."""
    pool: list[dict[str, Any]] = ctx.facts.setdefault("scratch_assistants", [])
    return pool


def _scratch(ctx: Context, requirement: str, name: str) -> dict[str, Any]:
    pool = _pool(ctx)
    if pool and not ctx.config.thorough:
        return pool[0]
    created = created_assistant(ctx, requirement, name)
    pool.append(created)
    return created


def _seen(ctx: Context, body: dict[str, Any]) -> None:
    """Remember the latest state of a pooled assistant."""
    pool = _pool(ctx)
    for i, known in enumerate(pool):
        if known.get("id") == body.get("id"):
            pool[i] = body


def _get(ctx: Context, assistant_id: str, **kwargs: Any) -> Exchange:
    return ctx.request("GET", f"/v1/assistants/{assistant_id}", **kwargs)


def _modify(
    ctx: Context, method: str, path: str, sent: dict[str, Any], requirement: str, what: str
) -> tuple[Exchange, dict[str, Any]]:
    """A modify that must answer 200 with the assistant; anything else stops the check."""
    ex = ctx.request(method, path, json_body=sent)
    body = ex.json() if ex.status == 200 else None
    if not isinstance(body, dict):
        raise Failure(requirement, f"{what} got {ex.status} {brief(ex)}", exchange=ex)
    return ex, body


@check(
    "ASST-CREATE-2",
    "ASST-CREATE-3",
    "ASST-OBJ-1",
    "ASST-OBJ-3",
    "ASST-REQ-3",
    group="assistants",
    cost={"assistants": 3},
)
def assistant_round_trip(ctx: Context) -> None:
    """A created assistant returns its name and instructions, and a retrieve returns the same object."""
    name, instructions = f"Conformance {uuid.uuid4().hex[:8]}", "Answer in one sentence."
    ex = create_assistant(ctx, {"name": name, "instructions": instructions})
    if ex.status in (200, 201):
        convention = "the OpenAI convention" if ex.status == 200 else "conformant; OpenAI answers 200"
        ctx.note("ASST-CREATE-3", f"create answers {ex.status} ({convention})")
    else:
        ctx.note("ASST-CREATE-3", f"create answered {ex.status}: none of the conformant choices", ex)
    created = ex.json()
    if ex.status not in (200, 201) or not isinstance(created, dict):
        raise Failure("ASST-CREATE-2", f"create got {ex.status} {brief(ex)}", exchange=ex)
    ctx.expect(created.get("name") == name, "ASST-CREATE-2", f"name reads back {created.get('name')!r}", ex)
    ctx.expect(
        created.get("instructions") == instructions,
        "ASST-CREATE-2",
        f"instructions read back {created.get('instructions')!r}",
        ex,
    )
    ctx.expect(
        created.get("tools") == [{"type": "file_search"}],
        "ASST-OBJ-1",
        f"tools {created.get('tools')!r}, expected [{{'type': 'file_search'}}]",
        ex,
    )
    obj, created_at = created.get("object"), created.get("created_at")
    ctx.expect(
        obj == "assistant" and isinstance(created_at, int) and not isinstance(created_at, bool),
        "ASST-OBJ-3",
        f"object {obj!r} and created_at {created_at!r}, expected 'assistant' and an integer",
        ex,
    )
    empty = create_assistant(ctx, {"name": ""})
    verdict = "accepts" if empty.status in (200, 201) else f"rejects ({empty.status} {brief(empty)})"
    ctx.note("ASST-REQ-3", f"{verdict} an empty name", empty)
    _pool(ctx).append(created)
    got = _get(ctx, str(created.get("id")))
    ctx.expect(
        got.status == 200 and got.json() == created,
        "ASST-CREATE-2",
        f"retrieve returned {got.status} and a different object",
        got,
    )


_IGNORED = {
    "description": "a description the server must ignore",
    "metadata": {"team": "conformance"},
    "tool_resources": {"file_search": {"vector_store_ids": ["vs_conformance"]}},
    "top_p": 0.3,
    "response_format": {"type": "json_object"},
}
_CONSTANTS = ("description", "metadata", "tool_resources", "top_p", "response_format")


@check("ASST-OBJ-2", group="assistants", cost={"assistants": 2})
def assistant_ignored_fields(ctx: Context) -> None:
    """Ignored fields read back as constants; model and temperature as the organization default."""
    plain = _scratch(ctx, "ASST-OBJ-2", "Conformance plain")
    fancy_ex = create_assistant(
        ctx,
        {
            "name": "Conformance fancy",
            "model": "gpt-4o-mini",
            "temperature": 0.1,
            "tools": [{"type": "code_interpreter"}],
            **_IGNORED,
        },
    )
    fancy = fancy_ex.json()
    if fancy_ex.status not in (200, 201) or not isinstance(fancy, dict):
        raise Failure(
            "ASST-OBJ-2",
            f"create with ignored fields got {fancy_ex.status} {brief(fancy_ex)}",
            exchange=fancy_ex,
        )
    _pool(ctx).append(fancy)
    for field in (*_CONSTANTS, "model", "temperature"):
        ctx.expect(
            fancy.get(field) == plain.get(field),
            "ASST-OBJ-2",
            f"{field} reads back {fancy.get(field)!r}; an assistant created without it has "
            f"{plain.get(field)!r}",
            fancy_ex,
        )
    ctx.expect(
        fancy.get("tools") == [{"type": "file_search"}],
        "ASST-OBJ-1",
        f"tools {fancy.get('tools')!r} after sending other tools",
        fancy_ex,
    )
    mod = ctx.request("POST", f"/v1/assistants/{plain['id']}", json_body={**_IGNORED, "model": "other"})
    after = mod.json()
    if mod.status == 200 and isinstance(after, dict):
        for field in (*_CONSTANTS, "model"):
            ctx.expect(
                after.get(field) == plain.get(field),
                "ASST-OBJ-2",
                f"modify changed the constant {field} to {after.get(field)!r}",
                mod,
            )
    else:
        ctx.fail("ASST-OBJ-2", f"modify with ignored fields got {mod.status} {brief(mod)}", mod)


@check("ASST-CREATE-1", "ASST-REQ-2", "ERR-PARAM-1", group="assistants", cost={"assistants": 4})
def assistant_create_validation(ctx: Context) -> None:
    """Create without a string name gets 400; a temperature outside 0–2 may be rejected or ignored."""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("without name", {"instructions": "x"}, "name"),
        ("with name: 42", {"name": 42}, "name"),
        ("with name: null", {"name": None}, "name"),
    ]
    for what, body, param in cases if ctx.config.thorough else cases[:3]:
        ctx.check_time()
        ex = create_assistant(ctx, body)
        ctx.expect_error(ex, 400, INVALID, "ASST-CREATE-1", f"create {what}", param=param)
    for temperature in (3, -1) if ctx.config.thorough else (3,):
        ctx.check_time()
        ex = create_assistant(ctx, {"name": "Conformance", "temperature": temperature})
        _temperature_choice(ctx, ex, f"create with temperature: {temperature}")


def _temperature_choice(ctx: Context, ex: Exchange, what: str) -> None:
    """ASST-REQ-2: "temperature | 0–2 | No (accepted, ignored)" — rejecting and ignoring both conform."""
    error = ex.error or {}
    if ex.status in (200, 201):
        ctx.note("ASST-REQ-2", "an out-of-range temperature is accepted (and must be ignored: ASST-OBJ-2)")
    elif ex.status == 400 and error.get("type") == INVALID:
        ctx.note("ASST-REQ-2", "an out-of-range temperature is rejected (400 invalid_request_error)")
    else:
        ctx.note("ASST-REQ-2", f"{what} got {ex.status} {brief(ex)}: none of the conformant choices", ex)


@check("ASST-GET-1", group="assistants", cost={"assistants": 1})
def assistant_unknown_is_404(ctx: Context) -> None:
    """Retrieving an unknown assistant id gets 404 not_found_error."""
    ctx.expect_error(_get(ctx, f"asst-{uuid.uuid4()}"), 404, "not_found_error", "ASST-GET-1", "an unknown id")


@check(
    "ASST-MODIFY-1",
    "ASST-MODIFY-2",
    "ASST-MODIFY-3",
    "ASST-MODIFY-5",
    group="assistants",
    cost={"assistants": 5},
)
def assistant_modify(ctx: Context) -> None:
    """POST and PATCH modify alike, unsent fields keep their values, instructions "" clears."""
    if _pool(ctx) and not ctx.config.thorough:
        created = _pool(ctx)[0]
    else:
        created = created_assistant(
            ctx, "ASST-MODIFY-1", "Conformance modify", instructions="Original instructions."
        )
    original = created.get("instructions")
    path = f"/v1/assistants/{created['id']}"
    ex, body = _modify(ctx, "POST", path, {"name": "Renamed by POST"}, "ASST-MODIFY-1", "POST modify")
    _seen(ctx, body)
    ctx.expect(
        body.get("name") == "Renamed by POST", "ASST-MODIFY-1", f"POST left name {body.get('name')!r}", ex
    )
    ctx.expect(
        body.get("instructions") == original,
        "ASST-MODIFY-1",
        f"POST {{name}} changed instructions to {body.get('instructions')!r}",
        ex,
    )
    ex, body = _modify(
        ctx, "PATCH", path, {"instructions": "Patched instructions."}, "ASST-MODIFY-1", "PATCH modify"
    )
    ctx.expect(
        body.get("instructions") == "Patched instructions.",
        "ASST-MODIFY-1",
        f"PATCH left instructions {body.get('instructions')!r}",
        ex,
    )
    ctx.expect(
        body.get("name") == "Renamed by POST",
        "ASST-MODIFY-1",
        f"PATCH {{instructions}} changed name to {body.get('name')!r}",
        ex,
    )
    ex, body = _modify(ctx, "POST", path, {"instructions": ""}, "ASST-MODIFY-2", 'instructions: ""')
    _seen(ctx, body)
    cleared = body.get("instructions")
    ctx.expect(cleared in (None, ""), "ASST-MODIFY-2", f'instructions: "" left {cleared!r}', ex)
    got = _get(ctx, str(created["id"]))
    again = got.json() if got.status == 200 else None
    ctx.expect(
        isinstance(again, dict) and again.get("instructions") in (None, ""),
        "ASST-MODIFY-2",
        f"retrieve after clearing shows {(again or {}).get('instructions')!r}",
        got,
    )
    if cleared in (None, ""):
        ctx.note("ASST-MODIFY-3", f"cleared instructions read back as {cleared!r}")
    bare = ctx.request("POST", path, data=b"", headers={"Content-Type": "application/json"})
    error = bare.error or {}
    if bare.status == 200:
        ctx.note("ASST-MODIFY-5", "a modify without a body changes nothing (200)", bare)
    elif bare.status == 400 and error.get("type") == "invalid_request_error":
        ctx.note("ASST-MODIFY-5", "a modify without a body is rejected (400 invalid_request_error)", bare)
    else:
        ctx.note(
            "ASST-MODIFY-5",
            f"a modify without a body got {bare.status} {brief(bare)}: none of the conformant choices",
            bare,
        )


@check("ASST-MODIFY-4", "ASST-REQ-2", "ASST-OBJ-2", "ERR-PARAM-1", group="assistants", cost={"assistants": 7})
def assistant_modify_validation(ctx: Context) -> None:
    """A non-string name gets 400 and changes nothing; an out-of-range temperature: ignored or 400."""
    created = _scratch(ctx, "ASST-MODIFY-4", "Conformance modify validation")
    path = f"/v1/assistants/{created['id']}"
    before = _get(ctx, str(created["id"]))
    if before.status != 200 or not isinstance(before.json(), dict):
        raise Failure("ASST-MODIFY-4", f"retrieve got {before.status} {brief(before)}", exchange=before)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("POST", {"name": 42}, "name"),
        ("PATCH", {"name": None}, "name"),
        # A valid field next to an invalid one: the whole request is refused, the instructions stay.
        ("POST", {"instructions": "Changed by an invalid modify", "name": 42}, "name"),
    ]
    for method, body, param in cases if ctx.config.thorough else cases[:3]:
        ctx.check_time()
        ex = ctx.request(method, path, json_body=body)
        ctx.expect_error(ex, 400, INVALID, "ASST-MODIFY-4", f"{method} modify with {body}", param=param)
    after = _get(ctx, str(created["id"]))
    old, new = before.json(), after.json()
    if after.status != 200 or not isinstance(new, dict):
        raise Failure(
            "ASST-MODIFY-4", f"retrieve after the invalid modifies got {after.status}", exchange=after
        )
    changed = {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
    ctx.expect(
        not changed,
        "ASST-MODIFY-4",
        "rejected (or accepted) invalid modifies changed the assistant: "
        + ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in list(changed.items())[:3]),
        after,
    )
    for method, temperature in (("POST", 5), ("PATCH", -1)) if ctx.config.thorough else (("PATCH", 5),):
        ctx.check_time()
        ex = ctx.request(method, path, json_body={"temperature": temperature})
        _temperature_choice(ctx, ex, f"{method} modify with temperature: {temperature}")
        now = _get(ctx, str(created["id"]))
        shown = now.json().get("temperature") if now.status == 200 and isinstance(now.json(), dict) else None
        ctx.expect(
            shown == old.get("temperature"),
            "ASST-OBJ-2",
            f"{method} modify with temperature: {temperature} ({ex.status}) left temperature {shown!r}, "
            f"not the organization default {old.get('temperature')!r}",
            now,
        )


@check("ASST-LIST-5", "ERR-PARAM-1", group="assistants", cost={"assistants": 1})
def assistant_list_rejects_bad_parameters(ctx: Context) -> None:
    """A list limit outside 1–100 or an order other than asc/desc gets 400 (SHOULD)."""
    cases = (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"order": "sideways"}, "order"))
    for params, param in cases if ctx.config.thorough else cases[:1]:
        ctx.check_time()
        ex = ctx.request("GET", "/v1/assistants", params=params)
        ctx.expect_error(ex, 400, INVALID, "ASST-LIST-5", f"list with {params}", param=param)


def _list(ctx: Context, requirement: str, key: Any = ..., **params: Any) -> dict[str, Any]:
    extra = {} if key is ... else {"key": key}
    ex = ctx.request("GET", "/v1/assistants", params=params or None, **extra)
    body = ex.json()
    if ex.status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise Failure(requirement, f"list {params} got {ex.status} {brief(ex)}", exchange=ex)
    body["_exchange"] = ex
    return body


def list_all(
    ctx: Context, requirement: str, key: Any = ..., *, order: str = "desc", limit: int = 100
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit, "order": order}
    for _ in range(_MAX_PAGES):
        page = _list(ctx, requirement, key, **params)
        items.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            return items
        params["after"] = page["data"][-1]["id"]
    raise Skip(f"more than {_MAX_PAGES} pages")


@check(
    "ASST-LIST-1",
    "ASST-LIST-2",
    "ASST-LIST-3",
    "ASST-LIST-4",
    "ASST-LIST-6",
    group="assistants",
    cost={"assistants": 8},
)
def assistant_list_pagination(ctx: Context) -> None:
    """Paging with after visits every assistant once; order, limit and before as OpenAI's (ASST-LIST-6)."""
    # A few assistants to page through (the run's scratch ones count).
    for i in range(3 if ctx.config.thorough else max(0, 2 - len(_pool(ctx)))):
        _pool(ctx).append(created_assistant(ctx, "ASST-LIST-2", f"Conformance list {i}"))
    default = _list(ctx, "ASST-LIST-1")
    ex = default["_exchange"]
    ctx.expect(
        len(default["data"]) <= 20, "ASST-LIST-6", f"default page has {len(default['data'])} > 20 items", ex
    )
    if default["data"]:
        ctx.expect(
            default.get("first_id") == default["data"][0]["id"]
            and default.get("last_id") == default["data"][-1]["id"],
            "ASST-LIST-6",
            "first_id/last_id do not name the first/last item",
            ex,
        )
    full = list_all(ctx, "ASST-LIST-2")
    ids = [a["id"] for a in full]
    for direction, items in (("desc", full), ("asc", list_all(ctx, "ASST-LIST-6", order="asc"))):
        stamps = [a.get("created_at", 0) for a in items]
        ordered = stamps == sorted(stamps, reverse=direction == "desc")
        ctx.expect(
            ordered,
            "ASST-LIST-6",
            f"order={direction} is not sorted by created_at: {stamps[:8]}",
            ctx.client.last,
        )
    if len(default["data"]) == min(20, len(ids)) and default["data"]:
        ctx.expect(
            [a["id"] for a in default["data"]] == ids[: len(default["data"])],
            "ASST-LIST-6",
            "the default order is not desc",
            ex,
        )
    size = max(1, math.ceil(len(ids) / (4 if ctx.config.thorough else 2)))
    seen: list[str] = []
    params: dict[str, Any] = {"limit": size}
    last_page: dict[str, Any] | None = None
    for _ in range(_MAX_PAGES):
        ctx.check_time()
        page = _list(ctx, "ASST-LIST-2", **params)
        pex = page["_exchange"]
        ctx.expect(
            len(page["data"]) <= size, "ASST-LIST-6", f"limit={size} returned {len(page['data'])} items", pex
        )
        seen.extend(a["id"] for a in page["data"])
        last_page = page
        if not page.get("has_more"):
            break
        if not page["data"]:
            ctx.fail("ASST-LIST-2", "has_more is true on an empty page", pex)
            break
        params = {"limit": size, "after": page["data"][-1]["id"]}
    ctx.expect(
        len(seen) == len(set(seen)),
        "ASST-LIST-2",
        "paging with after visited an assistant twice",
        ctx.client.last,
    )
    ctx.expect(
        set(seen) == set(ids),
        "ASST-LIST-2",
        f"paging with after visited {len(set(seen))} of {len(set(ids))} assistants",
        ctx.client.last,
    )
    # has_more false only on the last page: the page after the final item is empty.
    if ids:
        empty = _list(ctx, "ASST-LIST-2", after=ids[-1])
        ctx.expect(
            empty["data"] == [] and not empty.get("has_more"),
            "ASST-LIST-2",
            f"the page after the last assistant has {len(empty['data'])} items",
            empty["_exchange"],
        )
        if empty["data"] == []:
            ctx.note(
                "ASST-LIST-3",
                f"an empty page has first_id {empty.get('first_id')!r} and last_id {empty.get('last_id')!r}",
            )
        # Back with before from the last item: everything before it, i.e. all but the last.
        back = _list(ctx, "ASST-LIST-6", before=ids[-1], limit=100)
        back_ids = [a["id"] for a in back["data"]]
        if len(ids) <= 100:
            ctx.expect(
                set(back_ids) == set(ids[:-1]),
                "ASST-LIST-6",
                f"before={ids[-1]} returned {len(back_ids)} items, expected {len(ids) - 1}",
                back["_exchange"],
            )
    del last_page
    bad = ctx.request("GET", "/v1/assistants", params={"after": f"asst-{uuid.uuid4()}"})
    error = bad.error or {}
    if bad.status == 200 and isinstance(bad.json(), dict):
        ctx.note(
            "ASST-LIST-4", f"an unknown cursor gives a page of {len(bad.json().get('data') or [])} items"
        )
    elif bad.status in (400, 404):
        ctx.note(
            "ASST-LIST-4",
            f"an unknown cursor is rejected: {bad.status} {error.get('type')} (param {error.get('param')!r})",
        )
    else:
        ctx.note("ASST-LIST-4", f"an unknown cursor got {bad.status}: none of the conformant choices", bad)


@check("ASST-DEL-1", group="assistants", cost={"assistants": 2})
def assistant_delete(ctx: Context) -> None:
    """Delete answers assistant.deleted, after which retrieve answers 404."""
    pool = _pool(ctx)
    if len(pool) > 1 and not ctx.config.thorough:
        created = pool.pop()  # the deletion is also its clean-up
    else:
        created = created_assistant(ctx, "ASST-DEL-1", "Conformance delete")
    ex = ctx.request("DELETE", f"/v1/assistants/{created['id']}")
    body = ex.json()
    ok = ex.status == 200 and body == {"id": created["id"], "object": "assistant.deleted", "deleted": True}
    ctx.expect(ok, "ASST-DEL-1", f"delete answered {ex.status} {brief(ex)}", ex)
    if ex.status == 200 and created["id"] in ctx.created:
        ctx.created.remove(created["id"])
    ctx.expect_error(
        _get(ctx, str(created["id"])), 404, "not_found_error", "ASST-DEL-1", "retrieve after delete"
    )


@check("ASST-DEL-2", group="assistants", needs=("assistant_id",), cost={"assistants": 2})
def assistant_bound_is_protected(ctx: Context) -> None:
    """Deleting the key's bound assistant gets 400 with the documented message (and it survives)."""
    if not ctx.target.assistant_bound:
        raise Skip(
            "the configured assistant is not bound to the key (assistant_bound = false)", deliberate=True
        )
    ex = ctx.request("DELETE", f"/v1/assistants/{assistant_id(ctx)}")
    if ctx.expect_error(ex, 400, INVALID, "ASST-DEL-2", "deleting the bound assistant"):
        message = (ex.error or {}).get("message")
        ctx.expect(message == SELF_DELETE_MESSAGE, "ASST-DEL-2", f"message {message!r}", ex)
    still = _get(ctx, assistant_id(ctx))
    ctx.expect(
        still.status == 200,
        "ASST-DEL-2",
        f"the bound assistant is gone after the delete ({still.status})",
        still,
    )


@check("ASST-ORG-1", group="assistants", needs=("second_org_key",), cost={"assistants": 4, "chat": 1})
def assistant_org_isolation(ctx: Context) -> None:
    """Another organization's assistant answers 404 (never 403) to retrieve, modify, delete and chat."""
    mine = _scratch(ctx, "ASST-ORG-1", "Conformance isolation")
    other = ctx.target.second_org_key
    path = f"/v1/assistants/{mine['id']}"
    probes = [
        ("GET", path, None),
        ("POST", path, {"name": "stolen"}),
        ("PATCH", path, {"name": "stolen"}),
        ("DELETE", path, None),
        (
            "POST",
            "/v1/chat/completions",
            {"assistant_id": mine["id"], "messages": [{"role": "user", "content": "hi"}]},
        ),
    ]
    for method, url, body in probes if ctx.config.thorough else [p for p in probes if p[0] != "PATCH"]:
        ctx.check_time()
        extra = {"json_body": body} if body is not None else {}
        ex = ctx.request(method, url, key=other, **extra)
        ctx.expect_error(ex, 404, "not_found_error", "ASST-ORG-1", f"{method} {url} with another org's key")
    got = _get(ctx, str(mine["id"]))
    ctx.expect(
        got.status == 200 and (got.json() or {}).get("name") == mine["name"],
        "ASST-ORG-1",
        "another org's key changed or deleted the assistant",
        got,
    )


@check("ASST-ORG-2", group="assistants", cost={"assistants": 2})
def assistant_list_is_the_org(ctx: Context) -> None:
    """The list holds every assistant of the key's org (not just the bound one) and none of another org."""
    mine = _scratch(ctx, "ASST-ORG-2", "Conformance org list")
    ids = {a["id"] for a in list_all(ctx, "ASST-ORG-2")}
    ctx.expect(
        mine["id"] in ids, "ASST-ORG-2", "an assistant just created is not in the list", ctx.client.last
    )
    if ctx.target.assistant_id:
        ctx.expect(
            ctx.target.assistant_id in ids,
            "ASST-ORG-2",
            "the configured assistant is not in the list",
            ctx.client.last,
        )
    if not ctx.target.second_org_key:
        ctx.skip("ASST-ORG-2", "no second organization's key: only the own-org half was checked")
        return
    theirs = {a["id"] for a in list_all(ctx, "ASST-ORG-2", key=ctx.target.second_org_key)}
    leaked = ids & theirs
    ctx.expect(not leaked, "ASST-ORG-2", f"both organizations list {sorted(leaked)[:3]}", ctx.client.last)


@check("ASST-REQ-1", group="assistants", cost={"assistants": 1}, extra=True)
def assistant_unknown_fields(ctx: Context) -> None:
    """Report whether unknown fields in assistant bodies are ignored or rejected."""
    ex = create_assistant(ctx, {"name": "Conformance unknown field", "frobnicate": True})
    error = ex.error or {}
    if ex.status in (200, 201):
        ctx.note("ASST-REQ-1", f"ignores unknown fields ({ex.status})")
    elif ex.status == 400 and error.get("type") == INVALID:
        ctx.note("ASST-REQ-1", "rejects unknown fields (400 invalid_request_error)")
    else:
        ctx.note(
            "ASST-REQ-1", f"an unknown field got {ex.status} {brief(ex)}: none of the conformant choices", ex
        )
