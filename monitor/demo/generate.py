"""Deterministic demo data: synthetic incubators and maker spaces with yearly Torch-style values.

Everything generated here is demo data and says so: ids start with ``DEMO-``, names end with
（演示）, ``Park.is_demo`` is set, the source is flagged ``is_demo`` and the database records
``contains_demo_data``. The real belt members come from the registry, never from here.

Shape (FACTS.md): 67 incubators and 70 maker spaces in 2020, growing through 2025, some promoted
to provincial or national level in given years, a few closing; 80 %+ sit near the river districts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.place import sample_points
from monitor import models
from monitor.demo.labels import DEMO_LABEL_EN, DEMO_LABEL_ZH, DEMO_SEED, DEMO_SOURCE
from monitor.registry import City

__all__ = [
    "DEMO_LABEL_EN",
    "DEMO_LABEL_ZH",
    "DEMO_SEED",
    "DEMO_SOURCE",
    "PLANS",
    "DemoData",
    "KindPlan",
    "Placement",
    "generate_demo",
    "observations_of",
    "zone_observations",
]

# Per district adcode: (the district's polygon, the part of it inside the belt), WGS-84.
Placement = Mapping[str, tuple[BaseGeometry, BaseGeometry]]


# Share of carriers per district (by adcode); weights, not facts.
_DISTRICT_WEIGHTS = {
    "320613": 0.30,
    "320612": 0.14,
    "320614": 0.12,
    "320623": 0.09,
    "320681": 0.10,
    "320682": 0.12,
    "320685": 0.13,
}


@dataclass(frozen=True)
class KindPlan:
    kind: str
    prefix: str
    label_zh: str
    label_en: str
    count_2020: int
    new_per_year: tuple[int, ...]
    closures: int
    national_2020: int
    provincial_2020: int
    promotions_per_year: tuple[int, ...]


PLANS = (
    KindPlan(
        "incubator",
        "I",
        "示例孵化器",
        "Demo incubator",
        67,
        (4, 5, 5, 6, 5),
        3,
        8,
        22,
        (2, 3, 3, 3, 3),
    ),
    KindPlan(
        "maker_space",
        "M",
        "示例众创空间",
        "Demo maker space",
        70,
        (6, 6, 7, 6, 7),
        5,
        10,
        25,
        (2, 2, 3, 3, 3),
    ),
)


@dataclass(frozen=True)
class DemoData:
    parks: list[dict[str, Any]]
    recognitions: list[dict[str, Any]]
    observations: pd.DataFrame
    years: tuple[int, ...]


def _weights(city: City) -> np.ndarray:
    w = np.array([_DISTRICT_WEIGHTS.get(d.adcode, 1.0) for d in city.districts], dtype=float)
    normalised: np.ndarray = w / w.sum()
    return normalised


# The 2021 announcement: the belt holds 80 %+ of the city's incubators and maker spaces.
SHARE_IN_BELT = 0.85
# Share of demo carriers known only by their district (drawn at the seat, marked approximate).
SHARE_DISTRICT_ONLY = 0.1


def generate_demo(
    city: City, seed: int = DEMO_SEED, placement: Placement | None = None
) -> DemoData:
    """Generate the demo carriers, their recognitions and yearly observations (pure, seeded).

    With ``placement`` the carriers get points inside their district's real polygon, most of them
    inside the belt; without it they scatter round the district seat.
    """
    rng = np.random.default_rng(seed)
    years = tuple(range(city.baseline_year, city.plan_end + 1))
    parks: list[dict[str, Any]] = []
    recognitions: list[dict[str, Any]] = []
    latent: dict[str, tuple[float, float]] = {}
    for plan in PLANS:
        _carriers(plan, city, placement, rng, parks, recognitions, latent)
        by_kind = [p for p in parks if p["kind"] == plan.kind]
        _promotions(plan, by_kind, latent, city.baseline_year, recognitions)
    observations = observations_of(parks, latent, years, rng)
    return DemoData(parks, recognitions, observations, years)


def _carriers(
    plan: KindPlan,
    city: City,
    placement: Placement | None,
    rng: np.random.Generator,
    parks: list[dict[str, Any]],
    recognitions: list[dict[str, Any]],
    latent: dict[str, tuple[float, float]],
) -> None:
    """The carriers of one kind as of 2020 and those opened during the plan, with their levels,
    closures, places and hidden quality and growth (which the yearly figures follow)."""
    first, last = city.baseline_year, city.plan_end
    total = plan.count_2020 + sum(plan.new_per_year)
    opened = np.concatenate(
        [
            rng.integers(2008, first + 1, size=plan.count_2020),
            np.repeat(np.arange(first + 1, first + 1 + len(plan.new_per_year)), plan.new_per_year),
        ]
    )
    district_idx = rng.choice(len(city.districts), size=total, p=_weights(city))
    levels = np.array(["municipal"] * total, dtype=object)
    order = rng.permutation(plan.count_2020)
    levels[order[: plan.national_2020]] = "national"
    levels[order[plan.national_2020 : plan.national_2020 + plan.provincial_2020]] = "provincial"
    closed: list[int | None] = [None] * total
    for i in rng.choice(plan.count_2020, size=plan.closures, replace=False):
        closed[int(i)] = int(rng.integers(first + 1, last + 1))
    quality = rng.normal(0.0, 1.0, size=total)
    growth = rng.normal(0.05, 0.05, size=total)
    for i in range(total):
        pid = f"DEMO-{plan.prefix}{i + 1:03d}"
        district = city.districts[int(district_idx[i])]
        lon, lat, loc_quality = _place(district.adcode, district.seat, placement, rng)
        parks.append(
            {
                "id": pid,
                "name": f"{plan.label_zh}-{i + 1:02d}（演示）",
                "name_en": f"{plan.label_en} {i + 1:02d} (demo)",
                "aliases": "",
                "credit_code": None,
                "kind": plan.kind,
                "level": levels[i],
                "district_id": district.adcode,
                "belt_role": "none",
                "leading_industries": "",
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "location_crs": "wgs84",
                "location_quality": loc_quality,
                "opened": int(opened[i]),
                "closed": closed[i],
                "is_demo": True,
                "note": f"{DEMO_LABEL_ZH} / {DEMO_LABEL_EN}",
                "origin": DEMO_SOURCE,
            }
        )
        latent[pid] = (float(quality[i]), float(growth[i]))
        if levels[i] != "municipal":
            since = int(rng.integers(int(opened[i]) + 1, first + 1) if opened[i] < first else first)
            recognitions.append(_recognition(pid, "provincial", since))
            if levels[i] == "national":
                recognitions.append(_recognition(pid, "national", first))


def _promotions(
    plan: KindPlan,
    by_kind: list[dict[str, Any]],
    latent: dict[str, tuple[float, float]],
    first: int,
    recognitions: list[dict[str, Any]],
) -> None:
    """Promotions during the plan, the best first: municipal → provincial each year, and in
    years 3 and 5 the best established provincial carrier → national."""
    for offset, count in enumerate(plan.promotions_per_year):
        year = first + 1 + offset
        eligible = [
            p
            for p in by_kind
            if p["level"] == "municipal"
            and p["opened"] < year
            and (p["closed"] is None or p["closed"] > year)
        ]
        eligible.sort(key=lambda p: -latent[p["id"]][0])
        for p in eligible[: count + 2][:count]:
            p["level"] = "provincial"
            recognitions.append(_recognition(p["id"], "provincial", year))
        if offset in (2, 4):
            upgrades = [
                p
                for p in by_kind
                if p["level"] == "provincial" and p["closed"] is None and p["opened"] < year - 3
            ]
            upgrades.sort(key=lambda p: -latent[p["id"]][0])
            if upgrades:
                upgrades[0]["level"] = "national"
                recognitions.append(_recognition(upgrades[0]["id"], "national", year))


def _place(
    adcode: str, seat: tuple[float, float], placement: Placement | None, rng: np.random.Generator
) -> tuple[float, float, str]:
    if placement is None or adcode not in placement:
        lon = seat[0] + float(rng.normal(0, 0.035))
        lat = seat[1] + float(rng.normal(0, 0.03))
        return round(lon, 6), round(lat, 6), models.LocationQuality.approximate.value
    if rng.random() < SHARE_DISTRICT_ONLY:
        return seat[0], seat[1], models.LocationQuality.approximate.value
    district, belt = placement[adcode]
    area = belt if (not belt.is_empty and rng.random() < SHARE_IN_BELT) else district
    point = sample_points(area, 1, rng)[0]
    # A random point inside the right polygon is not a surveyed location: never claim 实测.
    return (
        round(float(point[0]), 6),
        round(float(point[1]), 6),
        models.LocationQuality.approximate.value,
    )


ZONE_KINDS = ("high_tech_zone", "innovation_zone", "development_zone", "industrial_park")


def zone_observations(
    zones: list[tuple[str, str, str]], years: tuple[int, ...], seed: int = DEMO_SEED
) -> pd.DataFrame:
    """Demo values of the zone indicators (the plan's five dimensions) for the registry's zones
    and parks (id, kind, level). A separate random stream, so the carriers' data do not move."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for pid, kind, level in zones:
        if kind not in ZONE_KINDS:
            continue
        size = {"national": 2.2, "provincial": 1.0, "municipal": 0.7}.get(level, 1.0) * float(
            rng.lognormal(0, 0.3)
        )
        trend = float(rng.normal(0.06, 0.05))
        for t, year in enumerate(years):
            g = (1 + trend) ** t
            values = {
                "zone_st_budget_share": np.clip(rng.normal(4.5, 1.2) + 0.2 * t, 0.5, 15),
                "zone_hightech_firms": round(120 * size * g * rng.lognormal(0, 0.08)),
                "zone_hightech_share": np.clip(rng.normal(30, 8) * size**0.2 + 1.2 * t, 5, 90),
                "zone_rd_intensity": np.clip(rng.normal(2.8, 0.6) * size**0.2 + 0.05 * t, 0.3, 8),
                "zone_high_level_talents": round(60 * size * g * rng.lognormal(0, 0.1)),
                "zone_rd_platforms": round(12 * size * g * rng.lognormal(0, 0.1)),
                "zone_incubators": round(6 * size * g * rng.lognormal(0, 0.1)),
                "zone_hightech_output_share": np.clip(rng.normal(45, 8) + 0.6 * t, 5, 95),
                "zone_revenue": round(300 * size * g * rng.lognormal(0, 0.1), 1),
                "zone_tech_contracts": round(8 * size * g * rng.lognormal(0, 0.2), 2),
            }
            for code, value in values.items():
                rows.append(
                    (
                        models.SubjectType.park.value,
                        pid,
                        code,
                        str(year),
                        float(round(float(value), 2)),
                    )
                )
    frame = pd.DataFrame(
        rows, columns=["subject_type", "subject_id", "indicator", "period", "value"]
    )
    frame["raw_value"] = frame["value"].map(lambda v: f"{v:g}")
    frame["raw_unit"] = ""
    return frame


def _recognition(park_id: str, level: str, year: int) -> dict[str, Any]:
    return {
        "park_id": park_id,
        "level": level,
        "year": year,
        "issuer": "江苏省科学技术厅（演示）" if level == "provincial" else "科学技术部（演示）",
        "source": DEMO_SOURCE,
        "is_demo": True,
    }


def observations_of(
    parks: list[dict[str, Any]],
    latent: dict[str, tuple[float, float]],
    years: tuple[int, ...],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Yearly figures of incubators and maker spaces (id, kind, level, opened, closed), following
    each one's hidden quality and growth (``latent``), in long form."""
    rows = [
        (p["id"], p["kind"], p["level"], y)
        for p in parks
        for y in years
        if p["opened"] <= y and (p["closed"] is None or y < p["closed"])
    ]
    f = pd.DataFrame(rows, columns=["subject_id", "kind", "level", "year"])
    q = f["subject_id"].map(lambda s: latent[s][0]).to_numpy()
    g = f["subject_id"].map(lambda s: latent[s][1]).to_numpy()
    t = (f["year"] - years[0]).to_numpy()
    n = len(f)
    incubator = (f["kind"] == "incubator").to_numpy()
    level_boost = f["level"].map({"national": 0.5, "provincial": 0.25, "municipal": 0.0}).to_numpy()
    size = np.exp(0.45 * q + level_boost) * (1.0 + g) ** t

    def noise(sd: float) -> np.ndarray:
        result: np.ndarray = rng.lognormal(0.0, sd, size=n)
        return result

    area = np.where(incubator, 9000.0, 1200.0) * size * noise(0.25)
    incubatees = np.maximum(1, np.round(area / np.where(incubator, 260.0, 60.0) * noise(0.2)))
    values: dict[str, np.ndarray] = {
        "incubation_area": np.round(area, 0),
        "incubatees": incubatees,
        "new_incubatees": np.minimum(incubatees, rng.poisson(incubatees * 0.25)),
        "incubatee_employees": np.round(incubatees * rng.uniform(5.0, 14.0, size=n)),
        "incubatee_revenue": np.round(
            incubatees * np.where(incubator, 3200.0, 700.0) * np.exp(0.3 * q) * noise(0.35), 1
        ),
        "financed_incubatees": rng.binomial(
            incubatees.astype(int), np.clip(0.12 + 0.05 * q, 0.01, 0.6)
        ).astype(float),
        "incubation_fund": np.round(np.where(incubator, 6000.0, 1500.0) * size * noise(0.5), 1),
        "ip_granted": rng.poisson(incubatees * 0.6 * np.exp(0.2 * q)).astype(float),
        "new_hightech_firms": rng.poisson(
            incubatees * np.where(incubator, 0.05, 0.02) * np.exp(0.4 * q)
        ).astype(float),
        "mentors": (rng.poisson(6.0 * size) + 3).astype(float),
        "service_staff": (rng.poisson(5.0 * size) + 3).astype(float),
        "events": (rng.poisson(np.where(incubator, 16.0, 22.0) * size) + 6).astype(float),
        "carrier_revenue": np.round(area * np.where(incubator, 0.45, 0.3) * noise(0.4), 1),
        "safety_incident": np.zeros(n),
        "falsified_statistics": np.zeros(n),
    }
    values["incubatee_rd_spending"] = np.round(
        values["incubatee_revenue"] * rng.uniform(0.03, 0.11, size=n), 1
    )
    values["financing_total"] = np.round(values["financed_incubatees"] * 2800.0 * noise(0.6), 1)
    values["invention_patents"] = rng.binomial(values["ip_granted"].astype(int), 0.2).astype(float)
    values["carrier_service_revenue"] = np.round(
        values["carrier_revenue"] * rng.uniform(0.2, 0.5, size=n), 1
    )
    grad_rate = np.clip(0.07 + 0.03 * q, 0.0, 0.3)
    values["graduated_this_year"] = np.where(
        incubator, rng.binomial(incubatees.astype(int), grad_rate), np.nan
    )
    values["workstations"] = np.where(incubator, np.nan, np.round(area / 6.0))
    values["startup_teams"] = np.where(incubator, np.nan, np.round(incubatees * 0.8 * noise(0.2)))
    # Two veto cases so the rating's 一票否决 shows up in the demo.
    if n:
        values["safety_incident"][int(rng.integers(n))] = 1.0
        values["falsified_statistics"][int(rng.integers(n))] = 1.0
    wide = f[["subject_id", "year"]].assign(**values)
    # Cumulative graduations: a stock from before 2020 plus this year's flow.
    base = np.where(incubator, rng.poisson(12 * np.exp(0.3 * q)), np.nan)
    wide["graduated_cumulative"] = (
        wide.assign(_g=wide["graduated_this_year"]).groupby("subject_id")["_g"].cumsum() + base
    )
    long = wide.melt(id_vars=["subject_id", "year"], var_name="indicator", value_name="value")
    long = long.dropna(subset=["value"])
    # About 2 % of figures not reported (missing, never zero) to exercise completeness rules.
    long = long.loc[rng.random(len(long)) >= 0.02]
    long = long.assign(
        subject_type=models.SubjectType.park.value,
        period=long["year"].astype(str),
        raw_value=long["value"].map(lambda v: f"{v:g}"),
        raw_unit="",
    )
    return long[
        ["subject_type", "subject_id", "indicator", "period", "value", "raw_value", "raw_unit"]
    ].reset_index(drop=True)
