"""Every MUST cites its source: the words of a vendor document it rests on, found in that document.

A rule the documents do not state is a SHOULD (an OpenAI convention) or a MAY (the documents are
silent). The shape of each ``source`` is checked always; the quotes are looked up in
``../shared/seeds`` when it is present (a clean clone without it skips that half, saying why).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ragen_spec import PROXY_SPEC_PATH, SPEC_PATH, requirements

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
# The vendor documents each profile may quote: Ragen's chat-completions and assistants pages, and
# the generic proxy's page.
DOCUMENTS = {
    SPEC_PATH: {"000_782c6f47283180d9.txt", "001_29e2d11c84b7ce62.txt"},
    PROXY_SPEC_PATH: {"002_9049d1020f41be08.txt"},
}
SPECS = pytest.mark.parametrize("spec", list(DOCUMENTS), ids=lambda p: p.name)


def sources(req: dict[str, Any]) -> list[dict[str, Any]]:
    """A rule's ``source``, one citation or a list of them, as a list."""
    found = req.get("source") or []
    return [found] if isinstance(found, dict) else list(found)


def _citations(spec: Path) -> list[tuple[str, str, str]]:
    return [
        (rid, cite["document"], cite["quote"])
        for rid, req in requirements(spec).items()
        for cite in sources(req)
    ]


@cache
def _normalised(document: str) -> str:
    return " ".join((SEEDS / document).read_text(encoding="utf-8").split())


def quote_pattern(quote: str) -> re.Pattern[str]:
    """The quote as a pattern: any run of whitespace matches any other, and a table row quoted as
    ``cell | cell`` matches however the page rendered the row (``a | b |`` or the cells run together)."""
    cells = [cell.strip() for cell in quote.split("|")]
    words = [r"\s+".join(map(re.escape, cell.split())) for cell in cells if cell]
    return re.compile(r"[\s|]*".join(words))


def quote_occurs(quote: str, document: str) -> bool:
    return quote_pattern(quote).search(_normalised(document)) is not None


@SPECS
def test_every_must_has_a_well_shaped_source(spec: Path) -> None:
    for rid, req in requirements(spec).items():
        cites = sources(req)
        if req["level"] == "MUST":
            assert cites, f"{rid}: a MUST quotes the document it rests on (or it is a SHOULD or a MAY)"
        for cite in cites:
            assert set(cite) == {"document", "quote"}, f"{rid}: {cite}"
            assert cite["document"] in DOCUMENTS[spec], f"{rid}: {cite['document']} is not this profile's"
            assert isinstance(cite["quote"], str) and len(cite["quote"].split()) >= 2, f"{rid}: {cite}"


@SPECS
def test_vendor_specific_marks_are_booleans_on_sourced_rules(spec: Path) -> None:
    for rid, req in requirements(spec).items():
        if "vendor_specific" in req:
            assert isinstance(req["vendor_specific"], bool), rid
            assert sources(req), f"{rid}: a vendor's own rule quotes the vendor"


def test_the_proxy_labels_its_own_error_table() -> None:
    """Rows OpenAI's API answers differently are labelled as the proxy document's own."""
    proxy = requirements(PROXY_SPEC_PATH)
    assert proxy["PROXY-ERR-TYPE-1"].get("vendor_specific") is True
    assert proxy["PROXY-MODEL-4"].get("vendor_specific") is True
    assert not proxy["PROXY-ERR-TYPE-2"].get("vendor_specific")  # 400 invalid_request_error: OpenAI's too


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the vendor documents are not here ({SEEDS} is absent)")
@SPECS
def test_every_quote_occurs_in_its_document(spec: Path) -> None:
    missing = [(rid, doc, quote) for rid, doc, quote in _citations(spec) if not quote_occurs(quote, doc)]
    assert not missing, "quotes not found in their documents:\n" + "\n".join(map(str, missing))


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the vendor documents are not here ({SEEDS} is absent)")
def test_a_misquote_is_not_found() -> None:
    """The matcher is not so lenient that a changed word or a wrong document passes."""
    row = "temperature | 0–2 | No (accepted, ignored) |"
    assert quote_occurs(row, "001_29e2d11c84b7ce62.txt")
    assert quote_occurs("temperature  |  0–2\n| No (accepted, ignored)", "001_29e2d11c84b7ce62.txt")
    assert not quote_occurs(row.replace("No", "Yes"), "001_29e2d11c84b7ce62.txt")
    assert not quote_occurs(row, "000_782c6f47283180d9.txt")
    # A row the chat page renders with its cells run together is still found as `a | b | c`.
    assert quote_occurs("404 | not_found_error | Project (assistant) not found", "000_782c6f47283180d9.txt")
    assert not quote_occurs("404 | not_found_error | Model not found", "000_782c6f47283180d9.txt")


def test_quote_pattern_handles_whitespace_and_cells_without_the_documents() -> None:
    text = "StatustypeMeaning\n400invalid_request_errorMalformed body,   validation failure"
    assert quote_pattern("400 | invalid_request_error | Malformed body, validation failure").search(text)
    assert not quote_pattern("400 | invalid_request_error | Malformed JSON").search(text)
    spread = 'Passing  instructions: ""\nclears them.'
    assert quote_pattern('Passing instructions: "" clears them.').search(spread)
