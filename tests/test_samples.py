"""The demo's sample sources: reproducible from the generator, and collected with exactly the
defects they were given."""

from __future__ import annotations

import filecmp

from collectors.run import collect
from monitor import db, demo, models, store


def test_samples_are_reproducible(tmp_path, config_dir):
    written = demo.write_demo_samples(config_dir, tmp_path)
    assert len(written) == 10 + 1 + 3 + 1
    bundled = config_dir / "samples"
    for path in written:
        twin = bundled / path.relative_to(tmp_path)
        assert filecmp.cmp(path, twin, shallow=False), f"{twin} is stale: run parkmon demo-samples"


def test_demo_collects_every_sample_with_its_defects(demo_build, copy_demo, tmp_path, config_dir):
    summary = demo_build
    by_source = {r.source_id: r for r in summary.runs}
    assert {k: v.rejected for k, v in by_source.items()} == {
        "demo-torch-2025": 3,
        "demo-haimen-office-2024": 3,
        "demo-stats-api": 2,
        "demo-recognitions-2025": 1,
    }
    assert all(r.status is models.RunStatus.partial for r in summary.runs)
    assert by_source["demo-haimen-office-2024"].skipped == 2  # the totals row and the note
    engine = db.make_engine(f"sqlite:///{copy_demo(tmp_path)}")
    try:
        current = store.observations_frame(engine)
        city = current[(current["subject_id"] == "320600") & (current["period"] == "2020")]
        assert city.set_index("indicator").loc["hightech_firms", "value"] == 2178
        assert (current["source_id"] == "demo-stats-api").sum() > 400
        with engine.connect() as conn:
            sources = dict(
                conn.execute(
                    store.T_SOURCE.select().with_only_columns(
                        store.T_SOURCE.c.id, store.T_SOURCE.c.is_demo
                    )
                ).all()
            )
        assert all(sources.values())  # every source of the demo is flagged as demo data
        assert store.count_rows(engine, models.Rejection) == 9
        again = demo.collect_samples(engine, config_dir)
        assert all(r.not_modified for r in again)  # a second collection costs nothing
        # Read again regardless: every recognition is reported unchanged, none as new.
        with demo.sample_sources(config_dir) as specs:
            listed = next(s for s in specs if s.records == "recognitions")
            forced = collect(engine, listed, force=True)
        assert (forced.accepted, forced.unchanged) == (0, 6)
    finally:
        engine.dispose()
