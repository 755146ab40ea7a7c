"""The read side: what the CLI, the static site, the reports and the web app show, read from
the store. Views never write.

A report shows the ratings as they were stored by ``parkmon rate`` (the published figures), not
a fresh scoring: when the figures behind a rating changed after it was stored, the view says
which subjects changed, and the report asks for ``parkmon rate YEAR``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from monitor import store
from monitor.errors import ConfigError
from monitor.evaluation import score_year
from monitor.rating import Methodology, RatingRun

__all__ = ["stored_rating_runs", "stored_table"]


def stored_rating_runs(
    engine: Engine, config_dir: Path, year: int, kinds: Sequence[str] | None = None
) -> list[RatingRun]:
    """The stored ratings of ``year``, one run per methodology that has any, with the figures
    they were computed from (for explanations and stability). Raises ConfigError when nothing
    of that year was rated: the reader is told to run ``parkmon rate YEAR``."""
    runs = []
    for run in score_year(engine, config_dir, year, kinds):
        rows = store.ratings_frame(engine, year, run.methodology.content_hash)
        if rows.empty:
            continue
        table = stored_table(rows, run.methodology)
        table["peer"] = run.result.table["peer"].reindex(table.index).to_numpy()  # kind|level
        changed = _changed(table, run.result.table)
        runs.append(
            dataclasses.replace(
                run,
                result=dataclasses.replace(run.result, table=table),
                changed=tuple(changed),
            )
        )
    if not runs:
        raise ConfigError(
            f"no stored ratings for {year} under the current methodologies: run "
            f"`parkmon rate {year}` first"
        )
    return runs


def stored_table(rows: pd.DataFrame, meth: Methodology) -> pd.DataFrame:
    """Stored rating rows as the engine's table: score, stars, rank, peer size, status, group
    points, bonus, completeness and review, indexed by subject."""
    breakdown = [json.loads(b) if b else {} for b in rows["breakdown"]]
    table = pd.DataFrame(index=pd.Index(rows["park_id"].astype(str), name=None))
    for column in ("score", "stars", "rank", "peer_size"):
        table[column] = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    table["status"] = rows["status"].astype(str).to_numpy()
    for group in meth.groups:
        table[f"g_{group.id}"] = [_number(b.get("groups", {}).get(group.id)) for b in breakdown]
    table["bonus"] = [_number(b.get("bonus"), 0.0) for b in breakdown]
    table["completeness"] = [_number(b.get("completeness")) for b in breakdown]
    table["review"] = [str(b.get("review", "") or "") for b in breakdown]
    return table


def _number(value: object, default: float = math.nan) -> float:
    if value is None:
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _changed(stored: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """Subjects whose score or status today differs from the stored one (or who appeared or
    disappeared since)."""
    both = stored.index.intersection(current.index)
    a = stored.loc[both, "score"].to_numpy(dtype=float)
    b = current.loc[both, "score"].to_numpy(dtype=float)
    same = np.isclose(a, b, atol=1e-4, equal_nan=True)
    same &= stored.loc[both, "status"].to_numpy() == current.loc[both, "status"].to_numpy()
    differ = set(both[~same]) | set(stored.index.symmetric_difference(current.index))
    return sorted(str(s) for s in differ)
