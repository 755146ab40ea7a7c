"""Logic checks between a carrier's figures, after the Torch filing system's own checks.

The Torch statistics platform rejects a filing whose figures contradict each other (e.g. more
incubated firms than people employed by them, R&D spending above revenue). The collectors apply
these checks to each row they read (a failing row is held whole), and the rating applies them
again to each carrier's figures of the year, which may come from several files: a carrier whose
figures contradict each other is held for review with the rule named, not rated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rule:
    left: str
    op: str  # "<=" : left must not exceed right
    right: str
    message: str
    source: str
    message_zh: str = ""


RULES: tuple[Rule, ...] = (
    Rule(
        "incubatee_rd_spending",
        "<=",
        "incubatee_revenue",
        "incubatees' R&D spending above their revenue",
        "Torch logic check",
        "在孵企业研发投入超过其总收入",
    ),
    Rule(
        "incubatees",
        "<=",
        "incubatee_employees",
        "more incubated firms than people they employ",
        "Torch logic check",
        "在孵企业数多于其从业人员数",
    ),
    Rule(
        "financed_incubatees",
        "<=",
        "incubatees",
        "more financed incubatees than incubatees",
        "Torch logic check",
        "获投融资的在孵企业多于在孵企业总数",
    ),
    Rule(
        "new_incubatees",
        "<=",
        "incubatees",
        "more new incubatees than incubatees",
        "Torch logic check",
        "当年新增在孵企业多于在孵企业总数",
    ),
    Rule(
        "graduated_this_year",
        "<=",
        "graduated_cumulative",
        "more graduations this year than in all years",
        "Torch logic check",
        "当年毕业企业多于累计毕业企业",
    ),
    Rule(
        "incubatee_area",
        "<=",
        "incubation_area",
        "incubatees use more floor area than the carrier has",
        "Torch logic check",
        "在孵企业使用面积超过载体孵化场地面积",
    ),
    Rule(
        "invention_patents",
        "<=",
        "ip_granted",
        "more invention patents than IP rights granted",
        "Torch logic check",
        "发明专利多于知识产权授权总数",
    ),
)


def held_for_review(values: pd.DataFrame, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Subjects (rows of a wide frame: indicator columns) whose figures break a rule, with the
    rule in words: '在孵企业R&D投入 > 在孵企业总收入 (incubatees' R&D spending above …)'."""
    names = names or {}
    held: dict[str, str] = {}
    for rule in RULES:
        if rule.left not in values.columns or rule.right not in values.columns:
            continue
        left = values[rule.left].to_numpy(dtype=float)
        right = values[rule.right].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            broken = left > right
        for i in np.flatnonzero(broken).tolist():
            subject = str(values.index[i])
            reason = (
                f"{names.get(rule.left, rule.left)} {left[i]:g} > "
                f"{names.get(rule.right, rule.right)} {right[i]:g}：{rule.message_zh}"
                "（火炬统计逻辑校验）"
            )
            held[subject] = f"{held[subject]}; {reason}" if subject in held else reason
    return held


def violated(rule: Rule, values: Mapping[str, float]) -> str | None:
    """The rule's message when both figures are present and contradict each other."""
    if rule.left not in values or rule.right not in values:
        return None
    if rule.op == "<=" and values[rule.left] > values[rule.right]:
        return rule.message
    return None
