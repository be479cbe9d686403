"""The catalogue cites only real requirement ids and leaves no observable requirement uncovered."""

from __future__ import annotations

from ragen_spec import requirements

from conformance.catalogue import Check, ResponseCheck
from conformance.config import GROUPS
from conformance.context import Evidence
from conformance.profiles import get_profile
from conformance.profiles.ragen.registry import CHECKS, RESPONSE_CHECKS
from conformance.results import VerdictKind
from conformance.verdicts import verdicts_of


def test_catalogue_cites_only_spec_ids() -> None:
    known = set(requirements())
    entries: list[Check | ResponseCheck] = [*CHECKS.values(), *RESPONSE_CHECKS.values()]
    for entry in entries:
        assert entry.requirements, entry.name
        unknown = set(entry.requirements) - known
        assert not unknown, f"{entry.name} cites {unknown}"


def test_catalogue_covers_every_observable_requirement() -> None:
    covered = get_profile("ragen").covered()
    missing = [
        rid
        for rid, req in requirements().items()
        if req.get("observable") is not False and rid not in covered
    ]
    assert not missing


def test_catalogue_groups_and_inputs_are_known() -> None:
    from dataclasses import fields

    from conformance.config import Target

    target_fields = {f.name for f in fields(Target)}
    for check in CHECKS.values():
        assert check.group in GROUPS
        assert set(check.needs) <= target_fields
        assert check.func.__doc__, f"{check.name} has no docstring"


def test_verdicts_without_evidence_are_skips_never_passes() -> None:
    profile = get_profile("ragen")
    verdicts = verdicts_of(Evidence(), profile, set(profile.checks) | set(profile.response_checks))
    assert {v.verdict for v in verdicts} == {VerdictKind.SKIP, VerdictKind.UNOBSERVED}
    unobservable = [v for v in verdicts if requirements()[v.requirement].get("observable") is False]
    assert unobservable and all("not observable" in v.reason for v in unobservable)
