"""The whole pipeline on both databases (the real PostgreSQL server included): registry, demo
data, sample collection, ratings, goals and the map payload."""

from __future__ import annotations

import pytest

from maps.page import tile_choice
from maps.region import render_region_map
from monitor import demo, evaluation, models, pipeline, store, views
from monitor.registry import load_city


@pytest.mark.slow
def test_pipeline_on_both_databases(engine, config_dir):
    pipeline.initialise(engine, config_dir)
    city = load_city(config_dir)
    geo = pipeline.city_geography(city, config_dir)
    data = demo.load_demo(engine, city, geo=geo)
    runs = demo.collect_samples(engine, config_dir)
    assert sum(r.rejected for r in runs) == 9
    assert all(r.status is models.RunStatus.partial for r in runs)
    rated = evaluation.rate_year(engine, config_dir, 2025)
    assert {r.methodology.name for r in rated} == {
        "incubator-stars",
        "maker-space-stars",
        "zone-capability",
        "district-capability",
    }
    again = evaluation.rate_year(engine, config_dir, 2025)
    assert [len(r.result.table) for r in again] == [len(r.result.table) for r in rated]
    assert store.count_rows(engine, models.Rating) == sum(len(r.result.table) for r in rated)
    progress = {p.goal: p for p in views.goal_progress(engine, config_dir)}
    assert progress["hightech-firms"].status == "achieved"
    assert progress["hightech-zone-top40"].best == 41
    parks = store.parks_frame(engine)
    assert len(parks) == 12 + len(data.parks)
    assert parks["in_belt"].sum() > 150
    page = render_region_map(views.map_data(engine, config_dir), tile_choice(None))
    assert "var DATA" in page
