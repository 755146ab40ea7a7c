"""The annual rating report: a self-contained HTML page and an Excel workbook.

Every text that came from outside (names from the registry or from collected data) is escaped in
the HTML. Demo data get a banner on every page and sheet.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill

from monitor import __version__
from monitor.i18n import t
from monitor.pipeline import RatingRun
from monitor.rating.explain import NextStarOption, explain
from monitor.rating.stability import stability
from monitor.safe_io import save_workbook

STAR = "★"


def _stars(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return STAR * int(value) if int(value) > 0 else "否决"


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def summary_frame(run: RatingRun, districts: dict[str, str]) -> pd.DataFrame:
    table = run.result.table.copy()
    table["name"] = [run.names.get(str(i), str(i)) for i in table.index]
    peers = run.peers.reindex(table.index)
    table["district"] = [
        districts.get(str(d), str(d))
        for d in peers.get("district_id", pd.Series(index=table.index, dtype=object))
    ]
    return table.sort_values(["status", "score"], ascending=[True, False])


def _svg_distribution(counts: dict[int, int]) -> str:
    """An inline SVG bar chart of the star distribution (no scripts, no network)."""
    bars = sorted(counts.items())
    peak = max([c for _, c in bars] + [1])
    width, height, bar = 320, 140, 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
        'role="img" aria-label="star distribution">'
    ]
    for i, (stars, count) in enumerate(bars):
        h = int(height * count / peak)
        x = 10 + i * (bar + 20)
        label = STAR * stars if stars > 0 else "否决"
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


def render_html(
    runs: Sequence[RatingRun], year: int, *, districts: dict[str, str], demo: bool, lang: str = "zh"
) -> str:
    esc = html.escape
    body = []
    if demo:
        body.append(f'<div class="demo">{esc(t("msg.demo_banner", lang))}</div>')
    body.append(f"<h1>{year} {esc(t('report.title', lang))}</h1>")
    body.append(
        f"<p class='meta'>parkmon {esc(__version__)} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>"
    )
    for run in runs:
        meth = run.methodology
        frame = summary_frame(run, districts)
        body.append(
            f"<h2>{esc(meth.title_zh if lang == 'zh' else meth.title_en or meth.title_zh)}</h2>"
        )
        body.append(
            f"<p class='meta'>{esc(meth.name)} {esc(meth.version)} · "
            f"{esc(t('report.hash', lang))} <code>{esc(meth.content_hash[:16])}</code>"
            f" · {len(frame)} {esc(t('report.subjects', lang))}</p>"
        )
        counts = frame.loc[frame["status"] != "incomplete", "stars"].dropna().astype(int)
        body.append(_svg_distribution(dict(Counter(int(v) for v in counts.tolist()))))
        by_district = frame.groupby("district").agg(
            n=("score", "size"),
            mean_score=("score", "mean"),
            top=("stars", lambda s: int((s >= 4).sum())),
        )
        body.append(
            f"<h3>{esc(t('report.by_district', lang))}</h3><table><tr>"
            f"<th>{esc(t('col.district', lang))}</th><th>{esc(t('col.count', lang))}</th>"
            f"<th>{esc(t('report.mean', lang))}</th><th>≥ {STAR * 4}</th></tr>"
        )
        for district, row in by_district.iterrows():
            body.append(
                f"<tr><td>{esc(str(district))}</td><td>{int(row['n'])}</td>"
                f"<td>{_fmt(float(row['mean_score']))}</td><td>{int(row['top'])}</td></tr>"
            )
        body.append("</table>")
        groups = [g for g in meth.groups]
        body.append(
            f"<h3>{esc(t('report.ranking', lang))}</h3><table class='rank'><tr>"
            f"<th>#</th><th>{esc(t('col.name', lang))}</th>"
            f"<th>{esc(t('col.district', lang))}</th>"
            + "".join(f"<th>{esc(g.name_zh)}<br><small>{g.points:g}</small></th>" for g in groups)
            + f"<th>{esc(t('report.bonus', lang))}</th><th>{esc(t('report.score', lang))}"
            f"</th><th>{esc(t('report.stars', lang))}</th>"
            f"<th>{esc(t('report.status', lang))}</th></tr>"
        )
        for _, row in frame.iterrows():
            cells = "".join(f"<td>{_fmt(row[f'g_{g.id}'])}</td>" for g in groups)
            body.append(
                f"<tr><td>{_fmt(row['rank'], 0)}</td><td>{esc(str(row['name']))}</td>"
                f"<td>{esc(str(row['district']))}</td>{cells}<td>{_fmt(row['bonus'])}</td>"
                f"<td><b>{_fmt(row['score'])}</b></td><td class='stars'>{_stars(row['stars'])}"
                f"</td><td>{esc(t('rating.' + str(row['status']), lang))}</td></tr>"
            )
        body.append("</table>")
        body.append(f"<h3>{esc(t('report.method', lang))}</h3><ul>")
        for g in groups:
            items = [i for i in meth.items if i.group == g.id]
            body.append(
                f"<li><b>{esc(g.name_zh)}</b> ({g.points:g}): "
                + "; ".join(
                    esc(
                        f"{i.name_zh} — {i.rule}"
                        + (f" {i.points:g}" if meth.type == "stars" else "")
                    )
                    for i in items
                )
                + "</li>"
            )
        if meth.vetoes:
            body.append(
                "<li><b>一票否决</b>: " + "; ".join(esc(v.name_zh) for v in meth.vetoes) + "</li>"
            )
        bands = "; ".join(
            f"{STAR * b.stars}: ≥ {b.min_score:g}"
            + (f" & top {b.top_share:.0%}" if b.top_share else "")
            for b in meth.bands
        )
        body.append(f"<li><b>{esc(t('report.stars', lang))}</b>: {esc(bands)}</li></ul>")
    style = (
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;"
        "color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
        "padding:3px 7px;font-size:13px}th{background:#f3f3f3}.stars{color:#b8860b}"
        ".demo{background:#fff3cd;border:1px solid #e0b000;padding:.6em;font-weight:bold}"
        ".meta{color:#666;font-size:12px}"
    )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{year} {esc(t('report.title', lang))}</title><style>{style}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


DEMO_XLSX_BANNER = "演示数据：程序生成的示例，并非真实统计 / demo data"


def write_xlsx(
    path: Path,
    runs: Sequence[RatingRun],
    year: int,
    *,
    districts: dict[str, str],
    demo: bool,
    units: dict[str, str],
) -> Path:
    """One sheet per methodology, one for explanations, one for the methodologies."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    banner = PatternFill("solid", fgColor="FFF3CD")
    explain_ws = None
    for run in runs:
        meth = run.methodology
        frame = summary_frame(run, districts)
        ws = book.create_sheet(meth.title_zh[:28])
        start = 1
        if demo:
            ws.cell(1, 1, DEMO_XLSX_BANNER).fill = banner
            start = 2
        headers = (
            ["排名", "编号", "名称", "所在区县"]
            + [g.name_zh for g in meth.groups]
            + ["加分", "总分", "星级", "状态", "数据完整度", "5★概率", "排名区间(P5–P95)"]
        )
        for j, h in enumerate(headers, 1):
            ws.cell(start, j, h).font = bold
        stab: dict[str, dict[str, Any]] = {}
        if len(frame):
            stab_frame = stability(run.values, meth, peers=run.peers, draws=300, held=run.held)
            stab = {
                str(k): {str(c): x for c, x in v.items()}
                for k, v in stab_frame.to_dict("index").items()
            }
        for i, (subject, row) in enumerate(frame.iterrows(), start + 1):
            rank_band = ""
            p5 = None
            st = stab.get(str(subject), {})
            if st and not pd.isna(st.get("rank_p05")):
                rank_band = f"{int(st['rank_p05'])}–{int(st['rank_p95'])}"
                p5 = None if pd.isna(st.get("p_5_stars")) else float(st["p_5_stars"])
            values = (
                [
                    None if pd.isna(row["rank"]) else int(row["rank"]),
                    str(subject),
                    str(row["name"]),
                    str(row["district"]),
                ]
                + [
                    None if pd.isna(row[f"g_{g.id}"]) else round(float(row[f"g_{g.id}"]), 2)
                    for g in meth.groups
                ]
                + [
                    round(float(row["bonus"]), 2),
                    round(float(row["score"]), 2),
                    _stars(row["stars"]),
                    t(f"rating.{row['status']}", "zh")
                    + (f"：{row['review']}" if str(row.get("review", "") or "") else ""),
                    round(float(row["completeness"]), 3),
                    p5,
                    rank_band,
                ]
            )
            for j, v in enumerate(values, 1):
                ws.cell(i, j, v)
        ws.freeze_panes = ws.cell(start + 1, 4)
        for col, width in zip("ABCD", (6, 12, 30, 10), strict=True):
            ws.column_dimensions[col].width = width
        if meth.type != "stars":
            continue
        if explain_ws is None:
            explain_ws = book.create_sheet("改进建议")
            for j, h in enumerate(
                [
                    "方法",
                    "编号",
                    "名称",
                    "当前星级",
                    "目标星级",
                    "目标分数",
                    "单项（单独提升即可升星）",
                    "指标",
                    "现值",
                    "需达到",
                ],
                1,
            ):
                explain_ws.cell(1, j, h).font = bold
        for subject in frame.index:
            ex = explain(run.result, str(subject), run.values, units)
            reachable: list[NextStarOption | None] = [o for o in ex.options[:3] if o.reachable]
            for option in reachable or [None]:
                explain_ws.append(
                    [
                        meth.name,
                        str(subject),
                        run.names.get(str(subject), ""),
                        _stars(ex.stars),
                        None if ex.target_stars is None else STAR * ex.target_stars,
                        None if ex.target_score is None else round(ex.target_score, 2),
                        "—" if option is None else option.name_zh,
                        None if option is None else option.indicator,
                        None if option is None else option.current,
                        None if option is None else option.needed,
                    ]
                )
    ws = book.create_sheet("评价方法")
    ws.append(["方法", "版本", "内容哈希", "分组", "分值/权重", "项目", "规则", "分值", "指标"])
    for cell in ws[1]:
        cell.font = bold
    for run in runs:
        meth = run.methodology
        for item in (*meth.items, *meth.bonus_items):
            group = meth.group(item.group).name_zh if item.group else "加分项"
            gpts = meth.group(item.group).points if item.group else meth.bonus_cap
            ws.append(
                [
                    meth.name,
                    meth.version,
                    meth.content_hash,
                    group,
                    gpts,
                    item.name_zh,
                    item.rule,
                    item.points if meth.type == "stars" else item.weight,
                    " / ".join(item.inputs),
                ]
            )
    if demo:  # every sheet of a workbook made from demo data says so on its first row
        for sheet in book.worksheets:
            if sheet.cell(1, 1).value != DEMO_XLSX_BANNER:
                sheet.insert_rows(1)
                sheet.cell(1, 1, DEMO_XLSX_BANNER).fill = banner
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(vertical="top")
    return save_workbook(book, path)
