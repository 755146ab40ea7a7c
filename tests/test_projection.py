"""Projections on small hand-worked cases: the year a goal is met at the current pace, the
value at the deadline with its band, and what it would take to meet it on time."""

from __future__ import annotations

import pytest

from monitor.projection import HORIZON, project_count, project_level


def test_a_level_goal_growing_ten_percent_a_year():
    # 100 → 110 → 121: 10 % a year. Target 150 by 2025 from 121 in 2022:
    # 121·1.1³ = 161.05 at the deadline; reached in 2025 (133.1 in 2023, 146.41 in 2024, 161.05)
    p = project_level({2020: 100.0, 2021: 110.0, 2022: 121.0}, 150.0, 2025)
    assert p is not None and p.model == "cagr"
    assert p.pace == pytest.approx(0.10)
    assert p.at_deadline == pytest.approx(161.051)
    assert p.met_year == 2025 and p.on_time
    assert p.needed == pytest.approx((150 / 121) ** (1 / 3) - 1)  # 7.42 % a year would do
    # every year grew by exactly 10 %: the bootstrap has nothing else to draw, no band
    assert p.low == pytest.approx(p.at_deadline) and p.high == pytest.approx(p.at_deadline)


def test_the_band_comes_from_the_observed_years():
    # growth of +20 % and 0 % alternately: the band at the deadline spans 1.0^3 … 1.2^3 of 144
    p = project_level({2020: 100.0, 2021: 120.0, 2022: 120.0, 2023: 144.0}, 1000.0, 2026)
    assert p is not None
    assert 144.0 <= p.low < p.at_deadline < p.high <= 144.0 * 1.2**3 + 1e-9
    assert p.met_year is None or p.met_year > 2026
    assert not p.on_time


def test_a_goal_already_met_and_one_never_met():
    met = project_level({2020: 2.0, 2021: 3.5}, 3.0, 2025)
    assert met is not None and met.met_year == 2021
    shrinking = project_level({2020: 10.0, 2021: 9.0, 2022: 8.1}, 20.0, 2025)
    assert shrinking is not None and shrinking.pace == pytest.approx(-0.10)
    assert shrinking.met_year is None  # not within HORIZON years of the deadline
    assert len(shrinking.path) == 2025 + HORIZON - 2022
    assert project_level({2020: 5.0}, 10.0, 2025) is None  # one year: no pace


def test_a_count_goal_at_the_current_rate_of_new_recognitions():
    # +30 from 2020 by 2025; 4, 6 and 5 new ones in 2021–2023 → 15 so far, 5 a year:
    # 20 in 2024, 25 in 2025, 30 in 2026 — a year late; 7.5 a year needed from now
    p = project_count({2021: 4, 2022: 6, 2023: 5}, 30.0, 2020, 2025, 2023)
    assert p is not None and p.model == "pace"
    assert p.latest == 15 and p.pace == pytest.approx(5.0)
    assert p.at_deadline == pytest.approx(25.0)
    assert p.met_year == 2026 and not p.on_time
    assert p.needed == pytest.approx(7.5)
    assert 15 + 2 * 4 <= p.low <= p.at_deadline <= p.high <= 15 + 2 * 6


def test_a_year_without_new_ones_counts_as_zero():
    p = project_count({2022: 9}, 12.0, 2020, 2025, 2023)
    assert p is not None and p.pace == pytest.approx(3.0)  # 9 over 2021, 2022, 2023
    assert p.met_year == 2024
    assert project_count({}, 5.0, 2020, 2025, 2020) is None


def test_parkmon_goals_project_on_the_demo(cli, copy_demo, tmp_path):
    import json

    database = copy_demo(tmp_path)
    shown = cli("--db", str(database), "goals", "--project", cwd=tmp_path)
    assert "按目前速度推算的目标达成" in shown.stdout and "演示数据" in shown.stderr + shown.stdout
    rows = {
        r["goal"]: r
        for r in json.loads(
            cli(
                "--db", str(database), "goals", "--project", "--format", "json", cwd=tmp_path
            ).stdout
        )
    }
    carriers = rows["new-provincial-carriers"]  # +30 new provincial carriers, 2021–2025
    progress_all = {
        g["goal"]: g
        for g in json.loads(
            cli("--db", str(database), "goals", "--format", "json", cwd=tmp_path).stdout
        )
    }
    progress = progress_all["new-provincial-carriers"]
    assert carriers["model"] == "pace" and carriers["latest"] == progress["latest"]
    elapsed = carriers["latest_year"] - 2020
    assert carriers["pace"] == pytest.approx(progress["latest"] / elapsed, abs=1e-4)
    if carriers["latest"] < 30:
        missing = 30 - carriers["latest"]
        assert carriers["met_year"] == carriers["latest_year"] + -(-missing // carriers["pace"])
    # goals without any record (no recognitions of their kind) are not projected from zero
    assert "new-rd-institutions" not in rows
    # a goal "about 3 %" (tolerance 0.1) is met at 2.9, as its status counts it: an achieved
    # goal is never said to be met later
    share = rows["rd-gdp-share"]
    assert share["target"] == pytest.approx(2.9)
    for goal, row in rows.items():
        if progress_all[goal]["status"] == "achieved":
            assert row["met_year"] is not None and row["met_year"] <= row["latest_year"], goal
