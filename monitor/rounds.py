"""Reporting rounds of the submission portal: the bureau asks carriers of some kinds for some
figures of one year by a deadline; each carrier's office downloads a workbook pre-filled with
its identity, last year's figures for reference and the units, and fills in this year's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, safe_io, store
from monitor.accounts import Actor, audit
from monitor.errors import PortalError
from monitor.tables import table_of

T_ROUND = table_of(models.ReportRound)
ROUND_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
SHEET = "填报 Report"
GUIDE = "说明 Guide"
# The figures' table of the workbook: its header row follows the title, five lines of identity
# and a blank line; reading an upload back depends on these names (monitor.submissions).
HEADER_ROW = 8
SUBJECT = "载体编号 Carrier id"
CODE = "指标代码 Code"
UNIT = "单位 Unit"


def value_header(period: str) -> str:
    return f"{period} 年数值（请填写）"


class RoundError(PortalError):
    """A reporting round cannot be defined as asked; the message says what to give."""


def add_round(
    engine: Engine,
    round_id: str,
    title: str,
    period: int,
    deadline: date,
    kinds: Sequence[str],
    indicators: Sequence[str] = (),
    *,
    actor: Actor,
) -> list[str]:
    """Open a round; without ``indicators`` it asks every carrier-level indicator of its kinds.
    Returns the indicators asked."""
    if not ROUND_ID.match(round_id):
        raise RoundError(
            f"round id {round_id!r}: 2 to 64 lower-case letters, digits or - expected",
            f"编号“{round_id}”：应为 2–64 个小写字母、数字或 -",
        )
    known_kinds = {k.value for k in models.ParkKind}
    wrong = [k for k in kinds if k not in known_kinds]
    if not kinds or wrong:
        raise RoundError(
            f"kinds {', '.join(wrong) or '(none)'}: expected one or more of "
            f"{', '.join(sorted(known_kinds))}",
            f"载体类型 {'、'.join(wrong) or '（未选）'}：请至少选择一种已知类型",
        )
    catalogue = store.indicator_rows(engine)
    applicable = [
        r["code"]
        for r in catalogue
        if r["scope"] == "park" and set(str(r["kinds"]).split("|")) & set(kinds)
    ]
    asked = list(dict.fromkeys(indicators)) or applicable
    unknown = [c for c in asked if c not in {r["code"] for r in catalogue}]
    if unknown:
        raise RoundError(
            f"no indicator {', '.join(unknown)} in the catalogue (indicators.toml)",
            f"指标目录（indicators.toml）中没有 {'、'.join(unknown)}",
        )
    with engine.begin() as conn:
        if conn.execute(sa.select(T_ROUND.c.id).where(T_ROUND.c.id == round_id)).first():
            raise RoundError(
                f"a round named {round_id} exists already", f"编号为 {round_id} 的填报已存在"
            )
        conn.execute(
            sa.insert(T_ROUND).values(
                id=round_id,
                title=title[:128],
                period=str(period),
                deadline=deadline,
                kinds="|".join(kinds),
                indicators="|".join(asked),
                closed=False,
                created_by=actor.name[:128],
                created_at=models.utcnow(),
            )
        )
        audit(conn, actor, "round.add", round_id, {"period": period, "kinds": list(kinds)})
    return asked


def rounds_frame(engine: Engine) -> pd.DataFrame:
    columns = ["id", "title", "period", "deadline", "kinds", "indicators", "closed"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*(T_ROUND.c[c] for c in columns)).order_by(T_ROUND.c.deadline.desc())
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def round_of(engine: Engine, round_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(T_ROUND).where(T_ROUND.c.id == round_id)).first()
    return None if row is None else dict(row._mapping)


def workbook(
    engine: Engine,
    found: dict[str, Any],
    park: dict[str, Any],
    lang: str,
    values: dict[str, str] | None = None,
) -> bytes:
    """The pre-filled workbook of one carrier for one round: its identity, each figure asked
    with its unit, bounds and last year's value, and an empty column for this year's (or, from
    the online form, ``values`` as typed: the form is checked as this workbook). Every text is
    written so that no spreadsheet can take it for a formula."""
    from openpyxl import Workbook  # noqa: PLC0415  (only for this download)
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415

    codes = str(found["indicators"]).split("|")
    period = str(found["period"])
    previous = str(int(period) - 1)
    catalogue = {r["code"]: r for r in store.indicator_rows(engine)}
    last = store.observations_frame(
        engine, subjects=[str(park["id"])], indicators=codes, periods=[previous], columns=()
    )
    last_values = dict(zip(last["indicator"], last["value"], strict=True))
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    bold = Font(bold=True)
    sheet.append(safe_io.safe_row(sheet, [f"{found['title']}（{period}）"]))
    sheet["A1"].font = Font(bold=True, size=13)
    for label, value in (
        ("载体编号 Carrier id", park["id"]),
        ("载体名称 Carrier", park["name"]),
        ("统一社会信用代码 Credit code", park.get("credit_code") or ""),
        ("报告期 Period", period),
        ("截止日期 Deadline", str(found["deadline"])),
    ):
        sheet.append(safe_io.safe_row(sheet, [label, value]))
    sheet.append([])
    header = [
        SUBJECT,
        CODE,
        "指标 Indicator",
        UNIT,
        f"{previous} 年数值（参考）",
        value_header(period),
        "取值范围 Bounds",
    ]
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
    to_fill = PatternFill("solid", fgColor="FFF3C4")
    for code in codes:
        info = catalogue.get(code, {})
        name = info.get("name_zh") if lang == "zh" else (info.get("name_en") or info.get("name_zh"))
        bounds = _bounds(info.get("minimum"), info.get("maximum"))
        before = last_values.get(code)
        sheet.append(
            safe_io.safe_row(
                sheet,
                [
                    park["id"],
                    code,
                    name or code,
                    info.get("unit", ""),
                    before,
                    (values or {}).get(code) or None,
                    bounds,
                ],
            )
        )
        sheet.cell(row=sheet.max_row, column=6).fill = to_fill
    for column, width in zip("ABCDEFG", (16, 24, 36, 10, 18, 18, 18), strict=True):
        sheet.column_dimensions[column].width = width
    guide = book.create_sheet(GUIDE)
    for line in (
        "填写说明 How to fill in",
        f"1. 只在黄色的“{period} 年数值”一列填写数字，单位见“单位”列"
        "（千元、万元等请换算为该单位）。",
        "1. Fill in only the yellow column, in the unit of the Unit column.",
        "2. 不要改动指标代码、载体编号和表头；不适用的指标留空。",
        "2. Do not change the codes, the carrier id or the headers; leave what does not apply "
        "empty.",
        "3. 上传后系统立即逐项检查，并以中文说明需要更正的单元格和原因；截止日期前可反复修改上传。",
        "3. After upload every figure is checked at once; fix and upload again until the deadline.",
    ):
        guide.append(safe_io.safe_row(guide, [line]))
    guide.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def asked(engine: Engine, found: dict[str, Any], park_id: str, lang: str) -> list[dict[str, Any]]:
    """The figures a round asks of a carrier, for the online form: code, name, unit, bounds
    and last year's value, in the workbook's order (its row is ``HEADER_ROW`` + 1 + position)."""
    codes = str(found["indicators"]).split("|")
    previous = str(int(str(found["period"])) - 1)
    catalogue = {r["code"]: r for r in store.indicator_rows(engine)}
    last = store.observations_frame(
        engine, subjects=[park_id], indicators=codes, periods=[previous], columns=()
    )
    last_values = dict(zip(last["indicator"], last["value"], strict=True))
    out = []
    for code in codes:
        info = catalogue.get(code, {})
        name = info.get("name_zh") if lang == "zh" else (info.get("name_en") or info.get("name_zh"))
        out.append(
            {
                "code": code,
                "name": name or code,
                "unit": info.get("unit", ""),
                "bounds": _bounds(info.get("minimum"), info.get("maximum")),
                "previous": last_values.get(code),
            }
        )
    return out


def _bounds(low: Any, high: Any) -> str:
    def shown(v: Any) -> str:
        return f"{float(v):g}"

    has_low = low is not None and not pd.isna(low)
    has_high = high is not None and not pd.isna(high)
    if has_low and has_high:
        return f"{shown(low)} – {shown(high)}"
    if has_low:
        return f"≥ {shown(low)}"
    if has_high:
        return f"≤ {shown(high)}"
    return ""


def close_round(engine: Engine, round_id: str, *, actor: Actor) -> None:
    """Close a round: no more uploads or submissions (what was filed stays, and reviewing what
    was submitted goes on)."""
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(T_ROUND)
            .where(T_ROUND.c.id == round_id, T_ROUND.c.closed.is_(False))
            .values(closed=True)
        )
        if done.rowcount == 0:
            raise RoundError(
                f"no open round named {round_id}", f"没有编号为 {round_id} 的未截止填报"
            )
        audit(conn, actor, "round.close", round_id)
