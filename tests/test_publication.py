"""Publishing a year's ratings: frozen with who and when; a change needs a new publication with
its reason; both stay visible on the carrier's page; only administrators publish."""

from __future__ import annotations

import json
import re

import pytest

from monitor import accounts, db, store

PASSWORD = "a long enough password"


@pytest.fixture
def demo_db(tmp_path, copy_demo):
    path = copy_demo(tmp_path)
    engine = db.make_engine(f"sqlite:///{path}")
    for name, role in (("admin1", "admin"), ("viewer1", "viewer")):
        accounts.add_account(engine, name, role, PASSWORD, actor=accounts.Actor("test"))
    engine.dispose()
    return path


def _incubator(engine) -> dict:
    ratings = store.ratings_frame(engine, 2025)
    rated = ratings[(ratings["subject_type"] == "park") & ratings["stars"].notna()]
    return rated.sort_values("subject_id").iloc[0].to_dict()


def test_a_year_is_published_then_corrected_with_a_reason(demo_db, cli, serve_app):
    run = lambda *a, ok=True: cli("--db", str(demo_db), *a, cwd=demo_db.parent, ok=ok)  # noqa: E731
    assert "2025: publication 1" in run("publish", "2025").stderr
    again = run("publish", "2025", ok=False)
    assert "needs a reason (--reason)" in again.stderr
    same = run("publish", "2025", "--reason", "复核", ok=False)
    assert "have not changed since publication 1" in same.stderr
    assert "nothing of 1999 is rated" in run("publish", "1999", ok=False).stderr
    # a correction: one carrier's rating changes, published again with the reason
    engine = db.make_engine(f"sqlite:///{demo_db}")
    row = {k: v for k, v in _incubator(engine).items() if k != "id"}
    stars_before = int(row["stars"])
    new_stars = 1 if stars_before != 1 else 2
    store.upsert_ratings(engine, [{**row, "stars": new_stars, "score": 1.5}])
    engine.dispose()
    assert "2025: publication 2" in run("publish", "2025", "--reason", "更正在孵企业数").stderr
    listed = json.loads(run("publications", "--format", "json").stdout)
    assert [(p["year"], p["number"], p["reason"]) for p in listed] == [
        (2025, 2, "更正在孵企业数"),
        (2025, 1, ""),
    ]
    assert all(p["published_by"].startswith("cli:") for p in listed)
    with serve_app(demo_db) as client:
        detail = client.get(f"/api/parks/{row['subject_id']}").json()
        shown = [
            (p["number"], p["stars"], p["current"])
            for p in detail["published"]
            if p["year"] == 2025
        ]
        assert shown == [(2, new_stars, True), (1, stars_before, False)]
        page = client.get(f"/parks/{row['subject_id']}").text
        assert "已发布的评价" in page and "更正在孵企业数" in page and "已被更正" in page


def test_only_administrators_publish_from_the_web(demo_db, serve_app):
    def sign_in(client, name):
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})

    with serve_app(demo_db) as client:
        sign_in(client, "viewer1")
        assert client.get("/admin/publish").status_code == 403
        assert client.post("/admin/publish", data={"year": "2025"}).status_code == 403
    with serve_app(demo_db) as client:
        sign_in(client, "admin1")
        page = client.get("/admin/publish").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        done = client.post("/admin/publish", data={"csrf": csrf, "year": "2025", "reason": ""})
        assert done.status_code == 303
        assert (
            '<td class="num">2025</td><td class="num">1</td>' in client.get("/admin/publish").text
        )
        again = client.post("/admin/publish", data={"csrf": csrf, "year": "2025"})
        assert again.status_code == 409 and "再次发布须写明更正原因" in again.text
    engine = db.make_engine(f"sqlite:///{demo_db}")
    log = accounts.audit_frame(engine)
    engine.dispose()
    assert list(log[log["action"] == "publish"]["actor"]) == ["admin1"]
