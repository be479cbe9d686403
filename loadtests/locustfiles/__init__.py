"""One locustfile per scenario; ``ragen-load`` runs them, ``locust -f`` can too."""

from __future__ import annotations

from pathlib import Path

__all__ = ["LOCUSTFILES"]

LOCUSTFILES = {
    "chat": Path(__file__).with_name("chat.py"),
    "assistants": Path(__file__).with_name("assistants.py"),
}
