"""SDK compatibility: the official openai Python SDK parses, iterates and maps errors.

The client is created with ``max_retries=0`` (it would otherwise retry 429/5xx and hide them) and
``_strict_response_validation=True`` (it then validates every response against its typed models).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import openai

from conformance.context import Context
from conformance.profiles.ragen.calls import assistant_id
from conformance.profiles.ragen.registry import check


def sdk_client(ctx: Context, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=key or ctx.target.api_key,
        base_url=ctx.target.base_url + "/v1",
        max_retries=0,
        timeout=ctx.target.timeout,
        _strict_response_validation=True,
        http_client=httpx2.Client(transport=ctx.client.httpx_transport()),
    )


def _call(ctx: Context, requirement: str, what: str, func: Any) -> Any:
    try:
        return func()
    except openai.APIStatusError as exc:
        ctx.fail(requirement, f"SDK {what}: {type(exc).__name__} {exc.status_code}: {str(exc)[:200]}")
    except (openai.APIResponseValidationError, openai.APIError, ValueError, TypeError) as exc:
        ctx.fail(requirement, f"SDK {what}: {type(exc).__name__}: {str(exc)[:200]}")
    return None


@check(
    "CHAT-RESP-1",
    "CHAT-STREAM-2",
    "CHAT-USAGE-STREAM-2",
    group="sdk",
    needs=("assistant_id",),
    cost={"chat": 2},
    extra=True,
)
def sdk_chat(ctx: Context) -> None:
    """chat.completions.create parses into ChatCompletion; a stream iterates to one usage chunk."""
    with sdk_client(ctx) as client:
        extra = {"assistant_id": assistant_id(ctx)}
        messages: Any = [{"role": "user", "content": "What is your refund policy?"}]
        completion = _call(
            ctx,
            "CHAT-RESP-1",
            "chat.completions.create",
            lambda: client.chat.completions.create(model="gpt-5.4", messages=messages, extra_body=extra),
        )
        if completion is not None:
            ctx.expect(
                isinstance(completion.choices[0].message.content, str),
                "CHAT-RESP-1",
                "SDK: choices[0].message.content is not a string",
            )

        def stream() -> list[Any]:
            return list(
                client.chat.completions.create(
                    model="gpt-5.4",
                    messages=messages,
                    extra_body=extra,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )

        chunks = _call(ctx, "CHAT-STREAM-2", "streaming iteration", stream)
        if chunks is not None:
            ctx.expect(bool(chunks), "CHAT-STREAM-2", "SDK: the stream yielded no chunks")
            usage = [c for c in chunks if c.usage is not None]
            ctx.expect(
                len(usage) == 1 and usage[0].choices == [],
                "CHAT-USAGE-STREAM-2",
                f"SDK: {len(usage)} usage chunks (expected one, with choices: [])",
            )


@check("ERR-TYPE-1", "AUTH-3", "AUTH-4", group="sdk", cost={"assistants": 4})
def sdk_errors(ctx: Context) -> None:
    """Errors map to the SDK's exception classes (NotFound, BadRequest, Authentication, PermissionDenied)."""
    unknown_key = f"rg-unknown-{uuid.uuid4().hex}"
    with sdk_client(ctx) as client, sdk_client(ctx, key=unknown_key) as stranger:
        probes: list[tuple[str, type[openai.APIStatusError], str, Callable[[], object]]] = [
            (
                "ERR-TYPE-1",
                openai.NotFoundError,
                "not_found_error",
                lambda: client.beta.assistants.retrieve(f"asst-{uuid.uuid4()}"),
            ),
            (
                "ERR-TYPE-1",
                openai.BadRequestError,
                "invalid_request_error",
                # A name that is not a string ("name | string | Yes"): a 400 every server owes.
                lambda: client.beta.assistants.create(model="gpt-5.4", name=42),  # type: ignore[arg-type]
            ),
            (
                "AUTH-3",
                openai.AuthenticationError,
                "authentication_error",
                lambda: stranger.beta.assistants.list(),
            ),
        ]
        deactivated = sdk_client(ctx, key=ctx.target.deactivated_key) if ctx.target.deactivated_key else None
        if deactivated is not None:
            probes.append(
                (
                    "AUTH-4",
                    openai.PermissionDeniedError,
                    "permission_error",
                    lambda: deactivated.beta.assistants.list(),
                )
            )
        else:
            ctx.skip("AUTH-4", "no deactivated key (--deactivated-key)")
        try:
            for rid, cls, error_type, call in probes:
                ctx.check_time()
                _expect_sdk_error(ctx, rid, cls, error_type, call)
        finally:
            if deactivated is not None:
                deactivated.close()


def _until(wanted: str, ids: Iterator[str]) -> list[str]:
    """Auto-paginate up to ``wanted`` (newest first: the first page), not through the whole org."""
    out: list[str] = []
    for found in ids:
        out.append(found)
        if found == wanted:
            break
    return out


def _expect_sdk_error(
    ctx: Context, rid: str, cls: type[openai.APIStatusError], error_type: str, call: Callable[[], object]
) -> None:
    try:
        call()
    except cls as exc:
        ctx.expect(
            getattr(exc, "type", None) == error_type,
            rid,
            f"SDK {cls.__name__}.type is {getattr(exc, 'type', None)!r}, expected {error_type!r}",
        )
    except openai.APIError as exc:
        ctx.fail(rid, f"SDK raised {type(exc).__name__} ({str(exc)[:120]}), expected {cls.__name__}")
    else:
        ctx.fail(rid, f"SDK call succeeded, expected {cls.__name__}")


@check("ASST-OBJ-1", "ASST-LIST-1", "ASST-DEL-1", group="sdk", cost={"assistants": 5})
def sdk_assistants(ctx: Context) -> None:
    """beta.assistants create/retrieve/update/list/delete parse into the SDK's typed models."""
    with sdk_client(ctx) as client:
        created = _call(
            ctx,
            "ASST-OBJ-1",
            "assistants.create",
            lambda: client.beta.assistants.create(
                model="gpt-5.4", name="Conformance SDK", instructions="Be brief."
            ),
        )
        if created is None:
            return
        ctx.created.append(created.id)
        _call(ctx, "ASST-OBJ-1", "assistants.retrieve", lambda: client.beta.assistants.retrieve(created.id))
        updated = _call(
            ctx,
            "ASST-OBJ-1",
            "assistants.update",
            lambda: client.beta.assistants.update(created.id, name="Conformance SDK 2"),
        )
        if updated is not None:
            ctx.expect(
                updated.name == "Conformance SDK 2", "ASST-OBJ-1", f"SDK update: name {updated.name!r}"
            )
        page = _call(
            ctx,
            "ASST-LIST-1",
            "assistants.list",
            lambda: _until(created.id, (a.id for a in client.beta.assistants.list(limit=2))),
        )
        if page is not None:
            ctx.expect(
                created.id in page, "ASST-LIST-1", "SDK auto-pagination did not reach the new assistant"
            )
        deleted = _call(
            ctx, "ASST-DEL-1", "assistants.delete", lambda: client.beta.assistants.delete(created.id)
        )
        if deleted is not None:
            ctx.expect(deleted.deleted is True, "ASST-DEL-1", "SDK: deleted is not true")
            ctx.created.remove(created.id)
