"""Evaluation: the figures of a year in, ratings out (stars of carriers, capability of zones
and districts), with the Torch logic checks applied first.

``score_year`` reads and computes; ``rate_year`` also stores the result (per subject, year and
methodology content hash). Outputs read stored ratings through ``monitor.views``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from monitor import logic_checks, models, store
from monitor.rating import Methodology, RatingResult, RatingRun, load_methodologies, score

__all__ = ["rate_year", "rating_inputs", "rating_rows", "score_year"]


def rating_inputs(
    engine: Engine, meth: Methodology, year: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Wide values (subject × indicator) of one year (None: every year, indexed by subject and
    period), the subjects' peer attributes, and their names."""
    if meth.subject == "region":
        regions = store.regions_frame(engine, levels=[meth.level or "district"])
        subjects = pd.DataFrame(
            {
                "id": regions["id"],
                "kind": regions["level"],
                "district_id": regions["id"],
                "name": regions["name"],
            }
        )
    else:
        parks = pd.DataFrame(store.parks_frame(engine, kinds=list(meth.kinds) or None))
        if year is not None:
            open_then = (parks["opened"].isna() | (parks["opened"] <= year)) & (
                parks["closed"].isna() | (parks["closed"] > year)
            )
            parks = parks[open_then]
        subjects = parks[["id", "kind", "level", "district_id", "name"]]
    obs = store.observations_frame(
        engine,
        indicators=list(meth.indicators),
        subject_type=meth.subject,
        periods=None if year is None else [str(year)],
    )
    obs = obs[obs["subject_id"].isin(subjects["id"])]
    index = ["subject_id"] if year is not None else ["subject_id", "period"]
    wide = obs.pivot_table(index=index, columns="indicator", values="value", aggfunc="last")
    if year is not None:
        wide = wide.reindex(subjects["id"].tolist())
    wide = wide.reindex(columns=list(meth.indicators))
    peers = subjects.set_index("id")
    return wide, peers, dict(zip(subjects["id"], subjects["name"], strict=True))


def rate_year(
    engine: Engine, config_dir: Path, year: int, kinds: Sequence[str] | None = None
) -> list[RatingRun]:
    """Rate every carrier (and district) of ``year`` under each methodology and store the result.

    Stored per subject, year and methodology content hash: re-running with the same data and
    methodology rewrites identical rows; a changed methodology adds rows under its new hash.
    """
    runs = score_year(engine, config_dir, year, kinds)
    for run in runs:
        peers = run.peers
        kinds_of = peers["kind"].astype(str).to_dict() if "kind" in peers else {}
        store.upsert_ratings(engine, rating_rows(run.result, year, kinds_of))
    return runs


def score_year(
    engine: Engine, config_dir: Path, year: int, kinds: Sequence[str] | None = None
) -> list[RatingRun]:
    """Score ``year`` under each methodology from the stored figures; reads only, stores nothing."""
    runs = []
    for meth in load_methodologies(config_dir):
        if kinds and not (set(kinds) & set(meth.kinds or (meth.level or meth.subject,))):
            continue
        values, peers, names = rating_inputs(engine, meth, year)
        if values.empty or not values.notna().to_numpy().any():  # no figures that year
            continue
        history = None
        if meth.type == "composite":
            history, _, _ = rating_inputs(engine, meth, None)
        held = {} if meth.type == "composite" else _held(engine, values.index, year)
        result = score(values, meth, peers=peers, history=history, held=held)
        runs.append(RatingRun(meth, year, result, values, peers, names, held))
    return runs


def _held(engine: Engine, subjects: pd.Index, year: int) -> dict[str, str]:
    """Carriers whose figures of the year (from any source) break a Torch logic check."""
    codes = sorted({c for r in logic_checks.RULES for c in (r.left, r.right)})
    obs = store.observations_frame(engine, indicators=codes, periods=[str(year)])
    obs = obs[obs["subject_id"].isin(subjects)]
    if obs.empty:
        return {}
    wide = obs.pivot_table(index="subject_id", columns="indicator", values="value", aggfunc="last")
    names = {r["code"]: r["name_zh"] for r in store.indicator_rows(engine)}
    return logic_checks.held_for_review(wide, names)


def rating_rows(
    result: RatingResult, year: int, kinds_of: dict[Any, str] | None = None
) -> list[dict[str, Any]]:
    meth = result.methodology
    content_hash = meth.content_hash  # a property that hashes the whole methodology: once
    rows = []
    points = result.points.to_dict("index")
    inputs = result.inputs.to_dict("index")
    for subject, row in result.table.iterrows():
        items = {
            str(k): (None if pd.isna(v) else round(float(v), 4)) for k, v in points[subject].items()
        }
        reported = {str(k) for k, v in inputs[subject].items() if not pd.isna(v)}
        breakdown = {
            "groups": {
                g.id: round(float(row[f"g_{g.id}"]), 4) if not pd.isna(row[f"g_{g.id}"]) else None
                for g in meth.groups
            },
            "items": items,
            "bonus": round(float(row["bonus"]), 4),
            "completeness": round(float(row["completeness"]), 4),
            "missing": [k for k, v in items.items() if v is None and k not in reported],
            "not_comparable": [k for k, v in items.items() if v is None and k in reported],
            "missing_treatment": result.missing_treatment,
            "review": str(row.get("review", "") or ""),
        }
        rows.append(
            {
                "subject_type": meth.subject,
                "park_id": str(subject),
                "year": year,
                "kind": (kinds_of or {}).get(subject) or meth.level or meth.subject,
                "methodology": meth.name,
                "methodology_version": meth.version,
                "methodology_hash": content_hash,
                "score": None if pd.isna(row["score"]) else round(float(row["score"]), 4),
                "stars": None if pd.isna(row["stars"]) else int(row["stars"]),
                "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
                "peer_size": None if pd.isna(row["peer_size"]) else int(row["peer_size"]),
                "status": str(row["status"]),
                "breakdown": json.dumps(breakdown, ensure_ascii=False, sort_keys=True),
                "computed_at": models.utcnow(),
            }
        )
    return rows
