"""Logic checks between the figures of one report, after the Torch filing system's own checks.

The Torch statistics platform rejects a filing whose figures contradict each other (e.g. more
incubated firms than people employed by them — shared/REFERENCE.md, "Logic checks the filing
system applies"). A row that fails one is held whole: its figures cannot all be right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    left: str
    op: str  # "<=" : left must not exceed right
    right: str
    message: str
    source: str


RULES: tuple[Rule, ...] = (
    Rule(
        "incubatees",
        "<=",
        "incubatee_employees",
        "more incubated firms than people they employ",
        "Torch logic check",
    ),
    Rule(
        "financed_incubatees",
        "<=",
        "incubatees",
        "more financed incubatees than incubatees",
        "Torch logic check",
    ),
    Rule(
        "new_incubatees",
        "<=",
        "incubatees",
        "more new incubatees than incubatees",
        "Torch logic check",
    ),
    Rule(
        "graduated_this_year",
        "<=",
        "graduated_cumulative",
        "more graduations this year than in all years",
        "Torch logic check",
    ),
    Rule(
        "incubatee_area",
        "<=",
        "incubation_area",
        "incubatees use more floor area than the carrier has",
        "Torch logic check",
    ),
    Rule(
        "invention_patents",
        "<=",
        "ip_granted",
        "more invention patents than IP rights granted",
        "Torch logic check",
    ),
)


def violated(rule: Rule, values: Mapping[str, float]) -> str | None:
    """The rule's message when both figures are present and contradict each other."""
    if rule.left not in values or rule.right not in values:
        return None
    if rule.op == "<=" and values[rule.left] > values[rule.right]:
        return rule.message
    return None
