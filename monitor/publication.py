"""Publishing a year's ratings: what ``parkmon rate`` stored is frozen as the bureau's word
(who, when); a later change is a new publication of the same year with its reason, and every
publication stays readable. A carrier's page shows its published stars beside the computed."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, store
from monitor.accounts import Actor, audit
from monitor.errors import PortalError
from monitor.tables import table_of

T_PUBLICATION = table_of(models.Publication)
T_PUBLISHED = table_of(models.PublishedRating)
# What every listing of a publication shows: which year and number, who published it, when, why.
WHO = tuple(
    T_PUBLICATION.c[c] for c in ("year", "number", "published_by", "published_at", "reason")
)
FROZEN = ["methodology", "methodology_version", "score", "stars", "rank", "peer_size", "status"]


class PublicationError(PortalError):
    """A year cannot be published as asked; the message says why."""


def publish(engine: Engine, year: int, reason: str, *, actor: Actor) -> int:
    """Freeze the carriers' stored ratings of ``year``; returns the publication's number (1 for
    the first of the year). A second publication needs a reason and a change to publish."""
    stored = store.ratings_frame(engine, year)
    stored = stored[stored["subject_type"] == "park"]
    if stored.empty:
        raise PublicationError(
            f"nothing of {year} is rated: run `parkmon rate {year}` first",
            f"{year} 年尚无评价结果：请先运行 parkmon rate {year}",
        )
    rows = [
        {
            "subject_id": str(r["subject_id"]),
            **{k: _plain(r[k]) for k in FROZEN},
        }
        for r in stored.to_dict("records")
    ]
    with engine.begin() as conn:
        last = conn.execute(
            sa.select(T_PUBLICATION.c.id, T_PUBLICATION.c.number)
            .where(T_PUBLICATION.c.year == year)
            .order_by(T_PUBLICATION.c.number.desc())
            .limit(1)
        ).first()
        if last is not None:
            if not reason.strip():
                raise PublicationError(
                    f"{year} was published already (publication {last.number}); a new "
                    "publication needs a reason (--reason)",
                    f"{year} 年已发布过（第 {last.number} 次）；再次发布须写明更正原因",
                )
            before = _frozen(conn, int(last.id))
            if before == _keyed(rows):
                raise PublicationError(
                    f"the ratings of {year} have not changed since publication {last.number}",
                    f"{year} 年的评价自第 {last.number} 次发布以来没有变化",
                )
        number = 1 if last is None else int(last.number) + 1
        publication_id = conn.execute(
            sa.insert(T_PUBLICATION)
            .values(
                year=year,
                number=number,
                published_by=actor.name[:128],
                published_at=models.utcnow(),
                reason=reason.strip()[:2000],
            )
            .returning(T_PUBLICATION.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(T_PUBLISHED), [{"publication_id": publication_id, **r} for r in rows]
        )
        audit(
            conn,
            actor,
            "publish",
            str(year),
            {"publication": number, "ratings": len(rows), "reason": reason.strip()[:200]},
        )
    return number


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _keyed(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (str(r["subject_id"]), str(r["methodology"])): tuple(
            round(v, 6) if isinstance(v, float) else v for v in (r[k] for k in FROZEN)
        )
        for r in rows
    }


def _frozen(conn: sa.Connection, publication_id: int) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = conn.execute(
        sa.select(T_PUBLISHED).where(T_PUBLISHED.c.publication_id == publication_id)
    ).all()
    return _keyed([dict(r._mapping) for r in rows])


def publications_frame(engine: Engine) -> pd.DataFrame:
    """Every publication, newest first: year, number, who, when, why, how many ratings."""
    counted = (
        sa.select(T_PUBLISHED.c.publication_id, sa.func.count().label("ratings"))
        .group_by(T_PUBLISHED.c.publication_id)
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*WHO, counted.c.ratings)
            .select_from(
                T_PUBLICATION.join(counted, counted.c.publication_id == T_PUBLICATION.c.id)
            )
            .order_by(T_PUBLICATION.c.year.desc(), T_PUBLICATION.c.number.desc())
        ).all()
    columns = [*(c.name for c in WHO), "ratings"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def published_for(engine: Engine, subject_id: str) -> list[dict[str, Any]]:
    """The carrier's ratings in every publication, newest first, each with who published it,
    when and why; ``current`` marks the latest publication of each year."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                *WHO,
                *(T_PUBLISHED.c[k] for k in FROZEN),
            )
            .select_from(
                T_PUBLISHED.join(T_PUBLICATION, T_PUBLICATION.c.id == T_PUBLISHED.c.publication_id)
            )
            .where(T_PUBLISHED.c.subject_id == subject_id)
            .order_by(T_PUBLICATION.c.year.desc(), T_PUBLICATION.c.number.desc())
        ).all()
    items = [dict(row._mapping) for row in rows]
    latest: dict[int, int] = {}
    for item in items:
        latest.setdefault(int(item["year"]), int(item["number"]))
    for item in items:
        item["current"] = int(item["number"]) == latest[int(item["year"])]
    return items
