"""Assistants tier: many users per client IP on GET /v1/assistants and GET /v1/assistants/{id}.

Run by ``ragen-load --tier assistants``; by hand (or as a remote worker):
``locust -f assistants.py --worker --master-host H`` (options come from the master).
"""

from __future__ import annotations

from loadtests import hooks  # registers the listeners
from loadtests.shape import BurstShape
from loadtests.users import AssistantsUser

__all__ = ["Assistants", "BurstShape", "hooks"]


class Assistants(AssistantsUser):
    abstract = False
