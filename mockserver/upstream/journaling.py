"""What the proxy and the replay tell the journal about a request, and the tiers they judge against."""

from __future__ import annotations

from aiohttp import web

from mockserver.auth import mask
from mockserver.journal import Entry
from mockserver.settings import Settings

__all__ = ["caller_key", "judged_tiers"]


def judged_tiers(settings: Settings) -> dict[str, int] | None:
    """The tiers HDR-RATE-1 is judged against: the declared limits, unless rate limits are off."""
    if not settings.rate_limits:
        return None
    return {"chat": settings.chat_limit, "assistants": settings.assistants_limit}


def caller_key(request: web.BaseRequest, entry: Entry) -> None:
    """The journal shows the key a request was sent with, masked."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer" and key.strip():
        entry.key = mask(key.strip())
