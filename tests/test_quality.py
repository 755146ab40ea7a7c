"""Data quality on hand-worked cases: a source's reliability, validity and stability from its
runs; a carrier's completeness, revisions and score for a year."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor import db, models, quality, store


def test_source_scores_from_their_runs(tmp_path, cli, config_dir):
    database = tmp_path / "q.db"
    cli("--db", str(database), "--config", str(config_dir), "init", cwd=tmp_path)
    engine = db.make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        for source in ("good", "shaky"):
            store.ensure_source(conn, source, kind="file")
    # good: one run, 10 rows read, none rejected, 40 values stored, none revised
    run = store.start_run(engine, "good")
    store.finish_run(
        engine, run, status=models.RunStatus.ok, counts={"read": 10, "accepted": 40, "rejected": 0}
    )
    # shaky: two runs, one failed; 20 rows read, 5 rejected; 30 values stored of which 6 revised
    run = store.start_run(engine, "shaky")
    store.finish_run(engine, run, status=models.RunStatus.failed, error="unreachable")
    run = store.start_run(engine, "shaky")
    store.finish_run(
        engine,
        run,
        status=models.RunStatus.partial,
        counts={"read": 20, "accepted": 20, "unchanged": 4, "revised": 6, "rejected": 5},
    )
    frame = quality.source_quality(engine).set_index("source")
    engine.dispose()
    assert list(frame.index) == ["shaky", "good"]  # worst first
    shaky = frame.loc["shaky"]
    assert shaky["runs"] == 2 and shaky["reliability"] == pytest.approx(0.5)
    assert shaky["validity"] == pytest.approx(1 - 5 / 20)
    assert shaky["stability"] == pytest.approx(1 - 6 / 30)
    assert shaky["score"] == pytest.approx(100 * (0.5 + 0.75 + 0.8) / 3)
    assert frame.loc["good", "score"] == pytest.approx(100.0)


def test_a_carriers_completeness_and_revisions(tmp_path, copy_demo):
    engine = db.make_engine(f"sqlite:///{copy_demo(tmp_path)}")
    before = quality.carrier_quality(engine, 2025).set_index("id")
    full = before[before["completeness"] == 1.0].index[0]
    assert before.loc[full, "score"] == pytest.approx(100.0)
    figures = store.observations_frame(engine, subjects=[full], periods=["2025"])
    first = figures.iloc[0]
    store.upsert_observations(
        engine,
        pd.DataFrame(
            [
                {
                    "subject_type": "park",
                    "subject_id": full,
                    "indicator": first["indicator"],
                    "period": "2025",
                    "value": float(first["value"]) + 1,
                }
            ]
        ),
        source_id=str(first["source_id"]),
    )
    after = quality.carrier_quality(engine, 2025).set_index("id")
    engine.dispose()
    assert after.loc[full, "revised"] == 1
    n = figures["indicator"].nunique()
    assert after.loc[full, "score"] == pytest.approx(100 * (0.6 + 0.2 + 0.2 * (1 - 1 / n)))
    missing = before[before["completeness"] < 1.0]
    assert (missing["score"] < 100).all()  # a carrier missing figures scores lower
