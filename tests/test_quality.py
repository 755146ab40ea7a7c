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


def test_what_a_goal_status_rests_on():
    from monitor.goals import Progress

    def progress(**kw):
        base = dict(
            goal="g",
            name_zh="目标",
            kind="level",
            scope="320600",
            status="moderate",
            target=10.0,
            target_year=2025,
            baseline=5.0,
            baseline_year=2020,
            latest=8.0,
            latest_year=2025,
            ratio=None,
            progress=None,
            elapsed=None,
            projection=None,
        )
        return Progress(**{**base, **kw})

    assert quality.goal_basis(progress(), 2025) == []  # this year's figure
    assert quality.goal_basis(progress(latest_year=2023), 2025) == [
        ("basis.stale", {"year": 2023, "missing": 2025})
    ]
    censored = progress(kind="ranking", latest=None, numbers={"censored_latest": True})
    assert quality.goal_basis(censored, 2025) == [("basis.censored", {})]
    assert quality.goal_basis(progress(illustrative=True), 2025) == [("basis.illustrative", {})]
    assert quality.goal_basis(progress(latest=None, latest_year=None), 2025) == [("basis.none", {})]
