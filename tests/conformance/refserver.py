"""A second reference Ragen server, written from the vendor documents alone.

Written from ``../shared/seeds/000_*`` (chat completions), ``001_*`` (assistants) and
``spec/openapi.yaml``, without reading the mock or ``altserver.py``. It is a correct server
that answers like an LLM (random text of random length on every call) and makes, wherever the
documents leave a choice, the one a gate could most easily mistake for a violation:

- JSON bodies are parsed whatever their ``Content-Type``; a modify without a body changes nothing;
- assistant ``temperature``, ``model``, ``description``, ``metadata``, ``tools``, ``top_p``,
  ``tool_resources``, ``response_format`` are accepted and ignored whatever their value
  (001: "temperature | 0–2 | No (accepted, ignored)");
- empty (or blank) assistant names are rejected with 400; cleared instructions read back ``""``;
- URLs that cannot name a resource (an id with control characters, ``?``, ``#``, ``%``, ``/``)
  are answered 404 before authentication; check order: route, auth, scope, rate limit, body,
  lookup — so rejected-for-auth requests never count against a budget;
- unknown keys are ignored everywhere (the body, messages, ``stream_options``);
- rate limits use fixed windows aligned to the clock (``floor(now / window)``): the chat tier
  per client IP (000: "10 req/min per IP"), the assistants tier per organization;
- a list cursor naming no assistant gives an empty page; native ``/v1/chat`` has its own budget;
- context length 100,000 estimated tokens (4 characters each); bodies up to 4 MiB (413).

Served in-process for tests: ``BackgroundServer(lambda: create_app(Options(...)))``.
"""

from __future__ import annotations

import json
import math
import random
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "ASSISTANT_A",
    "ASSISTANT_A2",
    "ASSISTANT_B",
    "CHAT_ONLY_KEY",
    "DEACTIVATED_KEY",
    "MAIN_KEY",
    "MODEL",
    "ORG_TEMPERATURE",
    "OTHER_ORG_KEY",
    "SELF_DELETE_MESSAGE",
    "ApiError",
    "FixedWindows",
    "Options",
    "create_app",
]

MODEL = "ragen-llm-7"  # the deployment's model; every response carries it
ORG_TEMPERATURE = 0.4  # the organization default an assistant reads through
ASSISTANT_A = "asst-7d0c2b9e-5a41-4c2f-9e1d-0a6b3c8f2e11"  # org A, bound to MAIN_KEY
ASSISTANT_A2 = "asst-1f3e5a7c-9b2d-4e6f-8a1c-3e5f7a9b1d2c"  # org A, unbound
ASSISTANT_B = "asst-c4a8e2f6-0b1d-4f3a-9c5e-7a2b4d6f8e01"  # org B
MAIN_KEY = "rk-main-8f2d1c"
OTHER_ORG_KEY = "rk-other-3b7e9a"
DEACTIVATED_KEY = "rk-off-5c1a7d"
CHAT_ONLY_KEY = "rk-chat-2e8f4b"
# 001: "Self-delete protection: ... returns: 400 invalid_request_error" with this message.
SELF_DELETE_MESSAGE = (
    "Cannot delete the assistant this API key is bound to. Rotate the key first, then retry."
)

CHARS_PER_TOKEN = 4
MAX_MESSAGES = 100
MAX_TOKENS_RANGE = (1, 32_000)
TEMPERATURE_RANGE = (0.0, 2.0)
# A path segment that can name an assistant: no control characters, spaces or URL delimiters.
ROUTABLE_ID = r"[^\x00-\x20\x7f?#%/\\]+"


@dataclass(frozen=True)
class Options:
    rate_limits: bool = True
    chat_tier: tuple[int, float] = (10, 60.0)  # (limit, window seconds)
    assistants_tier: tuple[int, float] = (20, 60.0)
    max_body: int = 4 * 1024 * 1024
    context_tokens: int = 100_000
    # The limiters' clock: a test can move a window boundary into a burst on purpose.
    clock: Callable[[], float] = time.time


# --- errors ----------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered with the OpenAI envelope (000: "Errors use the OpenAI error envelope")."""

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
        self.status, self.kind, self.message = status, kind, message
        self.code, self.param, self.headers = code, param, headers or {}

    def response(self) -> web.Response:
        body = {"error": {"message": self.message, "type": self.kind, "code": self.code, "param": self.param}}
        return web.json_response(body, status=self.status, headers=self.headers)


def invalid(message: str, *, param: str | None, code: str | None = "invalid_value") -> ApiError:
    return ApiError(400, "invalid_request_error", message, code=code, param=param)


def _not_found(assistant_id: str) -> ApiError:
    return ApiError(
        404,
        "not_found_error",
        f"No assistant with id {assistant_id!r} in your organization.",
        code="assistant_not_found",
        param="assistant_id",
    )


@web.middleware
async def envelope_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure, the router's 404/405 and a too-large body included, gets the envelope."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPRequestEntityTooLarge:
        return ApiError(
            413, "invalid_request_error", "Request body too large.", code="body_too_large"
        ).response()
    except web.HTTPMethodNotAllowed as exc:
        error = ApiError(
            405, "invalid_request_error", f"{request.method} is not allowed here.", code="method_not_allowed"
        )
        error.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return error.response()
    except web.HTTPNotFound:
        return ApiError(
            404, "not_found_error", f"No such URL: {request.path!r}.", code="unknown_url"
        ).response()
    except web.HTTPException as exc:
        return ApiError(exc.status, "invalid_request_error", exc.reason).response()
    except ConnectionResetError:  # the client left mid-stream: nothing to answer
        raise
    except Exception as exc:  # a bug here must still answer with the envelope, never a traceback
        return ApiError(500, "api_error", f"internal error ({type(exc).__name__})").response()


# --- keys, organizations, rate limits -----------------------------------------------------------


@dataclass(frozen=True)
class Key:
    org: str
    bound_to: str | None
    scopes: frozenset[str]
    active: bool = True


KEYS = {
    MAIN_KEY: Key("org-a", ASSISTANT_A, frozenset({"chat", "assistants"})),
    OTHER_ORG_KEY: Key("org-b", ASSISTANT_B, frozenset({"chat", "assistants"})),
    DEACTIVATED_KEY: Key("org-a", ASSISTANT_A, frozenset({"chat", "assistants"}), active=False),
    CHAT_ONLY_KEY: Key("org-a", ASSISTANT_A, frozenset({"chat"})),
}
RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])
BEARER = re.compile(r"Bearer +(\S+)", re.IGNORECASE)


def authenticate(request: web.Request, scope: str) -> Key:
    header = request.headers.get("Authorization")
    if header is None:
        raise ApiError(401, "authentication_error", "No API key: send 'Authorization: Bearer <key>'.",
                       code="missing_api_key")  # fmt: skip
    match = BEARER.fullmatch(header.strip())
    if match is None:
        raise ApiError(401, "authentication_error", "Authorization must be 'Bearer <key>'.",
                       code="malformed_authorization")  # fmt: skip
    key = KEYS.get(match.group(1))
    if key is None:
        raise ApiError(401, "authentication_error", "Unknown API key.", code="invalid_api_key")
    if not key.active:
        raise ApiError(403, "permission_error", "This API key is deactivated.", code="key_deactivated")
    if scope not in key.scopes:
        raise ApiError(
            403, "permission_error", f"This API key lacks the {scope!r} scope.", code="missing_scope"
        )
    return key


def _duration(seconds: float) -> str:
    """OpenAI's form of x-ratelimit-reset-requests: ``7s``, ``1m0s``."""
    whole = max(1, math.ceil(seconds - 1e-6))
    return f"{whole // 60}m{whole % 60}s" if whole >= 60 else f"{whole}s"


@dataclass
class FixedWindows:
    """At most ``limit`` admissions per client in each window ``[k*window, (k+1)*window)`` of the clock."""

    limit: int
    window: float
    clock: Callable[[], float] = time.time
    _counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def admit(self, client: str) -> dict[str, str]:
        """Count one request for ``client``: its rate headers, or ApiError 429."""
        now = self.clock()
        index = math.floor(now / self.window)
        left = (index + 1) * self.window - now
        used = self._counts.get((client, index), 0)
        headers = {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-reset-requests": _duration(left),
        }
        if used >= self.limit:
            headers |= {"x-ratelimit-remaining-requests": "0", "Retry-After": str(max(1, math.ceil(left)))}
            raise ApiError(
                429,
                "rate_limit_error",
                f"Rate limit exceeded ({self.limit} requests per {self.window:g} s); "
                f"retry after {headers['Retry-After']} s.",
                code="rate_limit_exceeded",
                headers=headers,
            )
        # Forget windows that ended: the table stays one entry per active client.
        self._counts = {k: v for k, v in self._counts.items() if k[1] == index}
        self._counts[(client, index)] = used + 1
        return headers | {"x-ratelimit-remaining-requests": str(self.limit - used - 1)}


# --- request bodies ------------------------------------------------------------------------------


async def read_json(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, whatever Content-Type says (the documents do not require one)."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise invalid("A JSON object body is required.", param=None, code="missing_body")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid("The body is not valid JSON.", param=None, code="invalid_json") from None
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.", param=None, code="invalid_json")
    return body


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _integer(value: Any) -> int | None:
    """An integer in the JSON Schema sense: ``5`` and ``5.0`` alike."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ChatRequest:
    assistant_id: str
    messages: list[dict[str, str]]
    max_tokens: int | None
    stream: bool
    include_usage: bool


def parse_chat(body: dict[str, Any]) -> ChatRequest:
    """000's request table; unknown fields are ignored, ``model`` is accepted and ignored."""
    assistant_id = body.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        raise invalid("assistant_id is required (a string).", param="assistant_id")
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise invalid(f"messages must be an array of 1 to {MAX_MESSAGES} messages.", param="messages")
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise invalid(
                "Each message is an object {role, content} with a string content.", param="messages"
            )
        if message.get("role") not in ("user", "assistant", "system"):
            raise invalid("A message role is user, assistant or system.", param="messages")
    temperature = body.get("temperature")
    if temperature is not None and not (
        _is_number(temperature) and TEMPERATURE_RANGE[0] <= temperature <= TEMPERATURE_RANGE[1]
    ):
        raise invalid("temperature must be a number from 0 to 2.", param="temperature")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        max_tokens = _integer(max_tokens)
        if max_tokens is None or not MAX_TOKENS_RANGE[0] <= max_tokens <= MAX_TOKENS_RANGE[1]:
            raise invalid("max_tokens must be an integer from 1 to 32000.", param="max_tokens")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream must be a boolean.", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise invalid("stream_options must be an object.", param="stream_options")
    include_usage = (options or {}).get("include_usage", False)
    if not isinstance(include_usage, bool):  # 000: "Currently supports include_usage: boolean"
        raise invalid("stream_options.include_usage must be a boolean.", param="stream_options")
    return ChatRequest(
        assistant_id=assistant_id,
        messages=[{"role": m["role"], "content": m["content"]} for m in messages],
        max_tokens=max_tokens,
        stream=bool(stream),
        include_usage=bool(include_usage),
    )


# --- the "LLM" -----------------------------------------------------------------------------------

_VOCABULARY = """refunds returns orders shipping onboarding account invoice policy days purchase support
team customers product within thirty receipt store credit exchange delivery tracking warranty please
contact our your the a we you can will is are of to and for with on after before usually"""
WORDS = tuple(_VOCABULARY.split())


def _answer_tokens(rng: random.Random) -> list[str]:
    """A fresh answer: a random number of word tokens, each with its trailing space."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 60))]
    words[0] = words[0].capitalize()
    return [w + " " for w in words[:-1]] + [words[-1] + "."]


def _prompt_tokens(messages: list[dict[str, str]]) -> int:
    return 3 + sum(4 + math.ceil(len(m["content"]) / CHARS_PER_TOKEN) for m in messages)


# --- the store -----------------------------------------------------------------------------------


@dataclass
class Assistant:
    id: str
    org: str
    name: str
    instructions: str | None
    created_at: int
    seq: int

    def public(self) -> dict[str, Any]:
        # 001's mapping: ignored fields read back as constants; model and temperature read through.
        return {
            "id": self.id,
            "object": "assistant",
            "created_at": self.created_at,
            "name": self.name,
            "description": None,
            "model": MODEL,
            "instructions": self.instructions,
            "tools": [{"type": "file_search"}],
            "tool_resources": {},
            "metadata": {},
            "temperature": ORG_TEMPERATURE,
            "top_p": 1.0,
            "response_format": "auto",
        }


class Store:
    def __init__(self) -> None:
        self._seq = 0
        self.assistants: dict[str, Assistant] = {}
        for assistant_id, org, name in (
            (ASSISTANT_A, "org-a", "Support Desk"),
            (ASSISTANT_A2, "org-a", "Sales Desk"),
            (ASSISTANT_B, "org-b", "Other Org Helper"),
        ):
            self.add(org, name, "Answer from the knowledge base.", assistant_id=assistant_id)

    def add(
        self, org: str, name: str, instructions: str | None, *, assistant_id: str | None = None
    ) -> Assistant:
        self._seq += 1
        assistant = Assistant(
            assistant_id or f"asst-{uuid.uuid4()}", org, name, instructions, int(time.time()), self._seq
        )
        self.assistants[assistant.id] = assistant
        return assistant

    def get(self, org: str, assistant_id: str) -> Assistant:
        """The organization's assistant; another organization's is as unknown as a missing one."""
        found = self.assistants.get(assistant_id)
        if found is None or found.org != org:
            raise _not_found(assistant_id)
        return found

    def of(self, org: str) -> list[Assistant]:
        return sorted(
            (a for a in self.assistants.values() if a.org == org), key=lambda a: (a.created_at, a.seq)
        )


# --- handlers ------------------------------------------------------------------------------------


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("name must be a non-empty string.", param="name")
    return value


def _instructions(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid("instructions must be a string.", param="instructions")
    return value


class Api:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.store = Store()
        self.rng = random.Random(secrets.randbits(64))
        self.chat_limiter = FixedWindows(*options.chat_tier, clock=options.clock)
        self.native_limiter = FixedWindows(*options.chat_tier, clock=options.clock)
        self.assistants_limiter = FixedWindows(*options.assistants_tier, clock=options.clock)

    def _admit(self, request: web.Request, scope: str, *, native: bool = False) -> Key:
        """Authenticate, then count the request against its tier: chat per client IP, the native
        endpoint on a budget of its own (same numbers), the Assistants API per organization."""
        key = authenticate(request, scope)
        if self.options.rate_limits:
            if scope == "assistants":
                limiter, client = self.assistants_limiter, key.org
            else:
                limiter = self.native_limiter if native else self.chat_limiter
                client = request.remote or "?"
            request[RATE_HEADERS] = limiter.admit(client)
        return key

    # chat completions (000)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        key = self._admit(request, "chat")
        chat = parse_chat(await read_json(request))
        assistant_id = (
            chat.assistant_id if chat.assistant_id.startswith("asst-") else f"asst-{chat.assistant_id}"
        )
        self.store.get(key.org, assistant_id)
        prompt = _prompt_tokens(chat.messages)
        if prompt > self.options.context_tokens:
            raise invalid(
                f"prompt too long: {prompt} tokens, the context holds {self.options.context_tokens}",
                param=None,
                code="context_length_exceeded",
            )
        tokens = _answer_tokens(self.rng)
        finish = "stop"
        if chat.max_tokens is not None and len(tokens) >= chat.max_tokens:
            tokens, finish = tokens[: chat.max_tokens], "length"
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(tokens),
            "total_tokens": prompt + len(tokens),
        }
        head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": MODEL}
        if chat.stream:
            return await self._stream(request, head, tokens, finish, usage if chat.include_usage else None)
        message = {"role": "assistant", "content": "".join(tokens), "refusal": None}
        choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
        return web.json_response({**head, "object": "chat.completion", "choices": [choice], "usage": usage})

    async def _stream(
        self,
        request: web.Request,
        head: dict[str, Any],
        tokens: list[str],
        finish: str,
        usage: dict[str, int] | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)

        async def send(payload: str) -> None:
            await response.write(f"data: {payload}\n\n".encode())

        def chunk(delta: dict[str, str], reason: str | None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}
            extra = {"usage": None} if usage is not None else {}
            return json.dumps({**head, "object": "chat.completion.chunk", "choices": [choice], **extra})

        await send(chunk({"role": "assistant", "content": ""}, None))
        i = 0
        while i < len(tokens):  # one to three tokens a chunk, like a real model's stream
            step = self.rng.randint(1, 3)
            await send(chunk({"content": "".join(tokens[i : i + step])}, None))
            i += step
        await send(chunk({}, finish))
        if usage is not None:
            await send(json.dumps({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}))
        await send("[DONE]")
        await response.write_eof()
        return response

    # native chat (000: "The ragen-native POST /v1/chat endpoint ... Both are supported"; its
    # shape is the spec's own, NativeChatRequest / NativeChatResponse)

    async def native_chat(self, request: web.Request) -> web.StreamResponse:
        key = self._admit(request, "chat", native=True)
        body = await read_json(request)
        content = body.get("content")
        if not isinstance(content, str) or not 1 <= len(content) <= 32_000:
            raise invalid("content must be a string of 1 to 32000 characters.", param="content")
        context = body.get("context")
        if context is not None and not (
            isinstance(context, dict)
            and all(isinstance(context.get(f, ""), str) for f in ("url", "title", "text"))
            and len(context.get("text", "")) <= 8000
        ):
            raise invalid("context is an object {url, title, text} of strings.", param="context")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise invalid("stream must be a boolean.", param="stream")
        assistant_id = body.get("assistant_id", key.bound_to)
        if not isinstance(assistant_id, str) or not assistant_id:
            raise invalid("assistant_id must be a non-empty string.", param="assistant_id")
        assistant = self.store.get(key.org, assistant_id)
        tokens = _answer_tokens(self.rng)
        answer = {
            "id": f"chat-{uuid.uuid4().hex[:16]}",
            "object": "ragen.chat",
            "created": int(time.time()),
            "assistant_id": assistant.id,
            "content": "".join(tokens),
        }
        if not stream:
            return web.json_response(answer)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for token in tokens:
            await response.write(f"event: delta\ndata: {json.dumps({'content': token})}\n\n".encode())
        await response.write(f"event: done\ndata: {json.dumps(answer)}\n\n".encode())
        await response.write_eof()
        return response

    # assistants (001)

    async def create_assistant(self, request: web.Request) -> web.Response:
        key = self._admit(request, "assistants")
        body = await read_json(request)
        if "name" not in body:
            raise invalid("name is required.", param="name", code="missing_field")
        assistant = self.store.add(key.org, _name(body["name"]), _instructions(body.get("instructions")))
        return web.json_response(assistant.public())

    async def list_assistants(self, request: web.Request) -> web.Response:
        key = self._admit(request, "assistants")
        query = request.query
        limit = _int_or_none(query.get("limit", "20"))
        if limit is None or not 1 <= limit <= 100:
            raise invalid("limit must be an integer from 1 to 100.", param="limit")
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid("order must be 'asc' or 'desc'.", param="order")
        items = self.store.of(key.org)
        if order == "desc":
            items.reverse()
        ids = [a.id for a in items]
        after, before = query.get("after"), query.get("before")
        if (after is not None and after not in ids) or (before is not None and before not in ids):
            items = []  # a cursor naming no assistant of this organization: nothing is after it
        else:
            end = ids.index(before) if before is not None else len(items)
            start = ids.index(after) + 1 if after is not None else 0
            items = items[start:end]
        if before is not None and after is None:
            page, has_more = items[-limit:], len(items) > limit  # the page right before the cursor
        else:
            page, has_more = items[:limit], len(items) > limit
        return web.json_response(
            {
                "object": "list",
                "data": [a.public() for a in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": has_more,
            }
        )

    async def retrieve_assistant(self, request: web.Request) -> web.Response:
        key = self._admit(request, "assistants")
        return web.json_response(self.store.get(key.org, request.match_info["assistant_id"]).public())

    async def modify_assistant(self, request: web.Request) -> web.Response:
        """POST and PATCH alike; every field optional, no body at all changes nothing."""
        key = self._admit(request, "assistants")
        body = await read_json(request, optional=True)
        assistant = self.store.get(key.org, request.match_info["assistant_id"])
        name = _name(body["name"]) if "name" in body else assistant.name
        instructions = assistant.instructions
        if "instructions" in body:
            # 001: 'Passing instructions: "" clears them.' This server reads cleared ones back as "".
            instructions = _instructions(body["instructions"]) or ""
        assistant.name, assistant.instructions = name, instructions  # validated first: all or nothing
        return web.json_response(assistant.public())

    async def delete_assistant(self, request: web.Request) -> web.Response:
        key = self._admit(request, "assistants")
        assistant = self.store.get(key.org, request.match_info["assistant_id"])
        if assistant.id == key.bound_to:
            raise invalid(SELF_DELETE_MESSAGE, param=None, code=None)
        del self.store.assistants[assistant.id]
        return web.json_response({"id": assistant.id, "object": "assistant.deleted", "deleted": True})


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    for name, value in request.get(RATE_HEADERS, {}).items():
        response.headers.setdefault(name, value)


def create_app(options: Options | None = None) -> web.Application:
    api = Api(options or Options())
    app = web.Application(middlewares=[envelope_middleware], client_max_size=api.options.max_body)
    item = f"/v1/assistants/{{assistant_id:{ROUTABLE_ID}}}"
    app.router.add_post("/v1/chat/completions", api.chat)
    app.router.add_post("/v1/chat", api.native_chat)
    app.router.add_post("/v1/assistants", api.create_assistant)
    app.router.add_get("/v1/assistants", api.list_assistants)
    app.router.add_get(item, api.retrieve_assistant)
    app.router.add_post(item, api.modify_assistant)
    app.router.add_patch(item, api.modify_assistant)
    app.router.add_delete(item, api.delete_assistant)
    app.on_response_prepare.append(_common_headers)
    return app
