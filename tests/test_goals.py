"""Goal progress worked out by hand for each status band and goal kind; comparisons."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitor import goals
from monitor.compare import compare, percentile_in
from monitor.errors import ConfigError

G = dict(name_zh="g", name_en="", baseline_year=2020, target_year=2025)


def level(baseline, target, **kw):
    return goals.GoalSpec(
        id="x", kind="level", target=target, baseline=baseline, indicator="i", **G, **kw
    )


def series(**by_year):
    return pd.Series({int(y[1:]): v for y, v in by_year.items()}, dtype=float)


@pytest.mark.parametrize(
    ("values", "status", "ratio"),
    [
        # required CAGR 100 → 200 over 5 years = 14.87 %/yr
        ({"y2020": 100, "y2023": 150}, goals.ON_TRACK, ((1.5 ** (1 / 3)) - 1) / (2**0.2 - 1)),
        ({"y2020": 100, "y2023": 130}, goals.MODERATE, ((1.3 ** (1 / 3)) - 1) / (2**0.2 - 1)),
        ({"y2020": 100, "y2023": 110}, goals.LIMITED, ((1.1 ** (1 / 3)) - 1) / (2**0.2 - 1)),
        ({"y2020": 100, "y2023": 90}, goals.AWAY, ((0.9 ** (1 / 3)) - 1) / (2**0.2 - 1)),
        ({"y2020": 100, "y2022": 205}, goals.ACHIEVED, None),
    ],
)
def test_level_bands(values, status, ratio):
    p = goals.level_progress(level(100, 200), series(**values))
    assert p.status == status
    if ratio is not None:
        # 1.5 → 1.0 (≥0.95 on track); 1.3 → 0.63 moderate; 1.1 → 0.22 limited; 0.9 → < 0
        assert p.ratio == pytest.approx(ratio)
    assert p.numbers  # every status comes with its numbers


def test_target_with_tolerance():
    about3 = level(2.55, 3.0, tolerance=0.1)
    assert goals.level_progress(about3, series(y2020=2.55, y2025=2.92)).status == goals.ACHIEVED
    assert goals.level_progress(about3, series(y2020=2.55, y2025=2.85)).status != goals.ACHIEVED


def test_growth_rate_goal():
    g = goals.GoalSpec(id="g", kind="growth", target=8.0, indicator="rd", **G)
    # 100 → 140 in 4 years = 8.78 %/yr: ratio 1.10, on track (deadline not reached)
    p = goals.growth_progress(g, series(y2020=100, y2024=140))
    assert p.status == goals.ON_TRACK
    assert p.numbers["observed_rate_pct"] == pytest.approx((1.4**0.25 - 1) * 100)
    # at the deadline, ≥ 8 % a year is achieved
    assert goals.growth_progress(g, series(y2020=100, y2025=150)).status == goals.ACHIEVED
    # without the baseline year there is no growth to speak of
    assert goals.growth_progress(g, series(y2022=100, y2024=140)).status == goals.NO_DATA


def test_count_goal_from_recognitions():
    g = goals.GoalSpec(
        id="c",
        kind="count",
        target=30,
        kinds=("incubator", "maker_space"),
        levels=("provincial", "national"),
        **G,
    )
    parks = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D", "Z"],
            "kind": ["incubator", "incubator", "maker_space", "incubator", "high_tech_zone"],
            "district_id": ["1", "1", "2", "2", "1"],
        }
    )
    rec = pd.DataFrame(
        {
            "park_id": ["A", "A", "B", "C", "D", "Z"],
            "level": [
                "provincial",
                "national",
                "provincial",
                "provincial",
                "municipal",
                "provincial",
            ],
            "year": [2018, 2022, 2021, 2023, 2022, 2022],
        }
    )
    new = goals.count_new(rec, parks, g)
    # A was provincial before the plan (not new); B and C are new; D is municipal; Z is a zone.
    assert sorted(new["park_id"]) == ["B", "C"]
    p = goals.count_progress(g, new, 2023, has_records=True)
    # 2 in 3 years = 0.67/yr against the 6/yr required: ratio 0.11 → limited
    assert p.latest == 2
    assert p.ratio == pytest.approx((2 / 3) / 6)
    assert p.status == goals.LIMITED
    split = goals.count_progress(g, new[new["district_id"] == "2"], 2023, "2", target=1)
    assert split.status == goals.ACHIEVED
    none = goals.count_progress(g, new.iloc[0:0], 2023, has_records=False)
    assert none.status == goals.NO_DATA


def test_ranking_goal_with_a_censored_position():
    g = goals.GoalSpec(id="r", kind="ranking", target=20, ranking="x", subject="c", **G)
    entries = pd.DataFrame(
        {
            "year": [2020, 2021, 2022, 2023],
            "position": [26, 23, 25, 20],
            "relation": ["eq", "eq", "gt", "gt"],
        }
    )
    p = goals.ranking_progress(g, entries)
    assert p.status == goals.LIMITED  # outside the top 20: not achieved, distance unknown
    assert p.best == 23
    assert p.numbers["latest_reading"] == "> 20"
    # "outside the top 20" is never drawn as a number (not 21, not 20)
    assert p.latest is None
    assert p.latest_text("zh") == "前20名以外"
    assert p.latest_text("en") == "> 20"
    top40 = goals.GoalSpec(id="t", kind="ranking", target=40, ranking="x", subject="z", **G)
    zone = pd.DataFrame(
        {"year": [2019, 2020, 2021, 2024], "position": [51, 44, 41, 47], "relation": ["eq"] * 4}
    )
    p = goals.ranking_progress(top40, zone)
    # from 44th (2020) to 47th (2024): worse, moving away; best so far 41st
    assert p.status == goals.AWAY
    assert p.best == 41
    assert goals.ranking_progress(top40, zone.assign(position=[51, 44, 41, 38])).status == (
        goals.ACHIEVED
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2.55, "2.55"),
        (43.567, "43.567"),
        (2178.0, "2,178"),
        (3456.78 * 10, "34,567.8"),  # 万元 → 千元, without the binary noise
        (-1234.5, "-1,234.5"),
        (None, "—"),
    ],
)
def test_values_keep_their_reported_precision(value, shown):
    assert goals.reported_number(value) == shown


def test_too_little_data_is_said_so():
    assert goals.level_progress(level(None, 10), series(y2023=5)).status == goals.NO_DATA
    assert goals.level_progress(level(5, 10), series(y2020=5)).status == goals.NO_DATA
    g = goals.GoalSpec(id="r", kind="ranking", target=20, ranking="x", subject="c", **G)
    one = pd.DataFrame({"year": [2021], "position": [23], "relation": ["eq"]})
    assert goals.ranking_progress(g, one).status == goals.NO_DATA


@pytest.mark.slow
def test_shipped_goals_and_real_rankings(tmp_path, cli):
    cli("init", cwd=tmp_path)
    proc = cli("goals", "--format", "json", cwd=tmp_path)
    by_id = {g["goal"]: g for g in json.loads(proc.stdout)}
    zone = by_id["hightech-zone-top40"]
    city = by_id["innovative-city-top20"]
    assert zone["status"] != goals.ACHIEVED
    assert city["status"] != goals.ACHIEVED
    assert zone["best"] == 41
    assert city["best"] == 23
    # without collected statistics the indicator goals say so rather than guess
    assert by_id["rd-gdp-share"]["status"] == goals.NO_DATA
    assert city["latest"] is None and city["numbers"]["censored_latest"]
    from typer.testing import CliRunner

    from monitor.cli import app

    for lang, reading in (("zh", "前20名以外 (2023)"), ("en", "> 20 (2023)")):
        table = CliRunner(env={"COLUMNS": "250"}).invoke(
            app, ["--db", str(tmp_path / "parkmon.db"), "--lang", lang, "goals"]
        )
        assert table.exit_code == 0, table.output
        assert reading in table.stdout
        assert "21" not in table.stdout.split(reading)[0].splitlines()[-1]
    rankings = cli("rankings", "--format", "json", cwd=tmp_path)
    rows = json.loads(rankings.stdout)
    assert {
        (r["year"], r["position"], r["relation"])
        for r in rows
        if r["ranking"] == "national-hightech-zone"
    } == {(2019, 51, "eq"), (2020, 44, "eq"), (2021, 41, "eq"), (2024, 47, "eq")}
    assert all(r["note"] for r in rows)
    sizes = {(r["ranking"], r["year"]): r["out_of"] for r in rows}
    assert sizes == {
        ("national-hightech-zone", 2019): 169,
        ("national-hightech-zone", 2020): 169,
        ("national-hightech-zone", 2021): 169,
        ("national-hightech-zone", 2024): 178,
        ("innovative-city", 2020): None,
        ("innovative-city", 2021): 78,
        ("innovative-city", 2022): 97,
        ("innovative-city", 2023): 101,
    }
    notes = {(r["ranking"], r["year"]): r["note"] for r in rows}
    for note in notes.values():  # cited by publisher and document; no internal reference
        assert not any(word in note for word in ("FACTS", "shared/", "issue"))
    assert notes[("national-hightech-zone", 2024)].startswith(
        "工业和信息化部，国家高新区评价结果，"
    )
    assert "2020年较2019年提升7位（51→44）" in notes[("national-hightech-zone", 2019)]
    assert "南通日报" in notes[("national-hightech-zone", 2021)]


def test_percentiles_and_strengths_on_a_small_peer_group():
    parks = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "kind": ["incubator"] * 4,
            "level": ["provincial"] * 4,
            "district_id": ["1", "1", "2", "2"],
            "in_belt": [True, True, False, True],
        }
    )
    indicators = pd.DataFrame(
        {
            "code": ["n", "cost"],
            "name_zh": ["数量", "成本"],
            "direction": ["higher", "lower"],
            "kinds": ["incubator", "incubator"],
        }
    )
    current = pd.DataFrame(
        {"n": [10.0, 20.0, 30.0, 40.0], "cost": [5.0, 5.0, 1.0, 9.0]}, index=["A", "B", "C", "D"]
    )
    previous = pd.DataFrame(
        {"n": [8.0, np.nan, 30.0, 40.0], "cost": [5.0, 5.0, 1.0, 9.0]}, index=["A", "B", "C", "D"]
    )
    result = compare(
        ["A", "C"], 2025, current, previous, parks, indicators, pd.DataFrame(columns=["subject_id"])
    )
    t = result.table.set_index(["subject", "indicator"])
    # A's n=10 in (10, 20, 30, 40): below 0 others, equal to itself → (0 + 0.5)/4 = 12.5
    assert t.loc[("A", "n"), "percentile"] == pytest.approx(12.5)
    assert t.loc[("C", "n"), "percentile"] == pytest.approx(62.5)
    assert t.loc[("A", "n"), "change_pct"] == pytest.approx(25.0)
    assert t.loc[("A", "n"), "group_median"] == 25
    # cost: lower is better; C's 1 against the median 5 is a strength (+80 %)
    assert t.loc[("C", "cost"), "vs_median_pct"] == pytest.approx(80.0)
    assert result.strengths["C"][0] == "成本"
    assert result.weaknesses["A"] == ["数量"]
    belt = compare(
        ["A"],
        2025,
        current,
        previous,
        parks,
        indicators,
        pd.DataFrame(columns=["subject_id"]),
        against="belt",
    )
    assert belt.table.set_index("indicator").loc["n", "group_size"] == 3
    assert percentile_in(pd.Series([1.0, 2.0]), float("nan")) is None


def test_a_district_is_measured_against_its_own_share_or_shows_figures_only(
    collect_engine, config_dir
):
    from monitor import store, views

    with collect_engine.begin() as conn:
        store.ensure_source(conn, "district-stats", kind="file")
    rows = [
        {
            "subject_type": "region",
            "subject_id": "320612",
            "indicator": indicator,
            "period": str(year),
            "value": value,
            "raw_value": str(value),
            "raw_unit": "",
        }
        for indicator, series in (
            ("hightech_firms", {2020: 180.0, 2023: 260.0}),
            ("rd_spending", {2020: 20.0, 2023: 26.62}),
        )
        for year, value in series.items()
    ]
    store.upsert_observations(collect_engine, pd.DataFrame(rows), source_id="district-stats")
    city = {p.goal: p for p in views.goal_progress(collect_engine, config_dir, year=2023)}
    mine = {
        p.goal: p
        for p in views.goal_progress(collect_engine, config_dir, year=2023, district="320612")
    }
    firms = mine["hightech-firms"]
    # 260 firms in one district are not measured against the city's 3,600
    assert firms.status == goals.NO_TARGET and firms.ratio is None
    assert firms.latest == 260 and firms.target_text("zh") == "—"
    assert city["hightech-firms"].status == goals.NO_DATA  # the city has no figures of its own
    growth = mine["rd-growth"]
    assert growth.status == goals.NO_TARGET
    assert growth.latest_text("zh") == "26.62（年均增长 10.0%）"
    assert growth.latest_text("en") == "26.62 (10.0% a year)"
    # the growth target reads as a rate, never as a level beside the spending
    assert city["rd-growth"].target_text("zh") == "年均增长 ≥ 8%"
    share = mine["new-provincial-carriers"]
    assert share.target == 5 and share.illustrative  # its own (illustrative) share of +30
    assert "new-provincial-carriers" in city and not city["new-provincial-carriers"].illustrative
    assert "hightech-zone-top40" not in mine  # a city ranking has no district reading


def test_a_goal_may_name_its_indicator_in_the_plans_words(tmp_path, config_dir):
    import shutil

    copy = tmp_path / "config"
    shutil.copytree(config_dir, copy)
    path = copy / "goals.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'indicator = "hightech_output_share"', 'indicator = "高新技术产业产值占工业产值比重"'
        ),
        encoding="utf-8",
    )
    specs = {g.id: g for g in goals.load_goals(copy)}
    assert specs["hightech-output-share"].indicator == "hightech_output_share"
    path.write_text(
        text.replace('indicator = "hightech_output_share"', 'indicator = "高新产值"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="indicator '高新产值' is not in indicators.toml"):
        goals.load_goals(copy)


def test_every_goal_of_the_plan_is_tracked_with_its_line(collect_engine, config_dir):
    from monitor import store, views

    specs = {g.id: g for g in goals.load_goals(config_dir)}
    for wanted in (
        "innovation-pool-firms",
        "innovative-tech-firms",
        "enterprise-rd-spending",
        "new-st-service-institutions",
        "st-service-scale",
        "venture-capital",
        "innovation-zone-employment",
        "innovation-zone-st-input",
        "innovation-consortia",
        "key-common-technologies",
        "enterprise-key-technologies",
        "innovation-products",
        "pct-applications",
        "provincial-zones-to-national",
    ):
        assert wanted in specs, wanted
    assert all("、（" in g.basis or "专栏" in g.basis for g in specs.values())
    assert dict(specs["new-provincial-carriers"].stock) == {"incubator": 67, "maker_space": 70}
    # the innovation zone's goals read the zone's own figures
    with collect_engine.begin() as conn:
        store.ensure_source(conn, "zone-office", kind="file")
    rows = [
        {
            "subject_type": "park",
            "subject_id": "NT-C01",
            "indicator": "zone_employees",
            "period": str(y),
            "value": v,
            "raw_value": str(v),
            "raw_unit": "人",
        }
        for y, v in ((2021, 9000.0), (2023, 14000.0))
    ]
    store.upsert_observations(collect_engine, pd.DataFrame(rows), source_id="zone-office")
    city = {p.goal: p for p in views.goal_progress(collect_engine, config_dir, year=2023)}
    zone = city["innovation-zone-employment"]
    assert (zone.latest, zone.latest_year, zone.scope) == (14000, 2023, "NT-C01")
    assert zone.basis.startswith("四、（三）")
    assert city["new-provincial-carriers"].numbers["stock_2020"] == {
        "incubator": 67,
        "maker_space": 70,
    }
    district = views.goal_progress(collect_engine, config_dir, year=2023, district="320613")
    assert "innovation-zone-employment" not in {p.goal for p in district}


def test_transformed_institutions_count_as_well_as_new_ones():
    """转型或新建: an institution that existed before the plan and is first recognised as a new-type
    R&D institution in the plan period counts, as does a newly founded one."""
    g = goals.GoalSpec(
        id="rd",
        kind="count",
        target=20,
        kinds=("rd_institution",),
        levels=("provincial", "national", "municipal"),
        **G,
    )
    parks = pd.DataFrame(
        {
            "id": ["OLD", "TRANSFORMED", "NEW"],
            "kind": ["rd_institution"] * 3,
            "district_id": ["320613"] * 3,
            "opened": [2012, 2008, 2023],
        }
    )
    recognitions = pd.DataFrame(
        {
            "park_id": ["OLD", "TRANSFORMED", "NEW"],
            "level": ["municipal"] * 3,
            "year": [2019, 2022, 2023],
        }
    )
    counted = goals.count_new(recognitions, parks, g)
    assert sorted(counted["park_id"]) == ["NEW", "TRANSFORMED"]
