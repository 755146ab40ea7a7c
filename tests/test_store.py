"""The store on SQLite and on the real PostgreSQL server: revisions, precedence, bulk, frames."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import Polygon

from monitor import models, store
from monitor.errors import StorageError


def _obs(values: dict[tuple[str, str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "subject_type": "park",
                "subject_id": s,
                "indicator": i,
                "period": p,
                "value": v,
                "raw_value": f"{v:g}",
                "raw_unit": "个",
            }
            for (s, i, p), v in values.items()
        ]
    )


def _source(engine, source_id="torch", precedence=100):
    with engine.begin() as conn:
        store.ensure_source(conn, source_id, kind="file", precedence=precedence)


def _count(engine) -> int:
    return store.count_rows(engine, models.Observation)


def test_same_value_twice_is_one_row(engine):
    _source(engine)
    batch = _obs({("P1", "incubatees", "2023"): 40.0, ("P2", "incubatees", "2023"): 12.0})
    first = store.upsert_observations(engine, batch, source_id="torch", run_id=1)
    second = store.upsert_observations(engine, batch, source_id="torch", run_id=2)
    assert (first.inserted, first.revised, first.unchanged) == (2, 0, 0)
    assert (second.inserted, second.revised, second.unchanged) == (0, 0, 2)
    assert _count(engine) == 2


def test_changed_value_adds_a_revision_and_keeps_the_old(engine):
    _source(engine)
    store.upsert_observations(
        engine, _obs({("P1", "incubatees", "2023"): 40.0}), source_id="torch", run_id=1
    )
    time.sleep(0.01)
    between = models.utcnow()
    time.sleep(0.01)
    result = store.upsert_observations(
        engine, _obs({("P1", "incubatees", "2023"): 43.0}), source_id="torch", run_id=2
    )
    assert (result.inserted, result.revised, result.unchanged) == (0, 1, 0)
    assert _count(engine) == 2
    current = store.observations_frame(engine)
    assert current["value"].tolist() == [43.0]
    assert current["revision"].tolist() == [2]
    history = store.observations_frame(engine, history=True)
    assert history["value"].tolist() == [40.0, 43.0]
    assert history["revision"].tolist() == [1, 2]
    # As it stood before the change, by time and by run.
    assert store.observations_frame(engine, as_of=between)["value"].tolist() == [40.0]
    assert store.observations_frame(engine, as_of_run=1)["value"].tolist() == [40.0]
    assert store.observations_frame(engine, as_of_run=2)["value"].tolist() == [43.0]
    # Changing back is a third revision, not a resurrection of the first row.
    store.upsert_observations(
        engine, _obs({("P1", "incubatees", "2023"): 40.0}), source_id="torch", run_id=3
    )
    assert store.observations_frame(engine, history=True)["revision"].tolist() == [1, 2, 3]
    assert store.observations_frame(engine)["value"].tolist() == [40.0]


def test_source_precedence_decides_the_current_value(engine):
    _source(engine, "torch", precedence=10)
    _source(engine, "district-office", precedence=50)
    fact = ("P1", "incubatees", "2023")
    store.upsert_observations(engine, _obs({fact: 41.0}), source_id="district-office", run_id=1)
    store.upsert_observations(engine, _obs({fact: 40.0}), source_id="torch", run_id=2)
    current = store.observations_frame(engine)
    assert current[["source_id", "value"]].values.tolist() == [["torch", 40.0]]
    history = store.observations_frame(engine, history=True)
    assert sorted(history["source_id"]) == ["district-office", "torch"]
    # As of run 1 only the district office had reported.
    assert store.observations_frame(engine, as_of_run=1)["source_id"].tolist() == [
        "district-office"
    ]
    # Precedence, not the order of the source ids ("a-late" sorts first), decides; and a read
    # filtered to one period and subject type fills those columns in rather than reading them.
    _source(engine, "a-late", precedence=90)
    other = ("P2", "incubatees", "2023")
    store.upsert_observations(engine, _obs({fact: 39.0, other: 7.0}), source_id="a-late", run_id=3)
    store.upsert_observations(engine, _obs({other: 8.0}), source_id="district-office", run_id=4)
    narrow = store.observations_frame(engine, periods=["2023"], subject_type="park")
    assert narrow[["subject_id", "source_id", "value"]].values.tolist() == [
        ["P1", "torch", 40.0],
        ["P2", "district-office", 8.0],
    ]
    assert narrow["period"].tolist() == ["2023", "2023"]
    assert narrow["subject_type"].tolist() == ["park", "park"]
    pd.testing.assert_frame_equal(narrow, store.observations_frame(engine))


def test_batch_is_one_transaction(engine):
    _source(engine)
    with pytest.raises(RuntimeError, match="crash"), engine.begin() as conn:
        store.upsert_observations(
            engine, _obs({("P1", "incubatees", "2023"): 1.0}), source_id="torch", conn=conn
        )
        raise RuntimeError("crash in the middle of a run")
    assert _count(engine) == 0


def test_missing_value_is_refused_not_stored(engine):
    _source(engine)
    batch = _obs({("P1", "incubatees", "2023"): 1.0, ("P2", "incubatees", "2023"): np.nan})
    with pytest.raises(StorageError, match=r"P2 incubatees 2023"):
        store.upsert_observations(engine, batch, source_id="torch")
    assert _count(engine) == 0


def test_a_batch_that_reports_a_fact_twice_is_refused_whole(engine):
    _source(engine)
    batch = pd.concat(
        [
            _obs({("P1", "incubatees", "2023"): 1.0}),
            _obs({("P1", "incubatees", "2023"): 2.0}),
            _obs({("P2", "incubatees", "2023"): 3.0}),
        ]
    )
    with pytest.raises(StorageError, match="report the same fact"):
        store.upsert_observations(engine, batch, source_id="torch")
    assert store.observations_frame(engine).empty


@pytest.mark.slow
def test_bulk_upsert_of_100k_observations(engine):
    _source(engine)
    n_parks, n_ind, n_years = 500, 40, 5
    rng = np.random.default_rng(7)
    parks = np.repeat([f"P{i:04d}" for i in range(n_parks)], n_ind * n_years)
    inds = np.tile(np.repeat([f"ind_{j:02d}" for j in range(n_ind)], n_years), n_parks)
    periods = np.tile([str(2020 + y) for y in range(n_years)], n_parks * n_ind)
    values = rng.integers(0, 10_000, size=len(parks)).astype(float)
    frame = pd.DataFrame(
        {
            "subject_type": "park",
            "subject_id": parks,
            "indicator": inds,
            "period": periods,
            "value": values,
        }
    )
    assert len(frame) == 100_000
    first = store.upsert_observations(engine, frame, source_id="torch", run_id=1)
    assert first.inserted == 100_000
    again = store.upsert_observations(engine, frame, source_id="torch", run_id=2)
    assert (again.inserted, again.revised, again.unchanged) == (0, 0, 100_000)
    changed = frame.copy()
    changed.loc[changed.index[:10], "value"] += 1.0
    third = store.upsert_observations(engine, changed, source_id="torch", run_id=3)
    assert (third.inserted, third.revised, third.unchanged) == (0, 10, 99_990)
    assert _count(engine) == 100_010
    current = store.observations_frame(engine)
    assert len(current) == 100_000
    merged = current.merge(changed, on=store.FACT_KEY, suffixes=("", "_sent"))
    assert np.array_equal(merged["value"].to_numpy(), merged["value_sent"].to_numpy())


def test_regions_and_parks_read_back_as_geoframes(engine):
    square = Polygon([(120.8, 31.9), (121.0, 31.9), (121.0, 32.1), (120.8, 32.1)])
    with engine.begin() as conn:
        store.upsert_regions(
            conn,
            [
                {
                    "id": "320613",
                    "name": "崇川区",
                    "name_en": "Chongchuan",
                    "level": "district",
                    "parent_id": "320600",
                    "geometry": shapely.to_wkb(square),
                }
            ],
        )
        store.upsert_parks(
            conn,
            [
                {
                    "id": "X1",
                    "name": "甲",
                    "kind": "incubator",
                    "level": "provincial",
                    "district_id": "320613",
                    "belt_role": "none",
                    "lon": 120.9,
                    "lat": 32.0,
                    "location_quality": "surveyed",
                    "location_crs": "wgs84",
                },
                {
                    "id": "X2",
                    "name": "乙",
                    "kind": "maker_space",
                    "level": "municipal",
                    "district_id": "320613",
                    "belt_role": "none",
                    "lon": None,
                    "lat": None,
                    "location_quality": "missing",
                    "location_crs": "",
                },
            ],
        )
    regions = store.regions_frame(engine)
    assert regions.crs.to_epsg() == 4326
    assert regions.geometry.iloc[0].equals(square)
    parks = store.parks_frame(engine)
    assert parks["id"].tolist() == ["X1", "X2"]
    assert parks.geometry.iloc[0].equals(shapely.Point(120.9, 32.0))
    assert parks.geometry.iloc[1] is None
    assert parks.within(regions.geometry.iloc[0]).tolist() == [True, False]
    assert store.parks_frame(engine, kinds=["maker_space"])["id"].tolist() == ["X2"]
    # The plain registry read: only the columns asked for (id always), enums as their text,
    # booleans as booleans whichever driver answered (SQLite hands back 0/1).
    table = store.park_table(engine, columns=["kind", "in_belt", "is_demo"])
    assert list(table.columns) == ["id", "kind", "in_belt", "is_demo"]
    assert table["kind"].tolist() == ["incubator", "maker_space"]
    assert table["in_belt"].tolist() == [False, False]
    assert all(type(v) in (bool, np.bool_) for v in table["in_belt"])
    with pytest.raises(ValueError, match="boundary"):
        store.park_table(engine, columns=["boundary"])
    # Upserting again updates in place rather than duplicating.
    with engine.begin() as conn:
        store.upsert_parks(
            conn,
            [
                {
                    "id": "X1",
                    "name": "甲（新名）",
                    "kind": "incubator",
                    "level": "national",
                    "district_id": "320613",
                    "belt_role": "none",
                    "location_quality": "surveyed",
                }
            ],
        )
    parks = store.parks_frame(engine)
    assert len(parks) == 2
    assert parks.set_index("id").loc["X1", "level"] == "national"


def test_runs_and_rejections_are_recorded(engine):
    _source(engine)
    run_id = store.start_run(engine, "torch", host="h", pid=1)
    with engine.begin() as conn:
        n = store.add_rejections(
            conn,
            run_id,
            "torch",
            [
                {
                    "location": "a.xlsx, sheet 1, row 7",
                    "field_name": "在孵企业数",
                    "value": "约50",
                    "reason": "expected a number",
                    "raw": {"名称": "甲", "在孵企业数": "约50"},
                },
            ],
        )
    store.finish_run(
        engine,
        run_id,
        status=models.RunStatus.partial,
        counts={"read": 3, "accepted": 2, "rejected": 1},
        state={"etag": "W/1"},
    )
    assert n == 1
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.T_RUN)).mappings().one()
        rej = conn.execute(sa.select(store.T_REJECTION)).mappings().one()
    assert run["status"] == models.RunStatus.partial
    assert (run["rows_read"], run["rows_accepted"], run["rows_rejected"]) == (3, 2, 1)
    assert run["state"] == '{"etag": "W/1"}'
    assert run["finished_at"] is not None
    assert rej["location"] == "a.xlsx, sheet 1, row 7"
    assert '"在孵企业数": "约50"' in rej["raw"]


def test_a_carriers_districts_follow_the_registry(engine):
    park = {
        "id": "X1",
        "name": "甲",
        "kind": "industrial_park",
        "level": "provincial",
        "district_id": "320612",
        "districts": ["320612", "320614"],
        "belt_role": "none",
        "location_quality": "approximate",
    }
    with engine.begin() as conn:
        store.upsert_parks(conn, [park, {**park, "id": "X2", "districts": []}])
    assert store.park_districts(engine) == {"X1": ["320612", "320614"], "X2": ["320612"]}
    with engine.connect() as conn:
        principal = conn.execute(
            sa.text("SELECT district_id FROM park_district WHERE principal ORDER BY park_id")
        ).scalars()
        assert list(principal) == ["320612", "320612"]
    # the registry changed: the carrier now lies in one district, registered elsewhere
    with engine.begin() as conn:
        store.upsert_parks(conn, [{**park, "district_id": "320614", "districts": ["320614"]}])
    assert store.park_districts(engine)["X1"] == ["320614"]
