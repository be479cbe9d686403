"""Every requirement of the spec has a mock test named after it (``test_CHAT_STREAM_3_...``)."""

from __future__ import annotations

import re
from pathlib import Path

from ragen_spec import requirements


def test_every_requirement_id_has_a_named_test() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    named = set(re.findall(r"def (test_[A-Z0-9_]+?)_[a-z]", source))
    missing = [rid for rid in requirements() if f"test_{rid.replace('-', '_')}" not in named]
    assert not missing, f"requirements without a mock test: {missing}"
