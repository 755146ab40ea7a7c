"""Early warning (monitor.risks): hand-worked signals, levers and the back-test on the demo."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from monitor import db, models, risks
from monitor.rating import RatingRun, score
from monitor.rating.methodology import parse_methodology
from monitor.tables import table_of

# One group, one item worth 100 points, linear 0 → 100: a carrier's score is its figure x.
ONE_ITEM = {
    "name": "one-item",
    "version": "1",
    "kinds": ["incubator"],
    "group": [{"id": "G", "points": 100}],
    "item": [
        {
            "id": "i",
            "group": "G",
            "indicator": "x",
            "rule": "linear",
            "floor": 0,
            "cap": 100,
            "points": 100,
        },
    ],
    "min_completeness": 0.5,
    "stars": [
        {"stars": 5, "min_score": 85, "top_share": 0.2},
        {"stars": 3, "min_score": 60},
        {"stars": 1, "min_score": 0},
    ],
}
X = {"A": 95.0, "B": 88.0, "C": 70.0, "F": 62.0, "D": 40.0, "E": 20.0}
# last year's and the year before's scores
PAST = [
    {"A": 96.0, "B": 90.0, "C": 70.0, "F": 50.0, "D": 45.0},
    {"A": 94.0, "B": 90.0, "C": 70.0, "F": 48.0, "D": 50.0},
]


@pytest.fixture
def run() -> RatingRun:
    meth = parse_methodology(ONE_ITEM, "one-item.toml")
    values = pd.DataFrame({"x": X})
    peers = pd.DataFrame({"kind": "incubator"}, index=values.index)
    result = score(values, meth, peers=peers)
    return RatingRun(meth, 2025, result, values, peers, {k: f"载体{k}" for k in X})


def _frame(run, late=None):
    return risks.assess(run, PAST, pd.DataFrame(), late or {}, {"x": "千元"}, 50).set_index("id")


def test_the_expected_score_is_the_mean_of_the_recent_years():
    assert risks.expected_score([60.0, 50.0, 40.0]) == 50.0
    assert risks.expected_score([70.0, math.nan, 40.0]) == 55.0
    assert risks.expected_score([70.0]) == 70.0
    assert math.isnan(risks.expected_score([math.nan, 50.0]))  # not rated this year


def test_edges_follow_the_band_and_its_top_share(run):
    stars = run.result.table["stars"]
    # six peers, 5★ needs ≥ 85 and rank ≤ 0.2 × 6 = 1.2: A alone; B (88) is only 3★
    assert stars.to_dict() == {"A": 5, "B": 3, "C": 3, "F": 3, "D": 1, "E": 1}
    edge = risks.edges(run)
    # A must stay above 85 and above the best one outside the top share: B's 88
    assert edge["A"] == 88
    assert edge["B"] == edge["C"] == edge["F"] == 60
    assert edge["D"] == 0


def test_signals_risk_level_and_levers_worked_out_by_hand(run):
    f = _frame(run)
    # F: 62 now, 50 and 48 before → expected 53.33, 6.67 under its edge 60 → margin 1;
    # one group, so the stability draws never move a star; all figures present:
    # risk = 100 × 0.5 × 1 = 50 → high.
    assert f.loc["F", "expected"] == pytest.approx(160 / 3)
    assert f.loc["F", "slack"] == pytest.approx(160 / 3 - 60)
    assert f.loc["F", "p_fewer"] == 0
    assert f.loc["F", "risk"] == 50 and f.loc["F", "level"] == "high"
    # its lever wins back 60 + 2 (the cushion) − 53.33 = 8.67 points: x from 62 to 70.67
    (lever,) = f.loc["F", "levers"]
    assert (lever.indicator, lever.current, lever.needed) == ("x", 62, 70.67)
    assert risks.levers_text([lever], {"x": "千元"}) == "i 62 → 70.67 千元"
    # C: 70 three years running → 10 above its edge → margin 0 → risk 0
    assert f.loc["C", "risk"] == 0 and f.loc["C", "level"] == "low"
    assert f.loc["C", "levers"] == []
    # A: expected 95 against the edge 88 → slack 7 → margin 0.3 → risk 15
    assert f.loc["A", "risk"] == pytest.approx(15)
    # D failed (1★, < 60) and its expected 45 is still under 60: a second failure → first;
    # the line it must get over is the passing line, not its own band's edge
    assert bool(f.loc["D", "failing"]) and bool(f.loc["D", "again"])
    assert f.loc["D", "edge"] == 0 and f.loc["D", "line"] == 60
    assert f.loc["F", "line"] == f.loc["F", "edge"] == 60
    assert not f.loc["F", "again"] and not f.loc["F", "failing"]
    # E failed too but has no history: expected 20 < 60 → again as well
    assert bool(f.loc["E", "again"])


def test_a_late_filing_raises_the_risk(run):
    on_time = _frame(run, {"C": 0})
    late = _frame(run, {"C": 12})
    # data signal 0 → 0.5 (LATE_WEIGHT): risk + 100 × 0.2 × 0.5 = +10
    assert late.loc["C", "risk"] - on_time.loc["C", "risk"] == pytest.approx(10)
    assert late.loc["C", "days_late"] == 12


def test_a_missing_figure_is_the_first_lever(run):
    values = run.values.copy()
    meth = run.methodology
    values.loc["F", "x"] = np.nan
    result = score(values, meth, peers=run.peers)
    missing = RatingRun(meth, 2025, result, values, run.peers, run.names)
    f = risks.assess(missing, PAST, pd.DataFrame(), {}, {}, 50).set_index("id")
    # F has no figure: not rated (too few figures) → fails, margin and stability 1, data 1
    assert f.loc["F", "risk"] == 100 and bool(f.loc["F", "again"])
    (lever,) = f.loc["F", "levers"]
    assert lever.needed is None and risks.levers_text([lever], {}) == "i（缺报）"


def test_items_that_fell_most_since_last_year(run):
    last = pd.DataFrame({"i": {"F": 70.0, "C": 60.0}})
    assert risks.falling(run, "F", last) == [("i", "i", -8.0)]
    assert risks.falling_text(risks.falling(run, "F", last), "en", {"i": "Item"}) == (
        "Item -8.0 points"
    )
    assert risks.falling(run, "C", last) == []  # it rose
    assert risks.falling(run, "A", last) == []  # no points last year


def test_parkmon_risks_on_the_demo_with_its_back_test(cli, tmp_path, copy_demo, config_dir):
    database = copy_demo(tmp_path)
    result = cli("--db", str(database), "risks", "2025", "--format", "json", cwd=tmp_path)
    rows = json.loads(result.stdout)
    assert rows and {"id", "risk", "level", "again", "levers", "falling"} <= set(rows[0])
    # the second failures come first, then the risk, highest first
    again = [r["again"] for r in rows]
    assert again == sorted(again, reverse=True)
    rest = [r["risk"] for r in rows if not r["again"]]
    assert rest == sorted(rest, reverse=True)
    assert all(r["level"] != "low" or r["again"] for r in rows)
    assert "演示数据" in result.stderr  # the demo banner, on stderr beside JSON
    # one district's, one kind's: the filters of the page
    haimen = json.loads(
        cli(
            "--db",
            str(database),
            "risks",
            "2025",
            "--all",
            "--district",
            "海门区",
            "--kind",
            "incubator",
            "--format",
            "json",
            cwd=tmp_path,
        ).stdout
    )
    assert haimen and {(r["district_id"], r["kind"]) for r in haimen} == {("320614", "incubator")}
    bad = cli("--db", str(database), "risks", "2025", "--district", "北京", cwd=tmp_path, ok=False)
    assert bad.returncode != 0 and "not a district of the city" in bad.stderr
    table = cli("--db", str(database), "risks", "2025", "--backtest", cwd=tmp_path)
    assert "回测（演示数据）：2021–2024 年" in table.stdout
    assert "改进抓手" in table.stdout

    # the back-test's "lost a star" counted again from the stored ratings, for 2024 → 2025
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        test = risks.backtest(engine, config_dir, [2024], draws=50)
        rating = table_of(models.Rating)
        with engine.connect() as conn:
            stored = conn.execute(
                sa.select(
                    rating.c.subject_id, rating.c.year, rating.c.stars, rating.c.status
                ).where(rating.c.kind.in_(["incubator", "maker_space"]))
            ).all()
    finally:
        engine.dispose()
    stars = {
        (s, y): (st if status == "rated" else (0 if status == "vetoed" else None))
        for s, y, st, status in stored
    }
    was = {s: v for (s, y), v in stars.items() if y == 2024 and v is not None and v >= 1}
    after = {s: v for (s, y), v in stars.items() if y == 2025}
    lost = {s for s, v in was.items() if s in after and (after[s] is None or after[s] < v)}
    (row,) = test.rows
    assert row["carriers"] == len([s for s in was if s in after])
    assert row["lost"] == len(lost)
    assert 0 <= row["hits"] <= min(row["flagged"], row["lost"])
    assert test.precision == row["hits"] / row["flagged"]

    # the second failures, counted again from the stored ratings: failing in 2024 (fewer than
    # 3 stars, a veto, or not rated) and again in 2025
    status = {(s, y): st for s, y, _, st in stored}
    failing = {
        s
        for (s, y), v in stars.items()
        if y == 2024
        and s in after
        and (status[s, y] in ("vetoed", "incomplete") or (v is not None and v < 3))
    }
    again = {s for s in failing if after[s] is None or after[s] < 3}  # not rated in 2025: fails
    assert row["failing"] == len(failing) and row["failed_again"] == len(again)
    assert 0 <= row["again_hits"] <= min(row["again_flagged"], row["failed_again"])
    assert "连续不合格预警" in risks.backtest_text(test, "zh", True)
