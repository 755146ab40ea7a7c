"""The rating engine against cases worked out by hand, and the next-star answer as a property."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ConfigError, RatingError
from monitor.rating import load_methodology, score
from monitor.rating.engine import loo_median
from monitor.rating.explain import explain
from monitor.rating.methodology import parse_methodology
from monitor.rating.nextstar import next_star_frame, targets
from monitor.rating.stability import stability

SMALL = {
    "name": "small",
    "version": "1",
    "group": [{"id": "A", "points": 50}, {"id": "B", "points": 40}],
    "item": [
        # a1 and a2 can give 60 points, but group A is capped at 50.
        {
            "id": "a1",
            "group": "A",
            "indicator": "x",
            "rule": "linear",
            "floor": 0,
            "cap": 10,
            "points": 40,
        },
        {
            "id": "a2",
            "group": "A",
            "indicator": "y",
            "rule": "tiers",
            "points": 20,
            "tiers": [[5, 10], [10, 20]],
        },
        {
            "id": "b1",
            "group": "B",
            "numerator": "n",
            "denominator": "d",
            "rule": "linear",
            "floor": 0,
            "cap": 0.5,
            "points": 40,
        },
    ],
    "bonus": {"cap": 5, "item": [{"id": "z", "indicator": "z", "rule": "yes_no", "points": 8}]},
    "veto": [{"id": "v", "indicator": "v"}],
    "min_completeness": 0.5,
    "stars": [
        {"stars": 3, "min_score": 80, "top_share": 0.4},
        {"stars": 2, "min_score": 50},
        {"stars": 1, "min_score": 0},
    ],
}

VALUES = pd.DataFrame(
    [
        # x,  y,     n,   d,   z,   v
        [10, 12, 1.0, 2.0, 1.0, 0.0],  # P1
        [5, 7, 1.0, 4.0, np.nan, 0.0],  # P2
        [8, np.nan, 2.0, 5.0, 0.0, 0.0],  # P3: y missing
        [10, 10, 1.0, 2.0, 0.0, 1.0],  # P4: vetoed
        [np.nan, np.nan, 0.0, 1.0, 0.0, 0.0],  # P5: too little data
        [10, 10, 2.0, 5.0, 0.0, 0.0],  # P6: ≥ 80 points but not in the top 40 %
    ],
    index=["P1", "P2", "P3", "P4", "P5", "P6"],
    columns=["x", "y", "n", "d", "z", "v"],
)


@pytest.fixture
def small():
    return parse_methodology(SMALL, "small.toml")


def test_scores_stars_and_ranks_worked_out_by_hand(small):
    t = score(VALUES, small).table
    # P1: a1 40 + a2 20 = 60 → capped 50; b1 0.5/0.5 → 40; bonus 8 → capped 5.  = 95
    # P2: a1 20 + a2 10 = 30; b1 0.25 → 20; bonus: z missing → 0.              = 50
    # P3: a1 32 + a2 missing (0) = 32; b1 0.4 → 32.                             = 64
    # P4: 50 + 40 = 90 but vetoed; P5: completeness 40/100 < 0.5
    # P6: 50 + 32 = 82
    assert t["score"].round(6).tolist() == [95, 50, 64, 90, 0, 82]
    assert t["status"].tolist() == ["rated", "rated", "rated", "vetoed", "incomplete", "rated"]
    # Ranks among the four rated: P1 95, P6 82, P3 64, P2 50.
    assert t.loc[["P1", "P6", "P3", "P2"], "rank"].tolist() == [1, 2, 3, 4]
    assert t.loc["P1", "peer_size"] == 4
    # 3★ needs ≥ 80 AND rank ≤ 0.4 × 4 = 1.6: P1 yes; P6 (82) only rank 2 → 2★.
    assert t.loc[["P1", "P6", "P3", "P2"], "stars"].tolist() == [3, 2, 2, 2]
    assert t.loc["P4", "stars"] == 0  # 一票否决
    assert math.isnan(t.loc["P5", "stars"])
    assert t.loc["P3", "completeness"] == pytest.approx(0.8)
    assert t.loc["P1", "g_A"] == 50  # the cap
    assert t.loc["P1", "bonus"] == 5  # the bonus cap


def test_missing_treatment_peer_median(small):
    t = score(VALUES, small, missing="peer_median").table
    # P3's missing y is filled with the median of the others' y (12, 7, 10, 10) = 10 → 20 points;
    # group A: 32 + 20 = 52, capped at 50; plus b1 32.
    assert t.loc["P3", "score"] == pytest.approx(50 + 32)


def test_changing_a_weight_changes_the_hash(small):
    changed = {**SMALL, "item": [dict(SMALL["item"][0], points=39), *SMALL["item"][1:]]}
    assert parse_methodology(changed, "x").content_hash != small.content_hash
    assert parse_methodology(SMALL, "again").content_hash == small.content_hash


# The content hash is stored with every rating: a change of the loader (not of a file) must never
# change it, or every stored rating would look as if its methodology had changed.
SHIPPED_HASHES = {
    "district.toml": "946eb1f3d855f448bf9d759e866879c2bcee2d191d8e80eabe1cb8777c563a5d",
    "incubator.toml": "63d796a2c5b743aa1551a119ede7d86bd8655e4636ff9c15e2557a38219a47d6",
    "maker_space.toml": "670529a888a0d0ba0fcb6bc8450b337cf21519e8f20d6b051b689a6ea89ec915",
    "zone.toml": "45799bb0b91da101488093c9b5132b9e77c194a7d9abb635df4b664e95189e32",
}


@pytest.mark.parametrize("name", sorted(SHIPPED_HASHES))
def test_shipped_methodology_hashes_are_stable(name):
    path = Path(__file__).resolve().parents[1] / "config" / "ratings" / name
    assert load_methodology(path).content_hash == SHIPPED_HASHES[name]


def test_methodology_errors_name_the_problem():
    bad = {**SMALL, "item": [dict(SMALL["item"][0], rule="log")]}
    with pytest.raises(
        ConfigError, match=r"m.toml: item\[0\].rule = 'log'; expected one of 'linear'"
    ):
        parse_methodology(bad, "m.toml")
    bad = {**SMALL, "item": [dict(SMALL["item"][1], tiers=[[10, 10], [5, 20]])]}
    with pytest.raises(RatingError, match="rising thresholds"):
        parse_methodology(bad, "m.toml")


def test_leave_one_out_median():
    x = np.array([1.0, 5.0, 3.0, np.nan, 9.0, 2.0, 4.0])
    g = np.array(["a", "a", "a", "a", "a", "b", "b"], dtype=object)
    got = loo_median(x, g)
    for i in range(len(x)):
        others = [v for j, v in enumerate(x) if j != i and g[j] == g[i] and not np.isnan(v)]
        assert got[i] == pytest.approx(np.median(others))


def test_explanation_and_next_star(small):
    res = score(VALUES, small)
    ex = explain(res, "P2", VALUES, {"x": "个"}, verify=True)
    assert ex.target_stars == 3
    assert ex.target_score == 95  # must overtake P1 (rank ≤ 1.6 of 4)
    by_item = {o.item: o for o in ex.options}
    assert not by_item["a1"].reachable  # +45 points cannot come from a 40-point item
    gap = {g.item: g.lost for g in ex.gaps}
    assert gap == {"a1": 20, "a2": 10, "b1": 20}


def test_next_star_when_reachable(small):
    res = score(VALUES, small)
    ex = explain(res, "P3", VALUES, verify=True)
    # P3 has 64 and 2★; 3★ needs 95 (P1's score, to rank first): from group A (room 18) no;
    # from b1 (room 8 of 40 group points) no → unreachable alone.
    assert ex.target_score == 95
    assert not any(o.reachable for o in ex.options)
    # Absolute target: P2 (50, 2★) → 3★ needs ≥ 80 and rank 1; nothing alone; but with a 2-band
    # methodology the answer is an exact value:
    simple = parse_methodology(
        {**SMALL, "stars": [{"stars": 2, "min_score": 60}, {"stars": 1, "min_score": 0}]}, "s"
    )
    ex = explain(score(VALUES, simple), "P2", VALUES, {"x": "个"}, verify=True)
    by_item = {o.item: o for o in ex.options}
    # needs +10 points: a1 goes from 20 to 30 points → x from 5 to 7.5 → 8 (a count)
    assert by_item["a1"].needed == 8
    assert by_item["b1"].needed == pytest.approx(1.5)  # b1 20 → 30 points: n/d 0.375 → n 1.5


INCUBATOR_COLUMNS = [
    "mentors",
    "events",
    "incubation_fund",
    "incubation_area",
    "service_staff",
    "incubatees",
    "new_incubatees",
    "graduated_this_year",
    "financed_incubatees",
    "incubatee_revenue",
    "incubatee_rd_spending",
    "ip_granted",
    "new_hightech_firms",
    "carrier_revenue",
    "carrier_service_revenue",
    "incubatee_employees",
    "invention_patents",
    "financing_total",
]


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=4, max_value=12))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    data = {c: rng.lognormal(3, 1.2, size=n).round(1) for c in INCUBATOR_COLUMNS}
    frame = pd.DataFrame(data, index=[f"P{i}" for i in range(n)])
    frame["incubatee_employees"] = frame["incubatees"] * 10
    holes = rng.random(frame.shape) < 0.05
    return frame.mask(holes)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_next_star_answer_really_reaches_the_next_star(config_dir, values):
    meth = load_methodology(config_dir / "ratings" / "incubator.toml")
    res = score(values, meth)
    for subject in values.index:
        # verify=True, as the CLI and the report call it: a carrier's new figure also moves
        # its peers' medians, and only a full re-rating can promise the star
        ex = explain(res, subject, values, verify=True)
        for option in ex.options:
            if not option.reachable:
                continue
            changed = values.copy()
            changed.loc[subject, option.indicator] = option.needed
            after = score(changed, meth).table.loc[subject]
            assert after["stars"] >= ex.target_stars, (subject, option)


def test_stability_reports_probabilities(small):
    out = stability(VALUES, small, draws=200)
    probs = out[["p_1_stars", "p_2_stars", "p_3_stars"]]
    rated = ["P1", "P2", "P3", "P6"]
    assert np.allclose(probs.loc[rated].sum(axis=1), 1.0)
    assert out.loc["P1", "p_3_stars"] > 0.5
    assert out.loc["P1", "rank_p05"] == 1
    assert out.loc[["P4", "P5"], "p_3_stars"].isna().all()


def test_a_carrier_without_peers_is_not_comparable_on_peer_items():
    spec = {
        "name": "peers",
        "version": "1",
        "peer_by": ["kind", "level"],
        "group": [{"id": "A", "points": 60}],
        "item": [
            {
                "id": "p",
                "group": "A",
                "indicator": "x",
                "rule": "peer_ratio",
                "cap": 1.5,
                "points": 30,
            },
            {
                "id": "l",
                "group": "A",
                "indicator": "y",
                "rule": "linear",
                "floor": 0,
                "cap": 10,
                "points": 30,
            },
        ],
        "min_completeness": 0.5,
        "stars": [{"stars": 2, "min_score": 50}, {"stars": 1, "min_score": 0}],
    }
    meth = parse_methodology(spec, "peers.toml")
    values = pd.DataFrame(
        {"x": [10.0, 10.0, 10.0, 1.0], "y": [5.0, 5.0, 5.0, 5.0]},
        index=["N1", "P1", "P2", "ALONE"],
    )
    peers = pd.DataFrame(
        {
            "kind": ["incubator"] * 4,
            "level": ["national", "provincial", "provincial", "municipal"],
        },
        index=values.index,
    )
    result = score(values, meth, peers=peers)
    t = result.table
    # P1 and P2 compare with each other: ratio 1 → 30/1.5 = 20 points, + 15 linear = 35
    assert t.loc["P1", "score"] == pytest.approx(35)
    # N1 and ALONE have nobody of their kind and level: the peer item is not comparable, earns
    # nothing by default, and the group's comparable item is scaled to the group: 15 × 60/30
    for alone in ("N1", "ALONE"):
        assert t.loc[alone, "not_comparable"] == 1
        assert math.isnan(result.points.loc[alone, "p"])
        assert t.loc[alone, "score"] == pytest.approx(30)
    # ALONE's tiny value would have earned full points against an empty peer group before
    assert t.loc["ALONE", "score"] < 60


def test_reaching_a_peers_shown_score_is_a_tie_not_a_lost_rank(config_dir):
    """Found by the property test above: raising a fund to the figure explain() gave brought a
    carrier to the leader's score as shown (75.543103) but a hair below it in the sixteenth
    digit, so it ranked second and missed the star. Ranks are decided on the shown score."""
    rng = np.random.default_rng(379)
    data = {c: rng.lognormal(3, 1.2, size=7).round(1) for c in INCUBATOR_COLUMNS}
    values = pd.DataFrame(data, index=[f"P{i}" for i in range(7)])
    values["incubatee_employees"] = values["incubatees"] * 10
    values = values.mask(rng.random(values.shape) < 0.05)
    meth = load_methodology(config_dir / "ratings" / "incubator.toml")
    res = score(values, meth)
    ex = explain(res, "P3", values)
    option = next(o for o in ex.options if o.item == "fund")
    assert option.reachable and ex.target_stars == 4
    changed = values.copy()
    changed.loc["P3", option.indicator] = option.needed
    after = score(changed, meth).table
    assert after.loc["P3", "score"] == after.loc["P6", "score"]  # the same shown score …
    assert after.loc["P3", "rank"] == after.loc["P6", "rank"] == 1  # … is the same rank
    assert after.loc["P3", "stars"] == 4


def _explained(res, values, units=None):
    rows = []
    for subject in res.table.index.intersection(values.index):
        for option in explain(res, str(subject), values, units).options:
            if option.reachable:
                rows.append((str(subject), option.item, option.indicator, option.needed))
    return sorted(rows)


@pytest.mark.parametrize("seed", [7, 379, 2024])
def test_next_star_for_all_carriers_at_once_is_explain_for_each(config_dir, seed):
    """The vectorised answer (reports of 20,000 carriers) is the per-carrier one, item by item."""
    rng = np.random.default_rng(seed)
    n = 40
    data = {c: rng.lognormal(3, 1.2, size=n).round(1) for c in INCUBATOR_COLUMNS}
    values = pd.DataFrame(data, index=[f"P{i}" for i in range(n)])
    values["incubatee_employees"] = values["incubatees"] * 10
    values = values.mask(rng.random(values.shape) < 0.05)
    peers = pd.DataFrame({"level": rng.choice(["national", "provincial"], size=n)}, values.index)
    meth = load_methodology(config_dir / "ratings" / "incubator.toml")
    meth = dataclasses.replace(meth, peer_by=("level",))
    res = score(values, meth, peers=peers)
    units = {"incubatees": "家", "ip_granted": "件"}
    frame = next_star_frame(res, values, units)
    got = sorted((r.subject, r.item, r.indicator, r.needed) for r in frame.itertuples(index=False))
    assert got == _explained(res, values, units)
    assert len(got) > 10  # the case is not empty


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_verified_next_star_answers_of_the_report_reach_the_star(config_dir, values):
    meth = load_methodology(config_dir / "ratings" / "incubator.toml")
    res = score(values, meth)
    goal = targets(res)
    frame = next_star_frame(res, values, verify=3)
    for subject, rows in frame.groupby("subject"):
        for row in rows.head(3).itertuples(index=False):
            changed = values.copy()
            changed.loc[subject, row.indicator] = row.needed
            after = score(changed, meth).table.loc[subject]
            assert after["stars"] >= goal.loc[subject, "target_stars"], (subject, row)
