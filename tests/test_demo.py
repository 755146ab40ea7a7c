"""The demo generator: deterministic, labelled, shaped like the plan's 2020 counts."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.demo import DEMO_SEED, generate_demo
from monitor.registry import load_city


@pytest.fixture(scope="module")
def data(config_dir):
    return generate_demo(load_city(config_dir))


def _open_in(parks, kind, year):
    return [
        p
        for p in parks
        if p["kind"] == kind and p["opened"] <= year and (p["closed"] is None or year < p["closed"])
    ]


def test_same_seed_same_data(config_dir, data):
    again = generate_demo(load_city(config_dir), DEMO_SEED)
    pd.testing.assert_frame_equal(data.observations, again.observations)
    assert data.parks == again.parks
    other = generate_demo(load_city(config_dir), DEMO_SEED + 1)
    assert not other.observations["value"].equals(data.observations["value"])


def test_2020_counts_follow_the_plan_and_grow(data):
    assert len(_open_in(data.parks, "incubator", 2020)) == 67
    assert len(_open_in(data.parks, "maker_space", 2020)) == 70
    assert len(_open_in(data.parks, "incubator", 2025)) > 67
    assert len(_open_in(data.parks, "maker_space", 2025)) > 70
    assert any(p["closed"] for p in data.parks)


def test_everything_is_labelled_demo(data):
    for p in data.parks:
        assert p["id"].startswith("DEMO-")
        assert p["name"].endswith("（演示）") and p["name_en"].endswith("(demo)")
        assert p["is_demo"] is True
    assert all(r["is_demo"] for r in data.recognitions)


def test_promotions_during_the_plan(data):
    new = [r for r in data.recognitions if r["level"] == "provincial" and r["year"] > 2020]
    assert 20 <= len(new) <= 35  # around the plan's +30 goal, so progress is interesting
    assert {r["year"] for r in new} == {2021, 2022, 2023, 2024, 2025}


def test_values_are_plausible_and_consistent(data):
    obs = data.observations
    assert obs["value"].notna().all() and (obs["value"] >= 0).all()
    wide = obs.pivot_table(index=["subject_id", "period"], columns="indicator", values="value")
    both = wide[["incubatees", "financed_incubatees"]].dropna()
    assert (both["financed_incubatees"] <= both["incubatees"]).all()
    both = wide[["incubatees", "incubatee_employees"]].dropna()
    assert (both["incubatee_employees"] >= both["incubatees"]).all()
    # Some figures are missing (never zero-filled): roughly 2 %.
    expected = sum(
        len(_open_in(data.parks, k, y)) for k in ("incubator", "maker_space") for y in data.years
    )
    assert expected * 20 < len(obs) < expected * 24
    assert (wide["safety_incident"] == 1).sum() >= 1


def test_every_district_has_carriers(config_dir, data):
    city = load_city(config_dir)
    assert {p["district_id"] for p in data.parks} == {d.adcode for d in city.districts}
