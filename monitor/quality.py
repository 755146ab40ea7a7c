"""How good are the figures? A score per source and per carrier, so the bureau knows whom to call.

Per **source**, over all its collection runs:

- *reliability*: the share of runs that ended ``ok`` or ``partial`` (not failed or interrupted);
- *validity*: one minus the share of the rows read that were rejected (quarantined);
- *stability*: one minus the share of the values stored (new, revised or unchanged) that
  revised an earlier value;
- *score* = 100 × the mean of the three.

Per **carrier** (incubators and maker spaces) for a year:

- *completeness*: the share of the indicators its kind reports (``indicator.kinds``) present;
- *timeliness*: days its latest portal filing for that year came after the round's deadline
  (0 on time; none when it did not file through the portal);
- *stability*: figures of the year revised after first being stored, among its figures;
- *score* = 100 × (0.6 completeness + 0.2 on time + 0.2 unrevised).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, store
from monitor.i18n import t
from monitor.tables import table_of

STARRED = ("incubator", "maker_space")


def source_quality(engine: Engine) -> pd.DataFrame:
    """One row per source, worst score first."""
    run = table_of(models.CollectionRun)
    good = sa.case((run.c.status.in_(["ok", "partial"]), 1), else_=0)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                run.c.source_id,
                sa.func.count().label("runs"),
                sa.func.sum(good).label("good_runs"),
                sa.func.sum(run.c.rows_read).label("read"),
                sa.func.sum(run.c.rows_rejected).label("rejected"),
                sa.func.sum(run.c.rows_accepted + run.c.rows_unchanged + run.c.rows_revised).label(
                    "stored"
                ),
                sa.func.sum(run.c.rows_revised).label("revised"),
            ).group_by(run.c.source_id)
        ).all()
    columns = ["source", "runs", "reliability", "validity", "stability", "score"]
    out = []
    for r in rows:
        read, rejected = int(r.read or 0), int(r.rejected or 0)
        stored, revised = int(r.stored or 0), int(r.revised or 0)
        reliability = int(r.good_runs or 0) / int(r.runs)
        validity = 1 - min(rejected, read) / read if read else 1.0
        stability = 1 - revised / stored if stored else 1.0
        score = 100 * (reliability + validity + stability) / 3
        out.append([str(r.source_id), int(r.runs), reliability, validity, stability, score])
    frame = pd.DataFrame(out, columns=columns)
    return frame.sort_values(["score", "source"]).reset_index(drop=True)


def carrier_quality(
    engine: Engine, year: int, subjects: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per incubator and maker space for ``year`` (``subjects``: only those), worst
    score first."""
    parks = store.park_table(
        engine,
        columns=["name", "kind", "district_id", "opened", "closed"],
        ids=None if subjects is None else list(subjects),
    )
    parks = parks[parks["kind"].isin(STARRED)]
    # only the carriers open that year: a closed one is not asked for figures
    open_then = (parks["opened"].isna() | (parks["opened"] <= year)) & (
        parks["closed"].isna() | (parks["closed"] > year)
    )
    parks = parks[open_then]
    asked = {
        kind: {
            str(r["code"])
            for r in store.indicator_rows(engine)
            if r["scope"] == "park" and kind in str(r["kinds"]).split("|")
        }
        for kind in STARRED
    }
    figures = store.observations_frame(
        engine,
        subject_type="park",
        subjects=None if subjects is None else list(subjects),
        periods=[str(year)],
        history=True,
        columns=(),
    )
    figures = figures[figures["subject_id"].isin(set(parks["id"]))]
    present = {str(s): set(p["indicator"]) for s, p in figures.groupby("subject_id")}
    revised = figures[figures["revision"] > 1].groupby("subject_id")["indicator"].nunique()
    facts = figures.groupby("subject_id")["indicator"].nunique()
    late = days_late(engine, year)
    out = []
    for pid, name, kind, district in zip(
        parks["id"], parks["name"], parks["kind"], parks["district_id"], strict=True
    ):
        wanted = asked.get(str(kind), set())
        have = present.get(pid, set()) & wanted
        completeness = len(have) / len(wanted) if wanted else 1.0
        days = late.get(pid)
        changed = int(revised.get(pid, 0))
        stability = 1 - changed / int(facts[pid]) if pid in facts.index else 1.0
        on_time = 1.0 if days is None or days <= 0 else 0.0
        score = 100 * (0.6 * completeness + 0.2 * on_time + 0.2 * stability)
        out.append([pid, name, kind, district, completeness, days, changed, score])
    columns = ["id", "name", "kind", "district_id", "completeness", "days_late", "revised", "score"]
    return pd.DataFrame(out, columns=columns).sort_values(["score", "id"]).reset_index(drop=True)


def days_late(engine: Engine, year: int) -> dict[str, int]:
    """Per carrier, days its latest submitted portal filing for ``year`` came after the
    round's deadline (negative: early)."""
    sub, rnd = table_of(models.Submission), table_of(models.ReportRound)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(sub.c.park_id, sub.c.submitted_at, rnd.c.deadline)
            .select_from(sub.join(rnd, rnd.c.id == sub.c.round_id))
            .where(rnd.c.period == str(year), sub.c.submitted_at.is_not(None))
            .order_by(sub.c.id)
        ).all()
    return {str(r.park_id): (r.submitted_at.date() - r.deadline).days for r in rows}


def goal_basis(progress: Any, reference_year: int | None) -> list[tuple[str, dict[str, Any]]]:
    """What a goal's status rests on, as (label key, parameters): a figure older than the
    latest year collected (``stale``), a rank known only as a bound (``censored``: "outside the
    top N", an estimate), a district share that is illustrative, or no figures at all. Empty:
    the status rests on a figure of the latest year."""
    out: list[tuple[str, dict[str, Any]]] = []
    if progress.latest is None and not progress.numbers.get("censored_latest"):
        return [("basis.none", {})]
    year = progress.latest_year
    if reference_year is not None and year is not None and year < reference_year:
        out.append(("basis.stale", {"year": year, "missing": reference_year}))
    if progress.numbers.get("censored_latest"):
        out.append(("basis.censored", {}))
    if progress.illustrative:
        out.append(("basis.illustrative", {}))
    return out


def goal_basis_text(progress: Any, reference_year: int | None, lang: str = "zh") -> str:
    """``goal_basis`` as one line in ``lang`` ("latest year's figure" when nothing to say)."""
    sep = "；" if lang == "zh" else "; "
    found = goal_basis(progress, reference_year)
    return sep.join(t(k, lang, **kw) for k, kw in found) or t("basis.current", lang)


def latest_year(engine: Engine) -> int | None:
    """The latest year any figure was collected for (the year a current status should rest on)."""
    years = [int(p) for p in store.observed_periods(engine) if p.isdigit() and len(p) == 4]
    return max(years) if years else None
