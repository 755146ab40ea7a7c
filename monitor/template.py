"""A template workbook a park office fills in: the Torch-style annual report of one kind of
carrier, with a two-row header, the units in the headers, an explanation sheet, and the matching
``sources.toml`` entry so the bureau can collect the filled-in files as they come back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

from monitor.i18n import label
from monitor.safe_io import save_workbook

REGION = "region"
CITATION_HEADER = "数据来源"


def template_rows(indicators: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The fields of the form: a carrier kind's Torch fields, or (kind = "region") the city and
    district statistics the plan's goals read."""
    if kind == REGION:
        return [i for i in indicators if i["scope"] == "region"]
    return [i for i in indicators if i["scope"] == "park" and kind in i["kinds"].split("|")]


def template_fields(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(header, indicator row) of every column, grouped by form section, in sheet order."""
    fields: list[tuple[str, dict[str, Any]]] = []
    for _, members in _grouped([(f"{r['name_zh']}（{r['unit']}）", r) for r in rows]):
        fields.extend(members)
    return fields


def _grouped(
    fields: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for header, r in fields:
        groups.setdefault(r["group"] or "其他", []).append((header, r))
    return list(groups.items())


def meaning_zh(r: dict[str, Any]) -> str:
    """What the column asks for, in Chinese: the field, its form section and its unit."""
    unit = r["unit"]
    how = "填“是”或“否”" if unit == "是否" else f"单位：{unit}"
    bounds = ""
    if r["minimum"] is not None and r["maximum"] is not None:
        bounds = f"，取值 {r['minimum']:g}–{r['maximum']:g}"
    elif r["minimum"] is not None:
        bounds = f"，不小于 {r['minimum']:g}"
    return f"{r['name_zh']}（{r['group'] or '其他'}）；{how}{bounds}；未填报请留空，不要填 0"


def write_template(
    path: Path, indicators: list[dict[str, Any]], kind: str, carriers: list[str], year: int
) -> str:
    """Write the workbook; returns the sources.toml entry that reads it back."""
    rows = template_rows(indicators, kind)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "年报"
    region = kind == REGION
    title = f"{year}年度{'市、区科技统计' if region else label('kind', kind)}统计报表"
    subject_header = "地区" if region else "载体名称"
    ws.cell(1, 1, title).font = Font(bold=True, size=13)
    ws.cell(2, 1, subject_header)
    ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=1)
    # a region's figures cite where they come from (统计年鉴, 公报): kept with each figure
    ws.cell(2, 2, CITATION_HEADER if region else "统一社会信用代码")
    ws.merge_cells(start_row=2, start_column=2, end_row=3, end_column=2)
    col = 3
    fields = template_fields(rows)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for group, members in _grouped(fields):
        ws.cell(2, col, group).alignment = Alignment(horizontal="center")
        if len(members) > 1:
            ws.merge_cells(
                start_row=2, start_column=col, end_row=2, end_column=col + len(members) - 1
            )
        for i, (header, _) in enumerate(members):
            ws.cell(3, col + i, header).alignment = Alignment(wrap_text=True)
        col += len(members)
    headers = [(header, r["code"]) for header, r in fields]
    for c in range(1, col):
        for row in (2, 3):
            ws.cell(row, c).fill = fill
            ws.cell(row, c).font = Font(bold=True)
        ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width = 16
    ws.column_dimensions["A"].width = 30
    for i, name in enumerate(carriers, start=4):
        ws.cell(i, 1, name)
    note_row = 4 + max(len(carriers), 1) + 1
    ws.cell(
        note_row,
        1,
        "注：单位见表头；未填报请留空或填“—”，不要填 0；“数据来源”填统计年鉴、公报等出处。"
        if region
        else "注：金额单位见表头（千元）；未填报请留空或填“—”，不要填 0；是/否项填“是”或“否”。",
    )
    ws.freeze_panes = "C4"
    guide = book.create_sheet("填报说明")
    guide.append(["表头", "指标代码", "单位", "含义", "下限", "上限"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    # The instructions come from the same list as the headers, in the same order: they cannot
    # drift apart (each row describes the column whose header it repeats).
    for header, r in fields:
        guide.append([header, r["code"], r["unit"], meaning_zh(r), r["minimum"], r["maximum"]])
    guide.column_dimensions["A"].width = 36
    guide.column_dimensions["D"].width = 50
    save_workbook(book, path)
    mapping = "\n".join(f'"{h}" = "{c}"' for h, c in headers)
    subject = (
        f'{{ column = "{subject_header}", match = "name", type = "region" }}\n'
        f'citation_column = "{CITATION_HEADER}"'
        if region
        else f'{{ column = "{subject_header}", match = "name" }}'
    )
    return (
        f'[[source]]\nid = "{kind}-annual-{year}"\ndescription = "{title}"\n'
        f'collector = "file"\nlocation = "inbox/{kind}/*.xlsx"\nskip_first_rows = 1\n'
        f"header_rows = 2\nsubject = {subject}\n"
        f'period = "{year}"\n\n[source.columns]\n{mapping}\n'
    )
