"""Chat tier: many users per client IP on POST /v1/chat/completions (streaming and not).

Run by ``ragen-load --tier chat``; by hand (or as a remote worker):
``locust -f chat.py --worker --master-host H`` (options come from the master).
"""

from __future__ import annotations

from loadtests import hooks  # registers the listeners
from loadtests.shape import BurstShape
from loadtests.users import ChatUser

__all__ = ["BurstShape", "Chat", "hooks"]


class Chat(ChatUser):
    abstract = False
