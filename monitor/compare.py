"""Comparing carriers: side by side, against their peers, their district or the belt.

For each carrier and indicator: the value, the change from the previous year, the percentile
within the peer group (same kind and level) and the deviation from the peer median; strengths and
weaknesses are the indicators furthest above and below the peer median (relative, turned round
where lower is better). Ratings (score, stars, rank) come from the stored Rating rows.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitor.i18n import t


@dataclass
class Comparison:
    year: int
    subjects: list[str]
    table: pd.DataFrame  # one row per (subject, indicator)
    ratings: pd.DataFrame  # one row per subject
    strengths: dict[str, list[str]] = field(default_factory=dict)
    weaknesses: dict[str, list[str]] = field(default_factory=dict)


def _value(frame: pd.DataFrame, subject: str, code: str) -> float:
    if subject not in frame.index or code not in frame.columns:
        return float("nan")
    column = frame[code].to_numpy(dtype=float)
    return float(column[frame.index.get_loc(subject)])


def percentile_in(values: pd.Series | np.ndarray, value: float) -> float | None:
    """Share of the group at or below ``value`` (0–100), the carrier itself included."""
    pool = np.asarray(values, dtype=float)
    pool = pool[~np.isnan(pool)]
    if np.isnan(value) or len(pool) == 0:
        return None
    return float(100.0 * (np.sum(pool < value) + 0.5 * np.sum(pool == value)) / len(pool))


def compare(
    subjects: list[str],
    year: int,
    current: pd.DataFrame,
    previous: pd.DataFrame,
    parks: pd.DataFrame,
    indicators: pd.DataFrame,
    ratings: pd.DataFrame,
    *,
    against: str = "peers",
) -> Comparison:
    """``current``/``previous``: wide frames (subject × indicator) of ``year`` and ``year − 1``;
    ``parks``: id, kind, level, district_id, in_belt; ``indicators``: code, name_zh, direction,
    kinds. ``against`` chooses the group: peers (kind and level), kind (every level), district,
    or belt."""
    info = parks.set_index("id")
    rows: list[dict[str, Any]] = []
    strengths: dict[str, list[str]] = {}
    weaknesses: dict[str, list[str]] = {}
    names = dict(zip(indicators["code"], indicators["name_zh"], strict=True))
    names_en = (
        dict(zip(indicators["code"], indicators["name_en"], strict=True))
        if "name_en" in indicators
        else names
    )
    direction = dict(zip(indicators["code"], indicators["direction"], strict=True))
    kinds_of = {
        c: str(k).split("|") for c, k in zip(indicators["code"], indicators["kinds"], strict=True)
    }
    pools: dict[tuple[Any, ...], pd.DataFrame] = {}  # the subjects' groups, each taken once
    for subject in subjects:
        me = info.loc[subject]
        within = {"district": me["district_id"], "belt": True, "kind": ""}.get(against, me["level"])
        key = (me["kind"], within)
        if key not in pools:
            kind_mask = info["kind"] == me["kind"]
            if against == "district":
                group = info[kind_mask & (info["district_id"] == me["district_id"])].index
            elif against == "belt":
                group = info[kind_mask & info["in_belt"].astype(bool)].index
            elif against == "kind":
                group = info[kind_mask].index
            else:
                group = info[kind_mask & (info["level"] == me["level"])].index
            pools[key] = current.reindex(group)
        pool = pools[key]
        applicable = [c for c in current.columns if me["kind"] in kinds_of.get(c, ())]
        matrix = pool[applicable].to_numpy(dtype=float)
        deviations: dict[str, float] = {}
        for j, code in enumerate(applicable):
            value = _value(current, subject, code)
            before = _value(previous, subject, code)
            known = matrix[:, j][~np.isnan(matrix[:, j])]
            median = float(np.median(known)) if len(known) else np.nan
            pct = percentile_in(known, value)
            sign = -1.0 if direction.get(code) == "lower" else 1.0
            deviation = (
                (value - median) / abs(median) * sign
                if median and not np.isnan(value) and not np.isnan(median)
                else np.nan
            )
            if not np.isnan(deviation):
                deviations[code] = deviation
            rows.append(
                {
                    "subject": subject,
                    "indicator": code,
                    "name_zh": names.get(code, code),
                    "name_en": names_en.get(code, code),
                    "value": value,
                    "previous": before,
                    "change_pct": (value / before - 1) * 100
                    if before and not np.isnan(value)
                    else np.nan,
                    "group_median": median,
                    "percentile": pct,
                    "vs_median_pct": deviation * 100 if not np.isnan(deviation) else np.nan,
                    "group_size": len(known),
                }
            )
        ordered = sorted(deviations, key=lambda c: deviations[c])
        weaknesses[subject] = [names.get(c, c) for c in ordered[:3] if deviations[c] < 0]
        strengths[subject] = [names.get(c, c) for c in ordered[::-1][:3] if deviations[c] > 0]
    rated = ratings[ratings["subject_id"].isin(subjects)] if len(ratings) else ratings
    return Comparison(year, subjects, pd.DataFrame(rows), rated, strengths, weaknesses)


def _pct(value: object) -> float:
    """A percentile for drawing: missing counts as 0 (the centre)."""
    if value is None:
        return 0.0
    number = float(value)  # type: ignore[arg-type]
    return 0.0 if np.isnan(number) else number


def radar_svg(comparison: Comparison, size: int = 320, lang: str = "zh") -> str:
    """An inline SVG radar of the percentiles (the plan's 创新画像), one polygon per carrier."""
    import html  # noqa: PLC0415

    table = comparison.table
    codes = list(dict.fromkeys(table["indicator"]))
    if len(codes) < 3:
        return ""
    names = "name_en" if lang == "en" and "name_en" in table else "name_zh"
    labels = dict(zip(table["indicator"], table[names], strict=False))
    cx, cy = size / 2 + 70, size / 2  # room on the left for the labels
    radius = size / 2 - 60
    colours = ["#c8102e", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"]
    angle = [2 * np.pi * i / len(codes) - np.pi / 2 for i in range(len(codes))]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 230}" height="{size}" '
        'role="img" aria-label="portrait">'
    ]
    for ring in (25, 50, 75, 100):
        pts = " ".join(
            f"{cx + radius * ring / 100 * np.cos(a):.1f},{cy + radius * ring / 100 * np.sin(a):.1f}"
            for a in angle
        )
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ddd"/>')
    for code, a in zip(codes, angle, strict=True):
        x, y = cx + (radius + 8) * np.cos(a), cy + (radius + 8) * np.sin(a)
        anchor = "start" if np.cos(a) > 0.2 else ("end" if np.cos(a) < -0.2 else "middle")
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="9" text-anchor="{anchor}">'
            f"{html.escape(str(labels[code])[:12])}</text>"
        )
    for k, subject in enumerate(comparison.subjects):
        mine = table[table["subject"] == subject].set_index("indicator")["percentile"]
        pts = " ".join(
            f"{cx + radius * (_pct(mine.get(c))) / 100 * np.cos(a):.1f},"
            f"{cy + radius * (_pct(mine.get(c))) / 100 * np.sin(a):.1f}"
            for c, a in zip(codes, angle, strict=True)
        )
        colour = colours[k % len(colours)]
        parts.append(
            f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>'
        )
        parts.append(
            f'<text x="{size + 80}" y="{20 + 16 * k}" font-size="11" fill="{colour}">'
            f"{html.escape(subject)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return html.escape(str(value))


def render_html(
    comparison: Comparison, names: Mapping[str, str], year: int, *, demo: bool, lang: str
) -> str:
    """The comparison as a self-contained page: the radar portrait and the table, every label in
    ``lang``, every name escaped."""
    esc = html.escape
    label = "name_en" if lang == "en" and "name_en" in comparison.table else "name_zh"
    rows = "".join(
        f"<tr><td>{esc(names.get(r['subject'], r['subject']))}</td>"
        f"<td>{esc(str(r[label]))}</td><td>{_cell(r['value'])}</td>"
        f"<td>{_cell(r['change_pct'], 1)}</td><td>{_cell(r['percentile'], 0)}</td></tr>"
        for r in comparison.table.to_dict("records")
    )
    banner = (
        "<p style='background:#fff3cd;border:1px solid #e0b000;padding:.5em;"
        f"font-weight:bold'>{esc(t('msg.demo_banner', lang))}</p>"
        if demo
        else ""
    )
    headers = "".join(
        f"<th>{esc(t(k, lang))}</th>"
        for k in (
            "compare.carrier",
            "compare.indicator",
            "compare.value",
            "compare.change",
            "compare.percentile",
        )
    )
    title = t("compare.title", lang, year=year)
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head>"
        f"<meta charset='utf-8'><title>{esc(title)}</title></head><body>{banner}"
        f"<h1>{esc(title)}</h1>{radar_svg(comparison, lang=lang)}"
        f"<table border='1'><tr>{headers}</tr>"
        f"{rows}</table></body></html>\n"
    )
