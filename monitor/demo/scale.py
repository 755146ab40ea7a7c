"""A province-sized demo anyone can rerun: ``parkmon demo --carriers N``.

It writes a complete, self-contained config folder and a database beside it:

- ``config/city.toml``: a synthetic province (演示省) of K districts laid out as a grid of
  rectangles (``config/boundaries.geojson``), K growing with N (7 to 100);
- ``config/parks.csv``: N carriers — incubators, maker spaces and some zones — with points inside
  their districts, every one labelled demo (ids ``DEMO-S…``, names ending （演示））;
- ``config/data/carriers-YEAR.csv`` and ``zones-YEAR.csv``: one wide annual report per year (ten
  years to 2025 unless asked otherwise), the
  headers a park office writes (Chinese indicator names, a 年份 column), and ``sources.toml`` to
  collect them with the real collectors;
- ``parkmon.db``: the registry initialised from that folder and the same figures loaded.

Everything is generated from the seed, chunk by chunk (memory bounded by the chunk, not by N),
and is the same on every machine for the same N and seed. It exists to measure parkmon at the
scale of a province or a nation (``bench/bench_scale.py``); it is not Nantong's data.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor import models, store
from monitor.demo import generate as demo
from monitor.demo.build import fresh_database, start_demo_run
from monitor.indicators import load_indicators
from monitor.pipeline import initialise
from monitor.registry import COLUMNS as REGISTRY_COLUMNS
from monitor.settings import bundled_config_dir
from monitor.tables import set_meta

PROVINCE_ADCODE = "990000"  # not a real code: 99 is no province
PROVINCE_BBOX = (116.3, 30.8, 121.9, 35.1)  # about the size of Jiangsu
CHUNK = 2_000  # carriers generated and written at a time (see store.MAX_SUBJECTS_IN)
LAST_YEAR = 2025
YEARS = 10  # of figures, by default
# Kinds and levels of the carriers: shares, not facts.
_KINDS = (
    ("incubator", "孵化器", "incubator", 0.46),
    ("maker_space", "众创空间", "maker space", 0.46),
    ("high_tech_zone", "高新区", "high-tech zone", 0.03),
    ("development_zone", "开发区", "development zone", 0.03),
    ("industrial_park", "产业园", "industrial park", 0.02),
)
_LEVELS = (("national", 0.1), ("provincial", 0.3), ("municipal", 0.6))


@dataclass(frozen=True)
class ScaleDemo:
    folder: Path
    config_dir: Path
    database: Path
    carriers: int
    districts: int
    observations: int
    years: tuple[int, ...]


def district_count(carriers: int) -> int:
    """Districts of the synthetic province: about 200 carriers each, 7 to 100."""
    return max(7, min(100, round(carriers / 200)))


def build_scale_demo(
    folder: Path,
    carriers: int,
    seed: int = demo.DEMO_SEED,
    *,
    years: int = YEARS,
    load: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> ScaleDemo:
    """Write the scale demo's config folder (and, with ``load``, its database) into ``folder``."""
    if carriers < 10:
        raise ValueError("a scale demo needs at least 10 carriers")
    step = on_step or (lambda _s: None)
    config_dir = folder / "config"
    if config_dir.exists():
        shutil.rmtree(config_dir)
    (config_dir / "data").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    if not 1 <= years <= 30:
        raise ValueError("a scale demo covers 1 to 30 years")
    span = tuple(range(LAST_YEAR - years + 1, LAST_YEAR + 1))
    step("the synthetic province and its districts")
    cells = _districts(district_count(carriers))
    _write_city(config_dir, cells)
    _copy_bundled(config_dir)
    step(f"{carriers:,} carriers")
    parks = _carriers(carriers, cells, rng)
    _write_registry(config_dir / "parks.csv", parks)
    step(f"{years} years of annual reports")
    observations, codes = _write_reports(config_dir, parks, span, seed)
    _write_sources(config_dir, carriers, codes)
    database = folder / "parkmon.db"
    if load:
        step("the database: registry and figures")
        load_scale_demo(database, config_dir, parks, span, seed)
    return ScaleDemo(folder, config_dir, database, carriers, len(cells), observations, span)


# --- geography -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    adcode: str
    name: str
    name_en: str
    box: tuple[float, float, float, float]

    @property
    def seat(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return round((x0 + x1) / 2, 4), round((y0 + y1) / 2, 4)


def _districts(count: int) -> list[Cell]:
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    x0, y0, x1, y1 = PROVINCE_BBOX
    width, height = (x1 - x0) / columns, (y1 - y0) / rows
    cells = []
    for i in range(count):
        r, c = divmod(i, columns)
        box = (
            round(x0 + c * width, 4),
            round(y1 - (r + 1) * height, 4),
            round(x0 + (c + 1) * width, 4),
            round(y1 - r * height, 4),
        )
        cells.append(Cell(f"99{i + 1:04d}", f"演示{i + 1}区", f"Demo district {i + 1}", box))
    return cells


def _write_city(config_dir: Path, cells: list[Cell]) -> None:
    lines = [
        "# A synthetic province for measuring parkmon at scale (parkmon demo --carriers N).",
        "# 演示数据 / demo data: not a real place.",
        "[city]",
        f'adcode = "{PROVINCE_ADCODE}"',
        'name = "演示省（演示）"',
        'name_en = "Demo province (demo)"',
        f"bbox = {list(PROVINCE_BBOX)}",
        "plan_start = 2021",
        "plan_end = 2025",
        "baseline_year = 2020",
        "",
        "[geo]",
        'boundaries = "boundaries.geojson"',
        "",
        "[belt]",
        "river_neighbours = []",
        "",
    ]
    for cell in cells:
        lines += [
            "[[districts]]",
            f'adcode = "{cell.adcode}"',
            f'name = "{cell.name}"',
            f'name_en = "{cell.name_en}"',
            f"seat = {list(cell.seat)}",
            "",
        ]
    (config_dir / "city.toml").write_text("\n".join(lines), encoding="utf-8")
    features = []
    for cell in cells:
        x0, y0, x1, y1 = cell.box
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": cell.adcode, "name": cell.name, "role": "district"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    collection = {
        "type": "FeatureCollection",
        "parkmon": {
            "city": PROVINCE_ADCODE,
            "source": "parkmon demo --carriers: a synthetic grid (演示数据 / demo data)",
            "river_neighbours": [],
        },
        "features": features,
    }
    (config_dir / "boundaries.geojson").write_text(
        json.dumps(collection, ensure_ascii=False), encoding="utf-8"
    )


def _copy_bundled(config_dir: Path) -> None:
    """The indicators, methodologies, schedule and settings as shipped; the plan's goals without
    their district split (the synthetic province has other districts) and without the rankings
    (which name real carriers)."""
    bundled = bundled_config_dir()
    shutil.copytree(bundled / "ratings", config_dir / "ratings")
    for name in ("indicators.toml", "schedule.toml", "parkmon.toml"):
        shutil.copy2(bundled / name, config_dir / name)
    plan = tomllib.loads((bundled / "goals.toml").read_text(encoding="utf-8"))
    lines = ["# The plan's goals (演示数据 / demo data: a synthetic province, not Nantong).", ""]
    lines += ["[defaults]", *(_toml_pairs(plan.get("defaults", {}))), ""]
    for goal in plan.get("goal", []):
        if goal.get("kind") == "ranking":
            continue
        kept = {k: v for k, v in goal.items() if k not in ("split", "split_source")}
        lines += ["[[goal]]", *_toml_pairs(kept), ""]
    (config_dir / "goals.toml").write_text("\n".join(lines), encoding="utf-8")


def _toml_pairs(table: dict[str, Any]) -> list[str]:
    """key = value lines of a flat table (texts, numbers, lists of texts, tables of numbers)."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    return [f"{key} = {value(v)}" for key, v in table.items()]


# --- carriers ------------------------------------------------------------------------------------


def _carriers(count: int, cells: list[Cell], rng: np.random.Generator) -> pd.DataFrame:
    kinds = np.array([k[0] for k in _KINDS], dtype=object)
    kind = kinds[rng.choice(len(_KINDS), size=count, p=[k[3] for k in _KINDS])]
    level = np.array([lv[0] for lv in _LEVELS], dtype=object)[
        rng.choice(len(_LEVELS), size=count, p=[lv[1] for lv in _LEVELS])
    ]
    where = rng.integers(0, len(cells), size=count)
    boxes = np.array([c.box for c in cells])[where]
    margin = 0.05
    u, v = rng.uniform(margin, 1 - margin, size=(2, count))
    lon = boxes[:, 0] + u * (boxes[:, 2] - boxes[:, 0])
    lat = boxes[:, 1] + v * (boxes[:, 3] - boxes[:, 1])
    opened = rng.integers(2005, LAST_YEAR, size=count)
    closes = rng.random(count) < 0.03
    closed = np.where(closes, np.minimum(LAST_YEAR, opened + rng.integers(3, 12, size=count)), 0)
    labels = {k[0]: k for k in _KINDS}
    ids = [f"DEMO-S{i + 1:06d}" for i in range(count)]
    return pd.DataFrame(
        {
            "id": ids,
            "name": [f"示例{labels[k][1]}-{i + 1:06d}（演示）" for i, k in enumerate(kind)],
            "name_en": [f"Demo {labels[k][2]} {i + 1:06d} (demo)" for i, k in enumerate(kind)],
            "kind": kind,
            "level": level,
            "district": [cells[w].adcode for w in where],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "opened": opened,
            "closed": closed,
            "quality": rng.normal(0.0, 1.0, size=count),
            "growth": rng.normal(0.05, 0.05, size=count),
        }
    )


def _write_registry(path: Path, parks: pd.DataFrame) -> None:
    note = f"{demo.DEMO_LABEL_ZH} / {demo.DEMO_LABEL_EN}"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REGISTRY_COLUMNS, restval="")
        writer.writeheader()
        for row in parks.itertuples(index=False):
            writer.writerow(
                {
                    "id": row.id,
                    "name": row.name,
                    "name_en": row.name_en,
                    "kind": row.kind,
                    "level": row.level,
                    "district": row.district,
                    "lon": f"{row.lon:.6f}",
                    "lat": f"{row.lat:.6f}",
                    "crs": "wgs84",
                    "location_quality": "approximate",
                    "opened": row.opened,
                    "closed": row.closed or "",
                    "note": note,
                }
            )


# --- figures -------------------------------------------------------------------------------------


def _chunks(parks: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(parks), CHUNK):
        yield parks.iloc[start : start + CHUNK]


def chunk_observations(
    chunk: pd.DataFrame, years: tuple[int, ...], seed: int, index: int
) -> pd.DataFrame:
    """The long observations of one chunk of carriers (its own random stream, seeded by the
    chunk's number: generating and loading can go chunk by chunk and agree)."""
    rng = np.random.default_rng([seed, index])
    carriers = chunk[chunk["kind"].isin(["incubator", "maker_space"])]
    ids = [str(i) for i in carriers["id"]]
    rows: list[dict[str, Any]] = [
        {
            "id": pid,
            "kind": kind,
            "level": level,
            "opened": int(opened),
            "closed": int(closed) or None,
        }
        for pid, kind, level, opened, closed in zip(
            ids,
            carriers["kind"],
            carriers["level"],
            carriers["opened"],
            carriers["closed"],
            strict=True,
        )
    ]
    latent = {
        pid: (float(q), float(g))
        for pid, q, g in zip(ids, carriers["quality"], carriers["growth"], strict=True)
    }
    frames = [demo.observations_of(rows, latent, years, rng)] if rows else []
    zones = chunk[~chunk["kind"].isin(["incubator", "maker_space"])]
    if len(zones):
        frames.append(
            demo.zone_observations(
                list(zip(zones["id"], zones["kind"], zones["level"], strict=True)),
                years,
                seed + index,
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _write_reports(
    config_dir: Path, parks: pd.DataFrame, years: tuple[int, ...], seed: int
) -> tuple[int, dict[str, set[str]]]:
    """One wide CSV per year and group (carriers, zones), written chunk by chunk; the number of
    figures and the indicators of each group."""
    names = {i["code"]: i["name_zh"] for i in load_indicators(config_dir)}
    written: set[Path] = set()
    codes: dict[str, set[str]] = {"carriers": set(), "zones": set()}
    total = 0
    for index, chunk in enumerate(_chunks(parks)):
        long = chunk_observations(chunk, years, seed, index)
        total += len(long)
        if long.empty:
            continue
        group = np.where(long["indicator"].str.startswith("zone_"), "zones", "carriers")
        for (name, period), part in long.groupby([group, long["period"]], sort=True):
            wide = part.pivot(index="subject_id", columns="indicator", values="value")
            wide = wide.reindex(columns=sorted(wide.columns))
            codes[str(name)].update(str(c) for c in wide.columns)
            wide.columns = [names[c] for c in wide.columns]
            wide.insert(0, "年份", str(period))
            wide.index.name = "载体编号"
            path = config_dir / "data" / f"{name}-{period}.csv"
            wide.to_csv(path, mode="a", header=path not in written, float_format="%.6g")
            written.add(path)
    return total, codes


def _write_sources(config_dir: Path, carriers: int, codes: dict[str, set[str]]) -> None:
    names = {i["code"]: i["name_zh"] for i in load_indicators(config_dir)}
    rows = max(10_000, carriers + 1_000)
    lines = [
        "# The scale demo's annual reports (演示数据 / demo data), one wide CSV per year.",
        "",
    ]
    for source, prefix in (("scale-carriers", "carriers"), ("scale-zones", "zones")):
        lines += [
            "[[source]]",
            f'id = "{source}"',
            'collector = "file"',
            f'location = "data/{prefix}-*.csv"',
            'description = "演示数据 / demo data"',
            "demo = true",
            'subject = { column = "载体编号", match = "id" }',
            'period_column = "年份"',
            f"max_rows = {rows}",
            f"max_cells = {rows * 40}",
            "[source.columns]",
        ]
        lines += [f'"{names[code]}" = "{code}"' for code in sorted(codes[prefix])]
        lines.append("")
    (config_dir / "sources.toml").write_text("\n".join(lines), encoding="utf-8")


def load_scale_demo(
    database: Path,
    config_dir: Path,
    parks: pd.DataFrame,
    years: tuple[int, ...],
    seed: int,
) -> None:
    """A fresh database: the registry from the config folder, the figures chunk by chunk."""
    engine = fresh_database(database)
    try:
        initialise(engine, config_dir)
        with engine.begin() as conn:
            set_meta(conn, "contains_demo_data", "true")
        run_id = start_demo_run(engine, f"seed={seed}, carriers={len(parks)}")
        written = 0
        for index, chunk in enumerate(_chunks(parks)):
            long = chunk_observations(chunk, years, seed, index)
            if long.empty:
                continue
            result = store.upsert_observations(
                engine, long, source_id=demo.DEMO_SOURCE, run_id=run_id
            )
            written += result.written
        store.finish_run(
            engine,
            run_id,
            status=models.RunStatus.ok,
            counts={
                "read": written,
                "accepted": written,
                "unchanged": 0,
                "revised": 0,
                "rejected": 0,
            },
        )
    finally:
        engine.dispose()
