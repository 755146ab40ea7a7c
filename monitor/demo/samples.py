"""Sample sources for the demo, written by the demo generator into ``config/samples/``.

They look like what a bureau really receives — and each carries a few realistic defects that must
end up as rejections, never in the data:

- ``torch/``: per-carrier annual report workbooks (XLSX), a title row, a two-row merged header,
  money in 千元 and a note row; defects: '约50' for a count, a negative mentor count, more
  financed incubatees than incubatees.
- ``district/``: a district office's GBK CSV with 万元 and 万平方米, a title row, a totals row
  (合计) and a note; defects: a misspelt carrier name, '12.3.4' for a number, more incubatees than
  the people they employ. A '—' (not reported) is missing, not an error.
- ``api/``: pages of a JSON "statistics API" with city and district headline indicators (served on
  127.0.0.1 by the demo); defects: an unknown region code, a share of 143.5 %.
- ``html/``: a notice listing newly recognised provincial incubators (HTML table); defect: a
  carrier that is not in the registry.

Everything is labelled 演示数据 (demo data). Values come from the seeded demo generator, so the
files are the same on every run.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font

from monitor.demo.generate import DEMO_LABEL_ZH, DemoData
from monitor.registry import City

SAMPLES = "samples"
TORCH_YEAR = 2025
DISTRICT_YEAR = 2024
DISTRICT = "320614"  # 海门区
FIXED_TIME = datetime(2026, 1, 15, 9, 0, 0)

# (group, header, indicator code, how to render from the canonical value)
TORCH_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("孵化绩效", "在孵企业数", "incubatees"),
    ("孵化绩效", "当年新增在孵企业数", "new_incubatees"),
    ("孵化绩效", "在孵企业从业人员", "incubatee_employees"),
    ("孵化绩效", "在孵企业总收入（千元）", "incubatee_revenue"),
    ("孵化绩效", "在孵企业R&D投入（千元）", "incubatee_rd_spending"),
    ("孵化绩效", "当年获得投融资的在孵企业数", "financed_incubatees"),
    ("孵化绩效", "当年毕业企业数", "graduated_this_year"),
    ("孵化绩效", "累计毕业企业数", "graduated_cumulative"),
    ("服务能力", "孵化场地面积（平方米）", "incubation_area"),
    ("服务能力", "创业导师数", "mentors"),
    ("服务能力", "孵化基金总额（千元）", "incubation_fund"),
    ("服务能力", "举办创新创业活动次数", "events"),
    ("可持续发展", "管理服务人员数", "service_staff"),
    ("可持续发展", "载体总收入（千元）", "carrier_revenue"),
)

DISTRICT_COLUMNS: tuple[tuple[str, str, float, int], ...] = (
    # header, indicator, divide the canonical value by, decimals
    ("在孵企业数（家）", "incubatees", 1, 0),
    ("在孵企业从业人员（人）", "incubatee_employees", 1, 0),
    ("在孵企业总收入（万元）", "incubatee_revenue", 10, 2),
    ("孵化场地面积（万平方米）", "incubation_area", 10_000, 4),
    ("创业导师数（人）", "mentors", 1, 0),
    ("孵化基金总额（万元）", "incubation_fund", 10, 2),
)

HEADLINE = (
    "rd_gdp_share",
    "rd_spending",
    "tech_progress_contribution",
    "hightech_output_share",
    "hightech_firms",
    "st_service_revenue",
    "new_high_level_talents",
    "new_enterprise_rd_institutions",
    "tech_contract_turnover",
    "high_value_patents_per_10k",
)

# City trajectories 2020–2025. The 2020 values of 全社会研发经费支出占GDP比重 (2.55), 科技进步贡献率
# (65.5), 高新技术产业产值占比 (43.5), 高新技术企业数 (2178) and 技术合同成交额 (194.2) are the
# plan's baselines; everything else, and every later year, is synthetic demo data shaped so that
# the goal statuses differ (achieved, on track, moderate, limited).
CITY_SERIES: Mapping[str, tuple[float, ...]] = {
    "rd_gdp_share": (2.55, 2.62, 2.70, 2.77, 2.83, 2.90),
    "rd_spending": (255.0, 279.0, 303.0, 331.0, 360.0, 392.0),
    "tech_progress_contribution": (65.5, 66.3, 67.0, 67.8, 68.5, 69.2),
    "hightech_output_share": (43.5, 44.1, 44.5, 44.8, 45.0, 45.2),
    "hightech_firms": (2178, 2650, 3080, 3340, 3520, 3710),
    "st_service_revenue": (600.0, 655.0, 720.0, 790.0, 870.0, 955.0),
    "new_high_level_talents": (88, 95, 104, 101, 112, 118),
    "new_enterprise_rd_institutions": (31, 36, 38, 41, 40, 43),
    "tech_contract_turnover": (194.2, 236.0, 281.0, 338.0, 392.0, 447.0),
    "high_value_patents_per_10k": (8.1, 9.4, 10.8, 12.1, 13.2, 14.3),
}
# One district drifts the wrong way on the high-tech share so "moving away" shows up.
DRIFTING_DISTRICT = "320623"


def write_samples(out_dir: Path, city: City, data: DemoData, seed: int = 11) -> list[Path]:
    """(Re)write every sample file under ``out_dir`` (normally ``config/samples``)."""
    rng = np.random.default_rng(seed)
    for sub in ("torch", "district", "api", "html"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    written = []
    written += _torch_workbooks(out_dir / "torch", data)
    written.append(_district_csv(out_dir / "district", city, data))
    written += _api_pages(out_dir / "api", city, rng)
    written.append(_recognition_page(out_dir / "html", city, data))
    return written


def _values(data: DemoData, year: int) -> pd.DataFrame:
    obs = data.observations[data.observations["period"] == str(year)]
    return obs.pivot_table(index="subject_id", columns="indicator", values="value")


def _parks(
    data: DemoData, kind: str | None = None, district: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    return [
        p
        for p in data.parks
        if (kind is None or p["kind"] == kind)
        and (district is None or p["district_id"] == district)
        and (year is None or (p["opened"] <= year and (p["closed"] is None or p["closed"] > year)))
    ]


def _torch_workbooks(folder: Path, data: DemoData) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    values = _values(data, TORCH_YEAR)
    parks = [p for p in _parks(data, "incubator", "320613", TORCH_YEAR) if p["id"] in values.index]
    written = []
    for n, park in enumerate(parks[:10]):
        row = values.loc[park["id"]]
        cells: dict[str, Any] = {
            code: (None if pd.isna(row.get(code)) else row.get(code))
            for _, _, code in TORCH_COLUMNS
        }
        if n == 2:
            cells["incubatees"] = "约50"  # defect: not a number
        if n == 5:
            cells["mentors"] = -3  # defect: a negative count
        if n == 7 and cells.get("incubatees"):
            cells["financed_incubatees"] = cells["incubatees"] + 4  # defect: logic check
        book = openpyxl.Workbook()
        ws = book.active
        ws.title = "孵化器年报"
        width = 2 + len(TORCH_COLUMNS)
        ws.cell(1, 1, f"{TORCH_YEAR}年度科技企业孵化器统计报表（{DEMO_LABEL_ZH}）").font = Font(
            bold=True
        )
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.cell(2, 1, "孵化器名称")
        ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=1)
        ws.cell(2, 2, "统一社会信用代码")
        ws.merge_cells(start_row=2, start_column=2, end_row=3, end_column=2)
        col = 3
        for group in dict.fromkeys(g for g, _, _ in TORCH_COLUMNS):
            members = [h for g, h, _ in TORCH_COLUMNS if g == group]
            ws.cell(2, col, group).alignment = Alignment(horizontal="center")
            ws.merge_cells(
                start_row=2, start_column=col, end_row=2, end_column=col + len(members) - 1
            )
            for i, header in enumerate(members):
                ws.cell(3, col + i, header)
            col += len(members)
        ws.cell(4, 1, park["name"])
        ws.cell(4, 2, "（演示，无）")
        for i, (_, _, code) in enumerate(TORCH_COLUMNS):
            value = cells[code]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            ws.cell(4, 3 + i, value)
        ws.cell(6, 1, "注：金额单位为千元，面积单位为平方米；本表为程序生成的演示数据。")
        book.properties.created = FIXED_TIME
        book.properties.modified = FIXED_TIME
        book.properties.creator = "parkmon demo"
        path = folder / f"{park['id']}_{TORCH_YEAR}年度孵化器统计报表.xlsx"
        buffer = io.BytesIO()
        book.save(buffer)
        path.write_bytes(_fixed_zip_times(buffer.getvalue()))
        written.append(path)
    return written


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed entry times so the same data gives the same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" at save
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*",
                    rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                    content,
                )
            dst.writestr(fixed, content)
    return out.getvalue()


def _district_csv(folder: Path, city: City, data: DemoData) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    values = _values(data, DISTRICT_YEAR)
    district = city.district(DISTRICT)
    assert district is not None
    parks = [
        p
        for p in _parks(data, None, DISTRICT, DISTRICT_YEAR)
        if p["kind"] in ("incubator", "maker_space") and p["id"] in values.index
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            f"{district.name}{DISTRICT_YEAR}年科技企业孵化器和众创空间运营情况统计表"
            f"（{DEMO_LABEL_ZH}）"
        ]
        + [""] * (2 + len(DISTRICT_COLUMNS))
    )
    writer.writerow(["序号", "载体名称", "类型"] + [h for h, _, _, _ in DISTRICT_COLUMNS])
    totals = [0.0] * len(DISTRICT_COLUMNS)
    for n, park in enumerate(parks, start=1):
        row = values.loc[park["id"]]
        cells = []
        for i, (_, code, divisor, decimals) in enumerate(DISTRICT_COLUMNS):
            value = row.get(code)
            if value is None or pd.isna(value):
                cells.append("—")
                continue
            shown = round(float(value) / divisor, decimals)
            totals[i] += shown
            cells.append(f"{shown:,.{decimals}f}" if decimals else f"{int(shown):,}")
        name = park["name"]
        if n == 3:
            name = name.replace("（演示）", "（演示")  # defect: a misspelt name
        if n == 6:
            cells[2] = "12.3.4"  # defect: not a number
        if n == 9:
            cells[1] = "3"  # defect: fewer people employed than incubatees
        if n == 4:
            cells[0] = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in cells[0])
        writer.writerow([n, name, "孵化器" if park["kind"] == "incubator" else "众创空间", *cells])
    writer.writerow(["", "合计", "", *[f"{t:,.2f}" for t in totals]])
    writer.writerow(
        [
            "填报单位：" + district.name + "科学技术局（演示数据）；"
            "金额单位：万元；面积单位：万平方米；“—”表示未填报"
        ]
    )
    path = folder / f"{district.name}{DISTRICT_YEAR}年孵化载体统计.csv"
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path


def _api_pages(folder: Path, city: City, rng: np.random.Generator) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    years = range(city.baseline_year, city.plan_end + 1)
    items: list[dict[str, Any]] = []
    share = {
        "320613": 0.22,
        "320612": 0.15,
        "320614": 0.13,
        "320623": 0.11,
        "320681": 0.11,
        "320682": 0.14,
        "320685": 0.14,
    }
    for t, year in enumerate(years):
        items.append(
            {
                "region_code": city.adcode,
                "region_name": city.name,
                "year": year,
                "indicators": {k: CITY_SERIES[k][t] for k in HEADLINE},
            }
        )
        for d in city.districts:
            factor = share.get(d.adcode, 1 / len(city.districts))
            noise = float(rng.normal(1.0, 0.04))
            values: dict[str, float] = {}
            for k in HEADLINE:
                v = CITY_SERIES[k][t]
                if k in (
                    "rd_gdp_share",
                    "tech_progress_contribution",
                    "hightech_output_share",
                    "high_value_patents_per_10k",
                ):
                    values[k] = round(v * noise, 2)
                else:
                    values[k] = round(v * factor * noise, 1)
            if d.adcode == DRIFTING_DISTRICT:
                values["hightech_output_share"] = round(41.0 - 0.6 * t, 2)
            items.append(
                {"region_code": d.adcode, "region_name": d.name, "year": year, "indicators": values}
            )
    items.append(
        {
            "region_code": "320699",
            "region_name": "南通市某区（不存在）",
            "year": 2025,
            "indicators": {"hightech_firms": 12},
        }
    )  # defect: unknown region
    items[5]["indicators"]["hightech_output_share"] = 143.5  # defect: impossible share
    size = 20
    pages = [items[i : i + size] for i in range(0, len(items), size)]
    written = []
    for n, page in enumerate(pages, start=1):
        document = {
            "code": 0,
            "note": f"{DEMO_LABEL_ZH}：科技统计接口示例",
            "data": {"page": n, "page_size": size, "total": len(items), "items": page},
        }
        path = folder / f"stats-page-{n}.json"
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _recognition_page(folder: Path, city: City, data: DemoData) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    by_id = {p["id"]: p for p in data.parks}
    names = {d.adcode: d.name for d in city.districts}
    recognised = [
        r for r in data.recognitions if r["year"] == TORCH_YEAR and r["level"] == "provincial"
    ]
    rows = [
        (by_id[r["park_id"]]["name"], names[by_id[r["park_id"]]["district_id"]], "省级")
        for r in recognised
    ]
    rows.insert(2, ("南通示例未登记孵化器（演示）", "崇川区", "省级"))  # defect: not in registry
    body = "\n".join(
        f"<tr><td>{i}</td><td>{html.escape(n)}</td><td>{html.escape(d)}</td>"
        f"<td>{html.escape(level)}</td></tr>"
        for i, (n, d, level) in enumerate(rows, start=1)
    )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>关于公布{TORCH_YEAR}年度省级科技企业孵化器名单的通知（{DEMO_LABEL_ZH}）</title></head>
<body>
<h1>关于公布{TORCH_YEAR}年度省级科技企业孵化器名单的通知</h1>
<p>本页面为 parkmon 演示数据，非真实公告。</p>
<table border="1">
<tr><th>序号</th><th>载体名称</th><th>所在地</th><th>级别</th></tr>
{body}
</table>
</body></html>
"""
    path = folder / f"{TORCH_YEAR}年度省级科技企业孵化器名单.html"
    path.write_text(page, encoding="utf-8")
    return path
