"""A second, independently written implementation of the Ragen API, for testing the gate.

It does not import mockserver, and on every point where the vendor documents are silent it
deliberately chooses differently from the bundled mock: create answers 201, cleared instructions
read back as "", unknown body fields are rejected, stream_options without stream is rejected (as
OpenAI does), a conversation without a user message is rejected, only the ``asst-`` id form is
accepted, the context is small (8000 tokens), bodies over 256 KiB get 400 (not 413), an unknown
list cursor gets 404, authentication runs before the rate limit and only successful requests
count against the budget, error codes and messages are its own, the first stream chunk carries
``content: ""`` next to the role, a 405 has its own error type (ERR-TYPE-1 covers only the
documented statuses), and there is no native ``/v1/chat`` endpoint.

``faults`` switches on deliberate violations (see ``FAULTS``) so tests can prove the gate catches
each one and names the right requirement.
"""

from __future__ import annotations

import collections
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "ragen-large-2"
MAIN_KEY, OTHER_KEY, OFF_KEY, CHAT_KEY = "alt-main", "alt-other", "alt-off", "alt-chat"
ASSISTANT_A = "asst-5b0c2d6e-0000-4a1a-9c1e-00000000a001"
ASSISTANT_B = "asst-5b0c2d6e-0000-4a1a-9c1e-00000000b001"
SELF_DELETE = "Cannot delete the assistant this API key is bound to. Rotate the key first, then retry."
MAX_BODY = 256 * 1024
CONTEXT_TOKENS = 8000

FAULTS = {
    "wrong_object_name": "chat.completion object is called 'chat_completion'",
    "missing_done": "streams end without data: [DONE]",
    "usage_without_opt_in": "streams always end with a usage chunk",
    "usage_chunk_with_choices": "the usage chunk repeats the finishing choice",
    "unframed_events": "stream events are JSON lines without 'data:'",
    "single_newline_events": "stream events are separated by one newline, not a blank line",
    "flat_error_envelope": "errors are {message, type} without the 'error' wrapper",
    "wrong_error_type": "404s say invalid_request_error",
    "accepts_out_of_range": "temperature and max_tokens are not range-checked",
    "open_auth": "requests without a key are served as the main key",
    "cross_org_leak": "assistants of any organization are visible",
    "deletable_bound": "the bound assistant can be deleted",
    "missing_retry_after": "429s carry no Retry-After",
    "inconsistent_chunk_ids": "each chunk gets a new id",
    "role_not_first": "the role comes in the second chunk",
    "crash_on_bad_json": "invalid JSON bodies crash with 500",
    "no_length_finish": "an answer cut by max_tokens ends with finish_reason 'stop'",
    "bad_usage_sum": "total_tokens is off by one",
    "model_echo": "the response model echoes the request's model",
    "deactivated_allowed": "deactivated keys work",
    "scope_ignored": "chat-only keys may use the Assistants API",
    "unknown_key_403": "unknown keys get 403",
    "basic_auth_accepted": "'Authorization: Basic <key>' is accepted",
    "instructions_not_cleared": "instructions: '' is ignored",
    "no_patch": "PATCH is not supported (405)",
    "ignored_fields_stored": "metadata and description are stored and echoed",
    "pagination_repeats": "after=<id> includes the cursor itself",
    "list_only_bound": "the list holds only the key's bound assistant",
    "wrong_delete_object": "delete answers object 'assistant_deleted'",
    "no_rate_limit": "the chat tier never throttles",
    "throttles_early": "the chat tier throttles after half its budget",
    "no_request_id": "no x-request-id header",
    "no_rate_headers": "JSON responses carry no x-ratelimit-* headers",
    "name_optional": "create without name is accepted",
    "unknown_assistant_answers": "chat with an unknown assistant_id answers anyway",
    "roles_unchecked": "any message role is accepted",
    "data_after_done": "an extra chunk follows [DONE]",
    "finish_chunk_content": "the finishing chunk carries content",
    "stream_text_not_content": "stream deltas carry the answer in 'text', not 'content'",
    "no_usage_null": "with include_usage, chunks omit 'usage': null",
    "messages_unbounded": "more than 100 messages are accepted",
    "created_in_ms": "created is in milliseconds",
    "stream_as_json": "stream: true is answered with JSON",
    "never_recovers": "a throttled client stays throttled",
    "no_logprobs": "choices omit logprobs and refusal",
    "content_unchecked": "a message content of any type is accepted (and stringified)",
    "stream_type_unchecked": 'a non-boolean stream ("yes") is accepted and answered as JSON',
    "modify_unvalidated": "modify accepts and stores a temperature outside 0-2 (not ignored)",
    "list_limit_unchecked": "a list limit outside 1-100 is clamped instead of rejected",
    "context_code_wrong": "a prompt over the context gets 400 with code 'prompt_too_long'",
    "validation_422": "out-of-range values get 422 (type 'validation_error') instead of 400",
    "surrogate_crash": "a name that is not encodable as UTF-8 (a lone surrogate escape) crashes with a 500",
}

# Other choices where the documents are silent: not faults, the gate must pass them.
CHOICES = {
    "text_plain_accepted": "bodies are parsed as JSON whatever the content type",
}

KB = [
    (
        "refund",
        "Refunds are accepted within thirty days of purchase and go back to the original payment "
        "method within five business days after the returned item arrives at our warehouse.",
    ),
    ("ship", "Orders ship within two business days and standard delivery takes three to five days."),
    ("onboard", "Onboarding has three steps: create a workspace, invite the team, connect the data."),
]
FALLBACK = "I could not find that in the knowledge base, so please contact our support team for details."


class APIError(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.code, self.param = status, kind, message, code, param
        self.headers = headers or {}


def bad_request(message: str, param: str | None = None, code: str | None = "invalid_parameter") -> APIError:
    return APIError(400, "invalid_request_error", message, code=code, param=param)


def not_found(message: str, param: str | None = "assistant_id") -> APIError:
    return APIError(404, "not_found_error", message, code="no_such_assistant", param=param)


@dataclass(frozen=True)
class Key:
    org: str
    bound: str
    scopes: frozenset[str] = frozenset({"chat", "assistants"})
    active: bool = True


@dataclass
class Options:
    faults: frozenset[str] = frozenset()
    rate_limits: bool = False
    chat_tier: tuple[int, float] = (10, 60.0)
    assistants_tier: tuple[int, float] = (20, 60.0)
    max_body: int = MAX_BODY


@dataclass
class State:
    keys: dict[str, Key] = field(default_factory=dict)
    assistants: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> object (with _org, _seq)
    seq: int = 0
    sent: dict[tuple[str, str], collections.deque[float]] = field(default_factory=dict)
    blocked: set[tuple[str, str]] = field(default_factory=set)


STATE = web.AppKey("state", State)
OPTIONS = web.AppKey("options", Options)
KEY = web.RequestKey("key", Key)
RATE_HEADERS = web.RequestKey("rate_headers", dict)


def _assistant(
    state: State, org: str, assistant_id: str, name: str, instructions: str | None
) -> dict[str, Any]:
    state.seq += 1
    obj = {
        "id": assistant_id,
        "object": "assistant",
        "created_at": int(time.time()),
        "name": name,
        "description": None,
        "model": MODEL,
        "instructions": instructions,
        "tools": [{"type": "file_search"}],
        "tool_resources": {},
        "metadata": {},
        "temperature": 0.7,
        "top_p": 1.0,
        "response_format": "auto",
        "_org": org,
        "_seq": state.seq,
    }
    state.assistants[assistant_id] = obj
    return obj


def public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _faults(request: web.Request) -> frozenset[str]:
    return request.app[OPTIONS].faults


def _tier(request: web.Request) -> str | None:
    if request.path == "/v1/chat/completions":
        return "chat"
    if request.path.startswith("/v1/assistants"):
        return "assistants"
    return None


def _error_response(exc: APIError, faults: frozenset[str]) -> web.Response:
    kind, status = exc.kind, exc.status
    if "wrong_error_type" in faults and status == 404:
        kind = "invalid_request_error"
    if "validation_422" in faults and status == 400 and exc.code == "out_of_range":
        kind, status = "validation_error", 422
    error = {"message": exc.message, "type": kind, "param": exc.param, "code": exc.code}
    body = error if "flat_error_envelope" in faults else {"error": error}
    return web.json_response(body, status=status, headers=exc.headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = _faults(request)
    try:
        response = await handler(request)
    except APIError as exc:
        response = _error_response(exc, faults)
    except web.HTTPNotFound:
        response = _error_response(
            APIError(
                404, "not_found_error", f"No route for {request.path}.", code="unknown_route", param=None
            ),
            faults,
        )
    except web.HTTPMethodNotAllowed:
        response = web.json_response(
            {
                "error": {
                    "message": "Method not allowed.",
                    "type": "method_not_allowed",
                    "param": None,
                    "code": "method_not_allowed",
                }
            },
            status=405,
        )
    if "no_request_id" not in faults and not response.prepared:
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    if "no_rate_headers" in faults and not response.prepared:
        for name in [h for h in response.headers if h.lower().startswith("x-ratelimit-")]:
            del response.headers[name]
    return response


def authenticate(request: web.Request) -> Key:
    faults, state = _faults(request), request.app[STATE]
    header = request.headers.get("Authorization")
    if header is None:
        if "open_auth" in faults:
            return state.keys[MAIN_KEY]
        raise APIError(401, "authentication_error", "No credentials were supplied.", code="missing_api_key")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        if "basic_auth_accepted" in faults and scheme == "Basic" and token in state.keys:
            return state.keys[token]
        raise APIError(
            401, "authentication_error", "Use 'Authorization: Bearer <key>'.", code="malformed_authorization"
        )
    key = state.keys.get(token.strip())
    if key is None:
        if "unknown_key_403" in faults:
            raise APIError(403, "permission_error", "That key is not allowed.", code="forbidden")
        raise APIError(401, "authentication_error", "That API key does not exist.", code="invalid_api_key")
    if not key.active and "deactivated_allowed" not in faults:
        raise APIError(403, "permission_error", "That API key was revoked.", code="key_revoked")
    tier = _tier(request)
    if tier is not None and tier not in key.scopes and "scope_ignored" not in faults:
        raise APIError(
            403, "permission_error", f"This key lacks the {tier} scope.", code="insufficient_scope"
        )
    return key


@web.middleware
async def auth_and_rate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authentication first, then the rate limit; only successful requests are counted."""
    tier = _tier(request)
    if tier is None:
        return await handler(request)
    options, state, faults = request.app[OPTIONS], request.app[STATE], _faults(request)
    limit, window = options.chat_tier if tier == "chat" else options.assistants_tier
    if "throttles_early" in faults and tier == "chat":
        limit = max(1, limit // 2)
    client = (request.remote or "?", tier)
    now = time.monotonic()
    sent = state.sent.setdefault(client, collections.deque())
    while sent and sent[0] <= now - window:
        sent.popleft()
    try:
        request[KEY] = authenticate(request)
    except APIError as exc:
        # Rejected before counting, but the client still learns its budget (HDR-RATE-1).
        reset = math.ceil(sent[0] + window - now) if sent else 0
        exc.headers.update(_rate_headers(limit, limit - len(sent), reset))
        raise
    limited = options.rate_limits and not ("no_rate_limit" in faults and tier == "chat")
    if limited and (len(sent) >= limit or ("never_recovers" in faults and client in state.blocked)):
        state.blocked.add(client)
        retry = max(1, math.ceil(sent[0] + window - now)) if sent else math.ceil(window)
        headers = {} if "missing_retry_after" in faults else {"Retry-After": str(retry)}
        headers.update(_rate_headers(limit, limit - len(sent), retry))
        raise APIError(
            429,
            "rate_limit_error",
            f"Too many requests; {limit} per {window:g}s.",
            code="too_many_requests",
            headers=headers,
        )
    # A stream's headers leave before the handler returns: give it the count it will have.
    reset = math.ceil(sent[0] + window - now) if sent else math.ceil(window)
    request[RATE_HEADERS] = _rate_headers(limit, limit - len(sent) - 1, reset)
    try:
        response = await handler(request)
    except APIError as exc:  # rejected: not counted, but the headers still tell the budget
        exc.headers.update(
            _rate_headers(limit, limit - len(sent), math.ceil(sent[0] + window - now) if sent else 0)
        )
        raise
    if response.status < 400:
        sent.append(now)
    if not response.prepared:
        reset = math.ceil(sent[0] + window - now) if sent else 0
        response.headers.update(_rate_headers(limit, max(0, limit - len(sent)), reset))
    return response


def _rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(limit),
        "x-ratelimit-remaining-requests": str(max(0, remaining)),
        "x-ratelimit-reset-requests": f"{reset}s",
    }


async def read_json(request: web.Request) -> dict[str, Any]:
    faults = _faults(request)
    raw = await request.read()
    limit = request.app[OPTIONS].max_body
    if len(raw) > limit:
        raise bad_request(f"Bodies are limited to {limit} bytes.", code="body_too_large")
    if request.content_type != "application/json" and "text_plain_accepted" not in faults:
        raise bad_request("Send the body as application/json.", code="unsupported_content_type")
    try:
        body = json.loads(raw)
    except ValueError:
        if "crash_on_bad_json" in faults:
            raise web.HTTPInternalServerError(text="Traceback (most recent call last): ...") from None
        raise bad_request("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", code="invalid_json")
    return body


def _unknown(body: dict[str, Any], known: set[str]) -> None:
    extra = sorted(set(body) - known)
    if extra:
        raise bad_request(
            f"Unrecognized request argument: {extra[0]}", param=extra[0], code="unknown_parameter"
        )


def _number(
    body: dict[str, Any], name: str, low: float, high: float, *, integer: bool = False, checked: bool = True
) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and value != int(value)):
        raise bad_request(f"{name} must be {'an integer' if integer else 'a number'}.", param=name)
    if checked and not low <= value <= high:
        raise bad_request(f"{name} must be between {low:g} and {high:g}.", param=name, code="out_of_range")
    return int(value) if integer else value


def _optional_str(body: dict[str, Any], name: str) -> None:
    if body.get(name) is not None and not isinstance(body[name], str):
        raise bad_request(f"{name} must be a string.", param=name)


def _text_parts(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(p, dict) and p.get("type") == "text" for p in content)
        and all(isinstance(p.get("text"), str) for p in content)
    )


CHAT_FIELDS = {"assistant_id", "messages", "model", "temperature", "max_tokens", "stream", "stream_options"}


def _answer(question: str) -> str:
    lowered = question.lower()
    return next((text for word, text in KB if word in lowered), FALLBACK)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    faults, state, key = _faults(request), request.app[STATE], request[KEY]
    body = await read_json(request)
    _unknown(body, CHAT_FIELDS)
    assistant_id = body.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        raise bad_request("assistant_id is required.", param="assistant_id", code="missing_parameter")
    messages = body.get("messages")
    max_messages = 10_000 if "messages_unbounded" in faults else 100
    if not isinstance(messages, list) or not 1 <= len(messages) <= max_messages:
        raise bad_request("messages must be a list of 1 to 100 messages.", param="messages")
    for message in messages:
        if "content_unchecked" in faults and isinstance(message, dict) and "content" in message:
            message["content"] = json.dumps(message["content"])
        if isinstance(message, dict) and _text_parts(message.get("content")):
            # CHAT-REQ-11 (MAY): unlike the mock, accept OpenAI text parts, as the OpenAI API does.
            message["content"] = "".join(part["text"] for part in message["content"])
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise bad_request("Each message needs a string content.", param="messages")
        if message.get("role") not in ("user", "assistant", "system") and "roles_unchecked" not in faults:
            raise bad_request(
                f"Unsupported role {message.get('role')!r}.", param="messages", code="invalid_role"
            )
    checked = "accepts_out_of_range" not in faults
    _number(body, "temperature", 0, 2, checked=checked)
    max_tokens = _number(body, "max_tokens", 1, 32000, integer=True, checked=checked)
    _optional_str(body, "model")
    if (
        body.get("stream") is not None
        and not isinstance(body["stream"], bool)
        and "stream_type_unchecked" not in faults
    ):
        raise bad_request("stream must be a boolean.", param="stream")
    stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise bad_request("stream_options is only allowed with stream: true.", param="stream_options")
        if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
            raise bad_request("stream_options.include_usage must be a boolean.", param="stream_options")
        _unknown(options, {"include_usage"})
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    users = [m["content"] for m in messages if m.get("role") == "user"]
    if not users:
        raise bad_request("The conversation needs at least one user message.", param="messages")
    assistant = state.assistants.get(assistant_id)
    invisible = assistant is None or (assistant["_org"] != key.org and "cross_org_leak" not in faults)
    if invisible and "unknown_assistant_answers" not in faults:
        raise not_found(f"Assistant {assistant_id} does not exist.")
    prompt_chars = sum(len(m["content"]) for m in messages)
    prompt_tokens = math.ceil(prompt_chars / 4)
    if prompt_tokens > CONTEXT_TOKENS:
        code = "prompt_too_long" if "context_code_wrong" in faults else "context_length_exceeded"
        raise bad_request("The conversation is longer than the context.", code=code)
    words = _answer(users[-1]).split(" ")
    finish = "stop"
    if max_tokens is not None and max_tokens < len(words) and "accepts_out_of_range" not in faults:
        words, finish = words[:max_tokens], "length"
    if "no_length_finish" in faults:
        finish = "stop"
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(words),
        "total_tokens": prompt_tokens + len(words) + (1 if "bad_usage_sum" in faults else 0),
    }
    model = body["model"] if "model_echo" in faults and isinstance(body.get("model"), str) else MODEL
    created = int(time.time() * (1000 if "created_in_ms" in faults else 1))
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if stream and "stream_as_json" not in faults:
        return await _stream(request, completion_id, created, model, words, finish, usage, include_usage)
    name = "chat_completion" if "wrong_object_name" in faults else "chat.completion"
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": " ".join(words), "refusal": None},
        "finish_reason": finish,
        "logprobs": None,
    }
    if "no_logprobs" in faults:
        del choice["logprobs"], choice["message"]["refusal"]
    return web.json_response(
        {
            "id": completion_id,
            "object": name,
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [choice],
            "usage": usage,
        }
    )


async def _stream(
    request: web.Request,
    completion_id: str,
    created: int,
    model: str,
    words: list[str],
    finish: str,
    usage: dict[str, int],
    include_usage: bool,
) -> web.StreamResponse:
    faults = _faults(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    if "no_request_id" not in faults:
        response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    response.headers.update(request.get(RATE_HEADERS, {}))
    await response.prepare(request)

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}" if "inconsistent_chunk_ids" in faults else completion_id
        data: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if include_usage and "no_usage_null" not in faults:
            data["usage"] = None
        data.update(extra)
        return data

    def choice(delta: dict[str, Any], reason: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}]

    pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
    events: list[dict[str, Any]] = []
    if "role_not_first" in faults:
        events += [chunk(choice({"content": pieces[0]})), chunk(choice({"role": "assistant"}))]
        pieces = pieces[1:]
    else:
        events.append(chunk(choice({"role": "assistant", "content": ""})))
    field = "text" if "stream_text_not_content" in faults else "content"
    events += [chunk(choice({field: p})) for p in pieces]
    final = {"content": "."} if "finish_chunk_content" in faults else {}
    events.append(chunk(choice(final, finish)))
    if include_usage or "usage_without_opt_in" in faults:
        usage_choices = choice({}, finish) if "usage_chunk_with_choices" in faults else []
        events.append(chunk(usage_choices, usage=usage))
    separator = "\n" if "single_newline_events" in faults else "\n\n"
    prefix = "" if "unframed_events" in faults else "data: "
    for event in events:
        await response.write(f"{prefix}{json.dumps(event)}{separator}".encode())
    if "missing_done" not in faults:
        await response.write(f"{prefix}[DONE]{separator}".encode())
    if "data_after_done" in faults:
        await response.write(f"data: {json.dumps(events[-1])}\n\n".encode())
    await response.write_eof()
    return response


ASSISTANT_FIELDS = {
    "name",
    "instructions",
    "model",
    "temperature",
    "description",
    "metadata",
    "tools",
    "tool_resources",
    "top_p",
    "response_format",
}


def _validate_assistant(body: dict[str, Any], *, create: bool, faults: frozenset[str]) -> None:
    unchecked_modify = not create and "modify_unvalidated" in faults
    _unknown(body, ASSISTANT_FIELDS)
    if create and "name" not in body and "name_optional" not in faults:
        raise bad_request("name is required.", param="name", code="missing_parameter")
    if (
        "name" in body
        and not isinstance(body["name"], str)
        and not (body["name"] is None and "name_optional" in faults)
    ):
        raise bad_request("name must be a string.", param="name")
    for name in ("instructions", "model", "description"):
        _optional_str(body, name)
    _number(body, "temperature", 0, 2, checked=not unchecked_modify)
    _number(body, "top_p", -math.inf, math.inf)
    for name, kind in (("metadata", dict), ("tool_resources", dict), ("tools", list)):
        if body.get(name) is not None and not isinstance(body[name], kind):
            raise bad_request(f"{name} has the wrong type.", param=name)


def _find(request: web.Request) -> dict[str, Any]:
    state, key = request.app[STATE], request[KEY]
    assistant_id = request.match_info["assistant_id"]
    obj = state.assistants.get(assistant_id)
    if obj is None or (obj["_org"] != key.org and "cross_org_leak" not in _faults(request)):
        raise not_found(f"Assistant {assistant_id} does not exist.")
    return obj


def _shown(obj: dict[str, Any], faults: frozenset[str]) -> dict[str, Any]:
    shown = public(obj)
    if "ignored_fields_stored" in faults:
        shown["metadata"] = obj.get("_metadata", {})
        shown["description"] = obj.get("_description")
    return shown


async def create_assistant(request: web.Request) -> web.Response:
    faults, state = _faults(request), request.app[STATE]
    body = await read_json(request)
    _validate_assistant(body, create=True, faults=faults)
    if "surrogate_crash" in faults and isinstance(body.get("name"), str):
        body["name"].encode("utf-8")  # UnicodeEncodeError -> aiohttp's plain 500
    obj = _assistant(
        state,
        request[KEY].org,
        f"asst-{uuid.uuid4()}",
        body.get("name") or "",
        body.get("instructions") or None,
    )
    obj["_metadata"], obj["_description"] = body.get("metadata") or {}, body.get("description")
    return web.json_response(_shown(obj, faults), status=201)


async def get_assistant(request: web.Request) -> web.Response:
    return web.json_response(_shown(_find(request), _faults(request)))


async def modify_assistant(request: web.Request) -> web.Response:
    faults = _faults(request)
    if request.method == "PATCH" and "no_patch" in faults:
        raise web.HTTPMethodNotAllowed("PATCH", ["GET", "POST", "DELETE"])
    obj = _find(request)
    body = await read_json(request)
    _validate_assistant(body, create=False, faults=faults)
    if "name" in body:
        obj["name"] = body["name"]
    if body.get("instructions") is not None and not (
        body["instructions"] == "" and "instructions_not_cleared" in faults
    ):
        obj["instructions"] = body["instructions"]
    if "metadata" in body:
        obj["_metadata"] = body["metadata"] or {}
    if "modify_unvalidated" in faults and body.get("temperature") is not None:
        obj["temperature"] = body["temperature"]
    return web.json_response(_shown(obj, faults))


async def delete_assistant(request: web.Request) -> web.Response:
    faults, state = _faults(request), request.app[STATE]
    obj = _find(request)
    if obj["id"] == request[KEY].bound and "deletable_bound" not in faults:
        raise bad_request(SELF_DELETE, code=None)
    del state.assistants[obj["id"]]
    name = "assistant_deleted" if "wrong_delete_object" in faults else "assistant.deleted"
    return web.json_response({"id": obj["id"], "object": name, "deleted": True})


async def list_assistants(request: web.Request) -> web.Response:
    faults, state, key = _faults(request), request.app[STATE], request[KEY]
    query = request.query
    _unknown(dict(query), {"limit", "order", "after", "before"})
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise bad_request("limit must be an integer.", param="limit") from None
    if "list_limit_unchecked" in faults:
        limit = min(100, max(1, limit))
    if not 1 <= limit <= 100:
        raise bad_request("limit must be between 1 and 100.", param="limit", code="out_of_range")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request("order must be asc or desc.", param="order")
    items = [a for a in state.assistants.values() if a["_org"] == key.org or "cross_org_leak" in faults]
    if "list_only_bound" in faults:
        items = [a for a in items if a["id"] == key.bound]
    items.sort(key=lambda a: (a["created_at"], a["_seq"]), reverse=order == "desc")
    ids = [a["id"] for a in items]
    for cursor in ("after", "before"):
        if cursor in query and query[cursor] not in ids:
            raise not_found(f"No assistant {query[cursor]} to page from.", param=cursor)
    if "after" in query:
        start = ids.index(query["after"]) + (0 if "pagination_repeats" in faults else 1)
        page, has_more = items[start : start + limit], len(items) > start + limit
    elif "before" in query:
        end = ids.index(query["before"])
        page, has_more = items[max(0, end - limit) : end], end - limit > 0
    else:
        page, has_more = items[:limit], len(items) > limit
    data = [_shown(a, faults) for a in page]
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }
    )


def create_app(options: Options | None = None) -> web.Application:
    options = options or Options()
    unknown = set(options.faults) - set(FAULTS) - set(CHOICES)
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}")
    app = web.Application(
        middlewares=[errors_middleware, auth_and_rate_middleware], client_max_size=16 * MAX_BODY
    )
    state = State(
        keys={
            MAIN_KEY: Key("org-a", ASSISTANT_A),
            CHAT_KEY: Key("org-a", ASSISTANT_A, scopes=frozenset({"chat"})),
            OFF_KEY: Key("org-a", ASSISTANT_A, active=False),
            OTHER_KEY: Key("org-b", ASSISTANT_B),
        }
    )
    _assistant(state, "org-a", ASSISTANT_A, "Alt Support", "Answer from the knowledge base.")
    _assistant(state, "org-b", ASSISTANT_B, "Other Org", None)
    app[STATE], app[OPTIONS] = state, options
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/assistants", list_assistants)
    app.router.add_post("/v1/assistants", create_assistant)
    app.router.add_get("/v1/assistants/{assistant_id}", get_assistant)
    app.router.add_post("/v1/assistants/{assistant_id}", modify_assistant)
    app.router.add_patch("/v1/assistants/{assistant_id}", modify_assistant)
    app.router.add_delete("/v1/assistants/{assistant_id}", delete_assistant)
    return app
