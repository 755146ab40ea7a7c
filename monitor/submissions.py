"""Filing through the portal: an uploaded workbook is read by the same collector code as a
dropped file (the same limits, units, bounds and Torch logic checks), kept with its hash, and
goes draft → submitted → returned or approved. Approval writes its figures as observations of
the source ``portal``, with the submission, who filed it and who approved it in each figure's
citation; a correction after approval is a new submission and becomes a new revision.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.files import read_table
from collectors.mapping import ROW, map_observations
from collectors.names import SubjectResolver
from collectors.run import catalogue_of
from collectors.sources import parse_source
from monitor import messages, models, rounds, store
from monitor.accounts import Actor, audit
from monitor.errors import CollectorError, ConfigError, MonitorError
from monitor.tables import table_of

T_SUBMISSION = table_of(models.Submission)
SOURCE = "portal"
PRECEDENCE = 10  # a carrier's own filing, approved, outranks what other sources say of it
MAX_UPLOAD = 2 * 1024 * 1024  # bytes: the workbook of one carrier is a few kilobytes
Status = models.SubmissionStatus


class FilingError(MonitorError):
    """The filing cannot move as asked (e.g. submitting a draft that still has problems);
    ``code`` names the message (``web.filing.error.CODE`` in ``monitor.i18n``)."""

    TEXT: ClassVar[dict[str, str]] = {
        "closed": "the round is closed",
        "too_big": "the file is larger than the portal reads",
        "under_review": "the filing is under review; wait for the reviewer's answer",
        "not_draft": "only a draft can be submitted; upload the workbook first",
        "has_problems": "the draft still has problems to fix; upload a corrected workbook",
        "need_comment": "say what to fix: a returned filing needs a comment",
        "not_submitted": "only a submitted filing can be reviewed",
    }

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(self.TEXT[code])


@dataclass
class Checked:
    """What an upload held: the figures read (indicator, value, raw value, raw unit) and the
    problems to fix (where, which field, the value, why — as stored messages)."""

    figures: list[dict[str, Any]]
    problems: list[dict[str, Any]]


def check_upload(
    engine: Engine, found: dict[str, Any], park_id: str, data: bytes, file_name: str
) -> Checked:
    """Read an uploaded workbook of ``found`` (a round) for ``park_id`` as the file collector
    reads a park office's report."""
    period = str(found["period"])
    spec = parse_source(
        {
            "id": SOURCE,
            "collector": "file",
            "location": "upload.xlsx",
            "format": "xlsx",
            "sheet": rounds.SHEET,
            "skip_first_rows": rounds.HEADER_ROW - 1,
            "header_rows": 1,
            "layout": "long",
            "subject": rounds.SUBJECT,
            "indicator_column": rounds.CODE,
            "value_column": rounds.value_header(period),
            "unit_column": rounds.UNIT,
            "period": period,
            "max_bytes": MAX_UPLOAD,
            "max_rows": 500,
            "max_columns": 30,
            "max_cells": 15_000,
        },
        0,
        Path("portal.toml"),
    )
    shown = Path(file_name).name[:120] or "upload.xlsx"
    problems: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / shown
        path.write_bytes(data)
        try:
            table = read_table(path, spec)
            resolver = SubjectResolver(store.subject_rows(engine, "park"), {})
            mapped = map_observations(
                table.rows, table.headers, spec, catalogue_of(engine), resolver, shown
            )
        except CollectorError as exc:
            return Checked([], [_problem(shown, "", "", exc.message())])
        except ConfigError as exc:  # a header of the workbook renamed or removed
            return Checked([], [_problem(shown, "", "", messages.of(exc))])
    asked = set(str(found["indicators"]).split("|"))
    figures = []
    for row in mapped.observations:
        where = str(row[ROW].location) if ROW in row else shown
        if row["subject_id"] != park_id:
            problems.append(
                _problem(
                    where,
                    rounds.SUBJECT,
                    row["subject_id"],
                    messages.msg("portal.other_carrier", found=row["subject_id"], expected=park_id),
                )
            )
            continue
        if row["indicator"] not in asked:
            problems.append(
                _problem(
                    where,
                    rounds.CODE,
                    row["indicator"],
                    messages.msg("portal.not_asked", indicator=row["indicator"]),
                )
            )
            continue
        figures.append(
            {
                "indicator": row["indicator"],
                "value": float(row["value"]),
                "raw_value": str(row["raw_value"]),
                "raw_unit": str(row["raw_unit"]),
            }
        )
    for rejected in mapped.rejections:
        problems.append(
            _problem(
                str(rejected["location"]),
                str(rejected["field_name"]),
                str(rejected["value"]),
                messages.of(rejected["reason"]),
            )
        )
    if not figures and not problems:
        problems.append(
            _problem(shown, rounds.value_header(period), "", messages.msg("portal.empty"))
        )
    return Checked(figures, problems)


def _problem(location: str, field: str, value: str, reason: messages.Msg) -> dict[str, Any]:
    return {
        "location": location,
        "field": field,
        "value": value[:200],
        "reason": str(reason),
        "reason_data": messages.data_of(reason),
    }


def latest(engine: Engine, round_id: str, park_id: str) -> dict[str, Any] | None:
    """The carrier's latest submission of the round (without the file's bytes)."""
    columns = [c for c in T_SUBMISSION.c if c.name != "file_bytes"]
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(*columns)
            .where(T_SUBMISSION.c.round_id == round_id, T_SUBMISSION.c.park_id == park_id)
            .order_by(T_SUBMISSION.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else _plain(dict(row._mapping))


def by_id(engine: Engine, submission_id: int) -> dict[str, Any] | None:
    columns = [c for c in T_SUBMISSION.c if c.name != "file_bytes"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(*columns).where(T_SUBMISSION.c.id == submission_id)).first()
    return None if row is None else _plain(dict(row._mapping))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    row["figures"] = json.loads(row["figures"] or "[]")
    row["problems"] = json.loads(row["problems"] or "[]")
    return row


def upload(
    engine: Engine,
    found: dict[str, Any],
    park_id: str,
    data: bytes,
    file_name: str,
    actor: Actor,
) -> dict[str, Any]:
    """Check an upload and keep it as the carrier's draft (the file with its hash, the figures
    and the problems). Refused while a submission is under review or after the round closed."""
    if found["closed"]:
        raise FilingError("closed")
    if len(data) > MAX_UPLOAD:
        raise FilingError("too_big")
    checked = check_upload(engine, found, park_id, data, file_name)
    now = models.utcnow()
    values = {
        "status": Status.draft.value,
        "updated_at": now,
        "file_name": Path(file_name).name[:255],
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "file_bytes": data,
        "figures": json.dumps(checked.figures, ensure_ascii=False),
        "problems": json.dumps(checked.problems, ensure_ascii=False),
        "comment": "",
    }
    current = latest(engine, str(found["id"]), park_id)
    with engine.begin() as conn:
        if current is not None and current["status"] == Status.submitted.value:
            raise FilingError("under_review")
        if current is not None and current["status"] in (Status.draft.value, Status.returned.value):
            conn.execute(
                sa.update(T_SUBMISSION).where(T_SUBMISSION.c.id == current["id"]).values(**values)
            )
            submission_id = int(current["id"])
        else:  # the first filing, or a correction after approval: a new submission
            submission_id = int(
                conn.execute(
                    sa.insert(T_SUBMISSION)
                    .values(
                        round_id=str(found["id"]),
                        park_id=park_id,
                        created_by=actor.name,
                        created_at=now,
                        **values,
                    )
                    .returning(T_SUBMISSION.c.id)
                ).scalar_one()
            )
        audit(
            conn,
            actor,
            "filing.upload",
            f"{found['id']}/{park_id}",
            {
                "submission": submission_id,
                "sha256": values["file_sha256"],
                "figures": len(checked.figures),
                "problems": len(checked.problems),
            },
        )
    result = by_id(engine, submission_id)
    assert result is not None
    return result


def submit(engine: Engine, submission_id: int, actor: Actor) -> None:
    """Freeze a draft without problems and put it in the review queue."""
    found = by_id(engine, submission_id)
    if found is not None and (rounds.round_of(engine, found["round_id"]) or {}).get("closed"):
        raise FilingError("closed")
    if found is None or found["status"] not in (Status.draft.value,):
        raise FilingError("not_draft")
    if found["problems"] or not found["figures"]:
        raise FilingError("has_problems")
    with engine.begin() as conn:
        conn.execute(
            sa.update(T_SUBMISSION)
            .where(T_SUBMISSION.c.id == submission_id, T_SUBMISSION.c.status == Status.draft.value)
            .values(
                status=Status.submitted.value,
                submitted_by=actor.name,
                submitted_at=models.utcnow(),
                updated_at=models.utcnow(),
            )
        )
        audit(conn, actor, "filing.submit", _target(found), {"submission": submission_id})


def send_back(engine: Engine, submission_id: int, comment: str, actor: Actor) -> None:
    """Return a submission to its office with the reviewer's comment."""
    found = _under_review(engine, submission_id)
    if not comment.strip():
        raise FilingError("need_comment")
    with engine.begin() as conn:
        _reviewed(conn, submission_id, Status.returned, comment, actor)
        audit(conn, actor, "filing.return", _target(found), {"submission": submission_id})


def _reviewed(
    conn: sa.Connection,
    submission_id: int,
    status: Status,
    comment: str,
    actor: Actor,
    **more: Any,
) -> None:
    """Record the reviewer's verdict on a submission: status, who, when, the comment."""
    now = models.utcnow()
    conn.execute(
        sa.update(T_SUBMISSION)
        .where(T_SUBMISSION.c.id == submission_id)
        .values(
            status=status.value,
            reviewed_by=actor.name,
            reviewed_at=now,
            updated_at=now,
            comment=comment.strip()[:2000],
            **more,
        )
    )


def approve(engine: Engine, submission_id: int, comment: str, actor: Actor) -> int:
    """Accept a submission: its figures become observations of the source ``portal`` in a run
    of their own (each figure's citation names the submission, who filed and who approved);
    returns the run id."""
    found = _under_review(engine, submission_id)
    frame = pd.DataFrame(found["figures"])
    citation = (
        f"portal submission {submission_id} ({found['round_id']}), filed by "
        f"{found['submitted_by']}, approved by {actor.name}"
    )
    with engine.begin() as conn:
        store.ensure_source(
            conn,
            SOURCE,
            kind="portal",
            location="parkmon serve /portal",
            precedence=PRECEDENCE,
            description="figures filed by the carriers' offices and approved by the bureau",
        )
    run_id = store.start_run(engine, SOURCE, host=actor.address)
    try:
        rows = frame.assign(
            subject_type="park",
            subject_id=found["park_id"],
            period=str(rounds.round_of(engine, found["round_id"])["period"]),  # type: ignore[index]
            citation=citation[:500],
        )
        with engine.begin() as conn:
            result = store.upsert_observations(
                engine, rows, source_id=SOURCE, run_id=run_id, conn=conn
            )
            _reviewed(conn, submission_id, Status.approved, comment, actor, run_id=run_id)
            audit(
                conn,
                actor,
                "filing.approve",
                _target(found),
                {"submission": submission_id, "run": run_id, "figures": len(rows)},
            )
    except BaseException as exc:
        store.finish_run(engine, run_id, status=models.RunStatus.failed, error=str(exc)[:500])
        raise
    store.finish_run(
        engine,
        run_id,
        status=models.RunStatus.ok,
        counts={"read": len(rows), "accepted": result.inserted + result.revised + result.unchanged},
    )
    return run_id


def queue(engine: Engine) -> pd.DataFrame:
    """Submissions waiting for review, oldest first."""
    columns = ["id", "round_id", "park_id", "submitted_by", "submitted_at", "file_name"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*(T_SUBMISSION.c[c] for c in columns))
            .where(T_SUBMISSION.c.status == Status.submitted.value)
            .order_by(T_SUBMISSION.c.submitted_at)
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _under_review(engine: Engine, submission_id: int) -> dict[str, Any]:
    found = by_id(engine, submission_id)
    if found is None or found["status"] != Status.submitted.value:
        raise FilingError("not_submitted")
    return found


def _target(found: dict[str, Any]) -> str:
    return f"{found['round_id']}/{found['park_id']}"


def filing_state(engine: Engine, found: dict[str, Any]) -> pd.DataFrame:
    """Every carrier the round asks (its kinds), with the state of its latest submission:
    none, draft, submitted, returned or approved; id, name, district_id, state, updated_at."""
    table = store.park_table(engine, columns=["name", "kind", "district_id"])
    table = table[table["kind"].isin(str(found["kinds"]).split("|"))]
    latest_ids = (
        sa.select(sa.func.max(T_SUBMISSION.c.id))
        .where(T_SUBMISSION.c.round_id == str(found["id"]))
        .group_by(T_SUBMISSION.c.park_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                T_SUBMISSION.c.park_id, T_SUBMISSION.c.status, T_SUBMISSION.c.updated_at
            ).where(T_SUBMISSION.c.id.in_(latest_ids))
        ).all()
    state = {str(r.park_id): (str(r.status), r.updated_at) for r in rows}
    out = table[["id", "name", "district_id"]].copy()
    out["state"] = [state.get(pid, ("none", None))[0] for pid in out["id"]]
    out["updated_at"] = [state.get(pid, ("none", None))[1] for pid in out["id"]]
    return out.sort_values(["district_id", "id"]).reset_index(drop=True)
