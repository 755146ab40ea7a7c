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
    engine: Engine, meth: Methodology, year: int | None, observations: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Wide values (subject × indicator) of one year (None: every year, indexed by subject and
    period), the subjects' peer attributes, and their names. ``observations``: the year's
    figures already read (``year_observations``), to read them once for every methodology."""
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
        parks = store.park_table(engine, kinds=list(meth.kinds) or None)
        if year is not None:
            open_then = (parks["opened"].isna() | (parks["opened"] <= year)) & (
                parks["closed"].isna() | (parks["closed"] > year)
            )
            parks = parks[open_then]
        subjects = parks[["id", "kind", "level", "district_id", "name"]]
    if observations is None:
        obs = store.observations_frame(
            engine,
            indicators=list(meth.indicators),
            subject_type=meth.subject,
            periods=None if year is None else [str(year)],
            columns=(),
        )
    else:
        obs = observations[
            (observations["subject_type"] == meth.subject)
            & observations["indicator"].isin(meth.indicators)
        ]
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
    meths = [
        m
        for m in load_methodologies(config_dir)
        if not kinds or set(kinds) & set(m.kinds or (m.level or m.subject,))
    ]
    observations = year_observations(engine, meths, year)
    for meth in meths:
        values, peers, names = rating_inputs(engine, meth, year, observations)
        if values.empty or not values.notna().to_numpy().any():  # no figures that year
            continue
        history = None
        if meth.type == "composite":
            history, _, _ = rating_inputs(engine, meth, None)
        held = {} if meth.type == "composite" else _held(engine, values.index, observations)
        result = score(values, meth, peers=peers, history=history, held=held)
        runs.append(RatingRun(meth, year, result, values, peers, names, held))
    return runs


LOGIC_CODES = sorted({c for r in logic_checks.RULES for c in (r.left, r.right)})


def year_observations(engine: Engine, meths: Sequence[Methodology], year: int) -> pd.DataFrame:
    """The current figures of ``year`` that the methodologies and the logic checks read, in one
    query (at scale the read is most of a rating's time)."""
    codes = sorted({c for m in meths for c in m.indicators} | set(LOGIC_CODES))
    return store.observations_frame(engine, indicators=codes, periods=[str(year)], columns=())


def _held(engine: Engine, subjects: pd.Index, observations: pd.DataFrame) -> dict[str, str]:
    """Carriers whose figures of the year (from any source) break a Torch logic check."""
    obs = observations[
        observations["indicator"].isin(LOGIC_CODES) & observations["subject_id"].isin(subjects)
    ]
    if obs.empty:
        return {}
    wide = obs.pivot_table(index="subject_id", columns="indicator", values="value", aggfunc="last")
    names = {r["code"]: r["name_zh"] for r in store.indicator_rows(engine)}
    return logic_checks.held_for_review(wide, names)


def rating_rows(
    result: RatingResult, year: int, kinds_of: dict[Any, str] | None = None
) -> list[dict[str, Any]]:
    """The rows to store: one per subject, with its breakdown as JSON."""
    meth = result.methodology
    content_hash = meth.content_hash  # a property that hashes the whole methodology: once
    computed_at = models.utcnow()
    kinds_of = kinds_of or {}
    rows = []
    points = result.points.to_dict("index")
    reported_of = result.inputs.notna().to_dict("index")
    table = result.table
    records = table.to_dict("records")
    for subject, row in zip(table.index, records, strict=True):
        # Python's round, value by value: numpy's rounds some halves the other way, and the
        # stored breakdown must not change with the code that writes it
        items = {str(k): _rounded(v) for k, v in points[subject].items()}
        reported = {str(k) for k, v in reported_of[subject].items() if v}
        breakdown = {
            "groups": {g.id: _rounded(row[f"g_{g.id}"]) for g in meth.groups},
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
                "subject_id": str(subject),
                "year": year,
                "kind": kinds_of.get(subject) or meth.level or meth.subject,
                "methodology": meth.name,
                "methodology_version": meth.version,
                "methodology_hash": content_hash,
                "score": _rounded(row["score"]),
                "stars": _whole(row["stars"]),
                "rank": _whole(row["rank"]),
                "peer_size": _whole(row["peer_size"]),
                "status": str(row["status"]),
                "breakdown": json.dumps(breakdown, ensure_ascii=False, sort_keys=True),
                "computed_at": computed_at,
            }
        )
    return rows


def _rounded(value: Any) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _whole(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)
