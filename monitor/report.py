"""The annual rating report: a self-contained HTML page and an Excel workbook.

Every text that came from outside (names from the registry or from collected data) is escaped in
the HTML. Demo data get a banner on every page and sheet.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from monitor import __version__
from monitor.i18n import STAR, stars_text, t
from monitor.rating.core import RatingRun
from monitor.rating.methodology import Group, Item, Methodology, Veto
from monitor.rating.nextstar import next_star_frame, targets
from monitor.rating.stability import stability
from monitor.risks import falling_text, levers_text
from monitor.safe_io import safe_row, save_write_only


def group_name(group: Group, lang: str) -> str:
    return (group.name_en or group.name_zh) if lang == "en" else group.name_zh


def item_name(item: Item, lang: str, names_en: Mapping[str, str]) -> str:
    """An item's name; in English its own, else its indicator's ('Mentors', 'A per B')."""
    if lang != "en":
        return item.name_zh
    if item.name_en:
        return item.name_en
    if item.indicator:
        return names_en.get(item.indicator, item.indicator)
    assert item.numerator and item.denominator
    a, b = (names_en.get(c, c) for c in (item.numerator, item.denominator))
    return t("report.per", lang, a=a, b=b)


def item_labels(
    meths: Sequence[Methodology], lang: str, names_en: Mapping[str, str]
) -> dict[str, str]:
    """Every item's label in ``lang`` by item id, over the methodologies (empty in Chinese: the
    items' own names are Chinese)."""
    if lang != "en":
        return {}
    return {i.id: item_name(i, lang, names_en) for m in meths for i in (*m.items, *m.bonus_items)}


def veto_name(veto: Veto, lang: str, names_en: Mapping[str, str]) -> str:
    return veto.name_zh if lang != "en" else names_en.get(veto.indicator, veto.indicator)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def changed_note(run: RatingRun, lang: str) -> str:
    """The note a report carries when figures changed after the stored rating ('' if none)."""
    if not run.changed:
        return ""
    ids = ", ".join(run.changed[:5]) + (" …" if len(run.changed) > 5 else "")
    return t("report.changed", lang, n=len(run.changed), ids=ids, year=run.year)


def summary_frame(run: RatingRun, districts: dict[str, str]) -> pd.DataFrame:
    table = run.result.table.copy()
    table["name"] = [run.names.get(str(i), str(i)) for i in table.index]
    peers = run.peers.reindex(table.index)
    table["district"] = [
        districts.get(str(d), str(d))
        for d in peers.get("district_id", pd.Series(index=table.index, dtype=object))
    ]
    return table.sort_values(["status", "score"], ascending=[True, False])


def _svg_distribution(counts: dict[int, int], lang: str = "zh") -> str:
    """An inline SVG bar chart of the star distribution (no scripts, no network)."""
    bars = sorted(counts.items())
    peak = max([c for _, c in bars] + [1])
    width, height, bar = 320, 140, 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
        f'role="img" aria-label="{html.escape(t("report.stars", lang))}">'
    ]
    for i, (stars, count) in enumerate(bars):
        h = int(height * count / peak)
        x = 10 + i * (bar + 20)
        label = stars_text(stars, lang)
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="#c8102e"></rect>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height - h - 4}" font-size="12" '
            f'text-anchor="middle">{count}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height + 18}" font-size="10" '
            f'text-anchor="middle" fill="#b8860b">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


_STYLE = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;"
    "color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
    "padding:3px 7px;font-size:13px}th{background:#f3f3f3}.stars{color:#b8860b}"
    ".demo{background:#fff3cd;border:1px solid #e0b000;padding:.6em;font-weight:bold}"
    ".meta{color:#666;font-size:12px}.changed{color:#8a4b00;font-weight:bold}"
)
esc = html.escape


def render_html(
    runs: Sequence[RatingRun],
    year: int,
    *,
    districts: dict[str, str],
    demo: bool,
    lang: str = "zh",
    names_en: Mapping[str, str] | None = None,
) -> str:
    """The report page in ``lang``; ``names_en`` names indicators in English. Every name that
    came from outside is escaped; the page has no scripts and loads nothing."""
    body = []
    if demo:
        body.append(f'<div class="demo">{esc(t("msg.demo_banner", lang))}</div>')
    body.append(f"<h1>{year} {esc(t('report.title', lang))}</h1>")
    body.append(
        f"<p class='meta'>parkmon {esc(__version__)} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>"
    )
    for run in runs:
        frame = summary_frame(run, districts)
        body += _html_heading(run, frame, lang)
        body += _html_by_district(frame, lang)
        body += _html_ranking(run, frame, lang)
        body += _html_method(run, lang, names_en or {})
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head>"
        "<meta charset='utf-8'>"
        f"<title>{year} {esc(t('report.title', lang))}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _html_heading(run: RatingRun, frame: pd.DataFrame, lang: str) -> list[str]:
    meth = run.methodology
    parts = [
        f"<h2>{esc(meth.title_zh if lang == 'zh' else meth.title_en or meth.title_zh)}</h2>",
        f"<p class='meta'>{esc(meth.name)} {esc(meth.version)} · "
        f"{esc(t('report.hash', lang))} <code>{esc(meth.content_hash[:16])}</code>"
        f" · {len(frame)} {esc(t('report.subjects', lang))}</p>",
    ]
    if run.changed:
        parts.append(f"<p class='changed'>{esc(changed_note(run, lang))}</p>")
    counts = frame.loc[frame["status"] != "incomplete", "stars"].dropna().astype(int)
    parts.append(_svg_distribution(dict(Counter(int(v) for v in counts.tolist())), lang))
    return parts


def _html_by_district(frame: pd.DataFrame, lang: str) -> list[str]:
    by_district = frame.groupby("district").agg(
        n=("score", "size"),
        mean_score=("score", "mean"),
        top=("stars", lambda s: int((s >= 4).sum())),
    )
    parts = [
        f"<h3>{esc(t('report.by_district', lang))}</h3><table><tr>"
        f"<th>{esc(t('col.district', lang))}</th><th>{esc(t('col.count', lang))}</th>"
        f"<th>{esc(t('report.mean', lang))}</th><th>≥ {STAR * 4}</th></tr>"
    ]
    for district, row in by_district.iterrows():
        parts.append(
            f"<tr><td>{esc(str(district))}</td><td>{int(row['n'])}</td>"
            f"<td>{_fmt(float(row['mean_score']))}</td><td>{int(row['top'])}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _html_ranking(run: RatingRun, frame: pd.DataFrame, lang: str) -> list[str]:
    groups = run.methodology.groups
    parts = [
        f"<h3>{esc(t('report.ranking', lang))}</h3><table class='rank'><tr>"
        f"<th>#</th><th>{esc(t('col.name', lang))}</th>"
        f"<th>{esc(t('col.district', lang))}</th>"
        + "".join(
            f"<th>{esc(group_name(g, lang))}<br><small>{g.points:g}</small></th>" for g in groups
        )
        + f"<th>{esc(t('report.bonus', lang))}</th><th>{esc(t('report.score', lang))}"
        f"</th><th>{esc(t('report.stars', lang))}</th>"
        f"<th>{esc(t('report.status', lang))}</th>"
        f"<th>{esc(t('report.completeness', lang))}</th></tr>"
    ]
    for row in frame.to_dict("records"):
        cells = "".join(f"<td>{_fmt(row[f'g_{g.id}'])}</td>" for g in groups)
        parts.append(
            f"<tr><td>{_fmt(row['rank'], 0)}</td><td>{esc(str(row['name']))}</td>"
            f"<td>{esc(str(row['district']))}</td>{cells}<td>{_fmt(row['bonus'])}</td>"
            f"<td><b>{_fmt(row['score'])}</b></td>"
            f"<td class='stars'>{stars_text(row['stars'], lang)}</td>"
            f"<td>{esc(t('rating.' + str(row['status']), lang))}</td>"
            f"<td>{_share(row.get('completeness'))}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _share(value: Any) -> str:
    """A share as a whole percentage: how much of the rating's points rest on reported
    figures (the rest on missing ones, scored 0)."""
    return "—" if _missing(value) else f"{float(value):.0%}"


def _html_method(run: RatingRun, lang: str, names_en: Mapping[str, str]) -> list[str]:
    meth = run.methodology
    parts = [f"<h3>{esc(t('report.method', lang))}</h3><ul>"]
    for g in meth.groups:
        items = [i for i in meth.items if i.group == g.id]
        parts.append(
            f"<li><b>{esc(group_name(g, lang))}</b> ({g.points:g}): "
            + "; ".join(
                esc(
                    f"{item_name(i, lang, names_en)} — {t('rule.' + i.rule, lang)}"
                    + (f" {i.points:g}" if meth.type == "stars" else "")
                )
                for i in items
            )
            + "</li>"
        )
    if meth.vetoes:
        parts.append(
            f"<li><b>{esc(t('report.veto', lang))}</b>: "
            + "; ".join(esc(veto_name(v, lang, names_en)) for v in meth.vetoes)
            + "</li>"
        )
    bands = "; ".join(
        f"{STAR * b.stars}: ≥ {b.min_score:g}"
        + (f" {t('report.top', lang, share=f'{b.top_share:.0%}')}" if b.top_share else "")
        for b in meth.bands
    )
    parts.append(f"<li><b>{esc(t('report.stars', lang))}</b>: {esc(bands)}</li></ul>")
    return parts


def demo_xlsx_banner(lang: str) -> str:
    return t("msg.demo_banner", lang)


@dataclass(frozen=True)
class _Book:
    """What every sheet of one workbook shares."""

    lang: str
    names_en: Mapping[str, str]
    districts: dict[str, str]
    units: dict[str, str]
    demo: bool = False
    bold: Font = field(default_factory=lambda: Font(bold=True))


_RATING_TAIL = (
    "report.bonus",
    "report.score",
    "report.stars",
    "report.status",
    "report.completeness",
    "report.p5",
    "report.rank_band",
)
_ADVICE_HEADERS = (
    "report.method_col",
    "report.id",
    "col.name",
    "report.current_stars",
    "report.target_stars",
    "report.target_score",
    "report.option",
    "report.indicator",
    "report.current",
    "report.needed",
)
_METHOD_HEADERS = (
    "report.method_col",
    "report.version",
    "report.content_hash",
    "report.group",
    "report.group_points",
    "report.item",
    "report.rule",
    "report.points",
    "report.indicator",
)


def write_xlsx(
    path: Path,
    runs: Sequence[RatingRun],
    year: int,
    *,
    districts: dict[str, str],
    demo: bool,
    units: dict[str, str],
    lang: str = "zh",
    names_en: Mapping[str, str] | None = None,
    risks: pd.DataFrame | None = None,
) -> Path:
    """One sheet per methodology, one for explanations, one for the early warning
    (``monitor.risks.risk_frame``, when given), one for the methodologies; every label in
    ``lang``; every sheet of a workbook made from demo data says so on its first row.

    Written in openpyxl's write-only mode: each row once, memory flat at any number of rows."""
    ctx = _Book(lang, names_en or {}, districts, units, demo)
    book = openpyxl.Workbook(write_only=True)
    advice = None
    for run in runs:
        _ratings_sheet(book, run, ctx)
        if run.methodology.type == "stars":
            if advice is None:
                advice = _new_sheet(book, t("report.advice", lang), ctx)
                _header(advice, [t(k, lang) for k in _ADVICE_HEADERS], ctx)
            _advice_rows(advice, run, ctx)
    if risks is not None:
        _risks_sheet(book, risks, year, ctx, runs)
    _methods_sheet(book, runs, ctx)
    return save_write_only(book, path)


def _new_sheet(
    book: Any,
    title: str,
    ctx: _Book,
    *,
    notes: int = 0,
    freeze_column: int = 0,
    widths: Sequence[float] = (),
) -> Any:
    """A sheet with the demo banner first (when the data are demo data), the header row after
    ``notes`` rows of notes frozen (with ``freeze_column`` columns), and column widths."""
    ws = book.create_sheet(_sheet_title(title, book.sheetnames))
    header_row = 1 + notes + (1 if ctx.demo else 0)
    if freeze_column:
        ws.freeze_panes = f"{get_column_letter(freeze_column + 1)}{header_row + 1}"
    for j, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = width
    if ctx.demo:
        banner = WriteOnlyCell(ws, value=demo_xlsx_banner(ctx.lang))
        banner.fill = PatternFill("solid", fgColor="FFF3CD")
        ws.append([banner])
    return ws


def _header(ws: Any, labels: Sequence[str], ctx: _Book) -> None:
    cells = []
    for label in labels:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = ctx.bold
        cells.append(cell)
    ws.append(cells)


def _ratings_sheet(book: Any, run: RatingRun, ctx: _Book) -> None:
    """Ranks, group points, score, stars, status and the stability of each rating."""
    meth, lang = run.methodology, ctx.lang
    frame = summary_frame(run, ctx.districts)
    title = (meth.title_en or meth.title_zh) if lang == "en" else meth.title_zh
    ws = _new_sheet(
        book,
        title,
        ctx,
        notes=1 if run.changed else 0,
        freeze_column=3,
        widths=(6, 12, 30, 10),
    )
    if run.changed:
        note = WriteOnlyCell(ws, value=changed_note(run, lang))
        note.font = ctx.bold
        ws.append([note])
    _header(
        ws,
        [t(k, lang) for k in ("report.rank", "report.id", "col.name", "col.district")]
        + [group_name(g, lang) for g in meth.groups]
        + [t(k, lang) for k in _RATING_TAIL],
        ctx,
    )
    stab = _stability(run) if len(frame) else {}
    for subject, row in zip(frame.index, frame.to_dict("records"), strict=True):
        ws.append(safe_row(ws, _rating_cells(str(subject), row, run, stab, lang)))


def _stability(run: RatingRun) -> dict[str, dict[str, Any]]:
    frame = stability(run.values, run.methodology, peers=run.peers, draws=300, held=run.held)
    return {str(k): {str(c): x for c, x in v.items()} for k, v in frame.to_dict("index").items()}


def _rating_cells(
    subject: str,
    row: Mapping[Any, Any],
    run: RatingRun,
    stab: dict[str, dict[str, Any]],
    lang: str,
) -> list[Any]:
    rank_band, p5 = "", None
    st = stab.get(subject, {})
    if st and not pd.isna(st.get("rank_p05")):
        rank_band = f"{int(st['rank_p05'])}–{int(st['rank_p95'])}"
        p5 = None if pd.isna(st.get("p_5_stars")) else float(st["p_5_stars"])
    review = str(row.get("review", "") or "")
    return [
        None if pd.isna(row["rank"]) else int(row["rank"]),
        subject,
        str(row["name"]),
        str(row["district"]),
        *(
            None if pd.isna(row[f"g_{g.id}"]) else round(float(row[f"g_{g.id}"]), 2)
            for g in run.methodology.groups
        ),
        round(float(row["bonus"]), 2),
        round(float(row["score"]), 2),
        stars_text(row["stars"], lang),
        t(f"rating.{row['status']}", lang) + (f"：{review}" if review else ""),
        round(float(row["completeness"]), 3),
        p5,
        rank_band,
    ]


def _advice_rows(ws: Any, run: RatingRun, ctx: _Book) -> None:
    """Per carrier, up to three items that alone would earn the next star, and by how much
    (computed for all carriers at once: ``monitor.rating.nextstar``)."""
    meth = run.methodology
    result = run.result
    goal = targets(result)
    options = next_star_frame(result, run.values, ctx.units, verify=3)
    by_subject: dict[str, list[dict[Any, Any] | None]] = {}
    for record in options.to_dict("records"):  # in subject, item order
        first = by_subject.setdefault(str(record["subject"]), [])
        if len(first) < 3:
            first.append(record)
    items = {i.id: i for i in (*meth.items, *meth.bonus_items)}
    stars = result.table["stars"].to_dict()
    for subject in result.table.index.intersection(run.values.index):
        if str(subject) in run.changed:  # today's figures would explain another rating
            continue
        target_stars = _plain(goal["target_stars"].get(subject))
        target_score = _plain(goal["target_score"].get(subject))
        for option in by_subject.get(str(subject)) or [None]:
            row = safe_row(
                ws,
                [
                    meth.name,
                    str(subject),
                    run.names.get(str(subject), ""),
                    stars_text(stars.get(subject), ctx.lang),
                    None if target_stars is None else STAR * int(target_stars),
                    None if target_score is None else round(target_score, 2),
                    "—"
                    if option is None
                    else _item_label(items[option["item"]], ctx.lang, ctx.names_en),
                    None if option is None else option["indicator"],
                    None if option is None else _plain(option["current"]),
                    None if option is None else _plain(option["needed"]),
                ],
            )
            ws.append(row)


_RISK_HEADERS = (
    "report.id",
    "col.name",
    "risk.col.level",
    "risk.col.risk",
    "risk.col.stars",
    "risk.col.score",
    "risk.col.expected",
    "risk.col.line",
    "risk.col.p_fewer",
    "risk.col.missing",
    "risk.col.late",
    "risk.col.falling",
    "risk.col.levers",
)


def _risks_sheet(
    book: Any, frame: pd.DataFrame, year: int, ctx: _Book, runs: Sequence[RatingRun]
) -> None:
    """The early warning: every carrier, second failures first, then by risk."""
    lang = ctx.lang
    labels = item_labels([r.methodology for r in runs], lang, ctx.names_en)
    ws = _new_sheet(book, t("report.risks", lang), ctx, notes=1, freeze_column=2)
    ws.append([t("risk.title", lang, year=year)])
    _header(ws, [t(k, lang) for k in _RISK_HEADERS], ctx)
    for r in frame.to_dict("records"):
        level = t("risk.again", lang) if r["again"] else t(f"risk.level.{r['level']}", lang)
        cells = [
            r["id"],
            r["name"],
            level,
            r["risk"],
            stars_text(r["stars"], lang),
            *(None if _missing(r[c]) else round(float(r[c]), 2) for c in ("score", "expected")),
            None if _missing(r["line"]) else round(float(r["line"]), 2),
            round(float(r["p_fewer"]), 3),
            round(float(r["missing_share"]), 3),
            None if _missing(r["days_late"]) else int(r["days_late"]),
            falling_text(r["falling"], lang, labels),
            levers_text(r["levers"], ctx.units, lang, labels),
        ]
        ws.append(safe_row(ws, cells))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _item_label(item: Item, lang: str, names_en: Mapping[str, str]) -> str:
    return item.name_zh if lang != "en" else item_name(item, lang, names_en)


def _methods_sheet(book: Any, runs: Sequence[RatingRun], ctx: _Book) -> None:
    """Every item of every methodology: group, points or weight, rule and inputs."""
    lang = ctx.lang
    ws = _new_sheet(book, t("report.method", lang), ctx)
    _header(ws, [t(k, lang) for k in _METHOD_HEADERS], ctx)
    for run in runs:
        meth = run.methodology
        for item in (*meth.items, *meth.bonus_items):
            group = meth.group(item.group) if item.group else None
            row = safe_row(
                ws,
                [
                    meth.name,
                    meth.version,
                    meth.content_hash,
                    group_name(group, lang) if group else t("report.bonus_group", lang),
                    group.points if group else meth.bonus_cap,
                    item_name(item, lang, ctx.names_en),
                    t(f"rule.{item.rule}", lang),
                    item.points if meth.type == "stars" else item.weight,
                    " / ".join(item.inputs),
                ],
            )
            ws.append(row)


def _sheet_title(title: str, taken: Sequence[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)[:28].strip() or "sheet"
    name, n = clean, 2
    while name in taken:
        name, n = f"{clean[:25]} ({n})", n + 1
    return name
