"""Every input path is safe to open to a hundred park offices: conflicts, aliases, runs,
formula injection, bounded reading, one bad file among good ones, deadlines, confinement and
secrets — each on real files, a real SQLite database and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from test_collect_http import Server

from collectors.names import SubjectResolver
from collectors.run import check_aliases, collect, short_error
from collectors.secrets import redact_url
from collectors.sources import load_sources, parse_source
from monitor import db, models, pipeline, runs, safe_io, store
from monitor.errors import ConfigError

HOSTILE = ['=HYPERLINK("http://x.invalid","a")', "=cmd|' /C calc'!A0", "@SUM(A1)", "+1+2"]


def _file_spec(tmp_path: Path, **overrides):
    item = {
        "id": "office",
        "collector": "file",
        "location": "in/*.csv",
        "subject": {"column": "载体名称"},
        "period": "2024",
        "columns": {"在孵企业数": "incubatees", "在孵企业从业人员": "incubatee_employees"},
    }
    item.update(overrides)
    return parse_source(item, 1, tmp_path / "sources.toml")


def _csv(tmp_path: Path, name: str, rows: list[list[object]], folder: str = "in") -> Path:
    target = tmp_path / folder
    target.mkdir(exist_ok=True)
    path = target / name
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["载体名称", "在孵企业数", "在孵企业从业人员"], *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _current(engine):
    return store.observations_frame(engine).set_index(["subject_id", "indicator"])["value"]


# --- data loss ----------------------------------------------------------------------------


def test_a_fact_reported_twice_through_an_alias_is_held_not_a_revision(collect_engine, tmp_path):
    path = _csv(tmp_path, "a.csv", [["甲孵化器", 40, 400], ["乙孵化器", 12, 100]])
    spec = _file_spec(tmp_path)
    assert collect(collect_engine, spec).status is models.RunStatus.ok
    before = store.count_rows(collect_engine, models.Observation)
    # The same carrier again, by its registered alias, with other numbers: a conflict.
    path.write_text(
        "载体名称,在孵企业数,在孵企业从业人员\n甲孵化器,50,500\n甲科技企业孵化器,60,600\n"
        "乙孵化器,13,100\n",
        encoding="utf-8",
    )
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.partial
    assert result.revised == 1  # only 乙孵化器's changed figure
    values = _current(collect_engine)
    assert values[("T-I01", "incubatees")] == 40  # untouched: neither conflicting row won
    assert values[("T-I02", "incubatees")] == 13
    assert store.count_rows(collect_engine, models.Observation) == before + 1
    with collect_engine.connect() as conn:
        revisions = conn.execute(
            sa.select(sa.func.max(store.T_OBS.c.revision)).where(
                store.T_OBS.c.subject_id == "T-I01"
            )
        ).scalar_one()
    assert revisions == 1
    rejects = store.rejections_frame(collect_engine)
    assert set(rejects["location"]) == {"a.csv, row 2", "a.csv, row 3"}
    row2 = rejects.set_index("location").loc["a.csv, row 2"]
    assert "a.csv, row 3: '60'" in row2["reason"] and "'50' here" in row2["reason"]
    assert '"载体名称": "甲孵化器"' in row2["raw"]


def test_a_fact_reported_in_two_files_of_one_run_is_held_in_both(collect_engine, tmp_path):
    """A run writes file by file; a fact two files report is still found and held in both."""
    _csv(tmp_path, "a.csv", [["甲孵化器", 40, 400], ["乙孵化器", 12, 100]])
    _csv(tmp_path, "b.csv", [["甲科技企业孵化器", 41, 400]])  # 甲 by its alias, another count
    result = collect(collect_engine, _file_spec(tmp_path))
    assert result.status is models.RunStatus.partial
    values = _current(collect_engine)
    # both rows held whole (neither file's count won), the other carrier's row landed
    assert "T-I01" not in set(values.index.get_level_values(0))
    assert values[("T-I02", "incubatees")] == 12
    rejects = store.rejections_frame(collect_engine)
    assert set(rejects["location"]) == {"a.csv, row 2", "b.csv, row 2"}
    assert "b.csv, row 2: '41'" in rejects.set_index("location").loc["a.csv, row 2", "reason"]


def test_an_alias_to_an_unknown_id_is_refused_with_near_ids(collect_engine, tmp_path):
    _csv(tmp_path, "a.csv", [["旧名称", 1, 10]])
    spec = _file_spec(tmp_path, aliases={"旧名称": "T-I09"})
    with pytest.raises(ConfigError) as info:
        check_aliases(collect_engine, [spec])
    message = str(info.value)
    assert "sources.toml" in message and "aliases.旧名称 = 'T-I09'" in message
    assert "T-I01" in message  # the nearest ids are named
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.failed
    assert store.count_rows(collect_engine, models.Observation) == 0


def test_a_full_name_hints_the_carrier_it_expands_first(collect_engine):
    resolver = SubjectResolver(store.subject_rows(collect_engine, "park"))
    assert resolver.resolve("江苏如皋高新技术产业开发区", "auto") == "NT-Z03"  # registered
    assert resolver.resolve("南通经开区", "auto") == "NT-P01"
    for spelling, expected in (
        ("如皋市高新技术产业开发区", "NT-Z03"),
        ("江苏省海安市高新技术产业开发区", "NT-Z02"),
        ("南通市高新区", "NT-Z01"),
    ):
        assert resolver.resolve(spelling, "auto") is None
        assert resolver.near(spelling)[0].endswith(f"({expected})"), resolver.near(spelling)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_runs_of_dead_processes_are_marked_interrupted_by_the_next_writer(collect_engine):
    stale = store.start_run(collect_engine, "office", host=socket.gethostname(), pid=_dead_pid())
    run_id = runs.start_run(collect_engine, "other")  # any writer
    status = store.runs_frame(collect_engine).set_index("id")["status"]
    assert status[stale] == "interrupted"
    assert status[run_id] == "running"
    # every write command opens the store through db.open_existing, which does the same
    later = store.start_run(collect_engine, "office", host=socket.gethostname(), pid=_dead_pid())
    db.open_existing(str(collect_engine.url)).dispose()
    assert store.runs_frame(collect_engine).set_index("id")["status"][later] == "interrupted"


def test_a_second_collection_of_the_same_source_stops_with_one_line(collect_engine, tmp_path):
    _csv(tmp_path, "a.csv", [["甲孵化器", 40, 400]])
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = socket.gethostname()
        held = store.start_run(collect_engine, "office", host=host, pid=holder.pid)
        result = collect(collect_engine, _file_spec(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert result.status is models.RunStatus.failed
    assert result.error == (
        f"another collection of source office is running on {host}:{holder.pid} "
        f"(run {held}); this one did not start"
    )
    frame = store.runs_frame(collect_engine)
    assert list(frame["id"]) == [held]  # the loser left no run behind
    assert store.count_rows(collect_engine, models.Observation) == 0


def test_database_errors_are_stored_as_one_line_without_sql():
    from sqlalchemy.exc import IntegrityError

    exc = IntegrityError("INSERT INTO observation (a, b) VALUES (?, ?)" * 200, [1, 2], Exception())
    message = short_error(exc)
    assert "INSERT" not in message and "\n" not in message and len(message) < 200


# --- nothing executable in what people open ------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_neutralised_and_numbers_stay_numbers(text, tmp_path):
    assert safe_io.csv_cell(text) == "'" + text
    for number in ("-12.5", "+3", "1,234.5", "-1e-3", "12%"):
        assert safe_io.csv_cell(number) == number
    book = openpyxl.Workbook()
    ws = book.active
    ws.cell(1, 1, text)
    ws.cell(1, 2, -12.5)
    safe_io.save_workbook(book, tmp_path / "x.xlsx")
    with zipfile.ZipFile(tmp_path / "x.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula element anywhere
    back = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert back["A1"].value == text and back["A1"].data_type == "s" and back["A1"].quotePrefix
    assert back["B1"].value == -12.5


def _cli(*args: str) -> Any:
    """The command line in-process (no interpreter start-up): exit_code, stdout, stderr."""
    from typer.testing import CliRunner

    from monitor.cli import app

    return CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))


def test_hostile_names_reach_no_output_as_formulas(collect_engine, tmp_path):
    """Names from the registry, a park office's file and a published HTML list, through the
    CSV of parks, the rejections CSV and the template workbook."""
    from monitor import pipeline
    from monitor.settings import bundled_config_dir

    config = tmp_path / "config"
    shutil.copytree(bundled_config_dir(), config)
    with (config / "parks.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for i, name in enumerate(HOSTILE):
            writer.writerow(
                [
                    f"T-X{i}",
                    name,
                    "",
                    "",
                    "",
                    "incubator",
                    "municipal",
                    "崇川区",
                    "none",
                    "",
                    "120.9",
                    "32.0",
                    "wgs84",
                    "approximate",
                    "",
                    "",
                    "",
                ]
            )
    pipeline.initialise(collect_engine, config)  # the registry, as `parkmon init` loads it
    _csv(tmp_path, "a.csv", [["=cmd|' /C calc'!B9", 5, 50], ["甲孵化器", HOSTILE[3], 10]])
    collect(collect_engine, _file_spec(tmp_path))
    html = tmp_path / "page"
    html.mkdir()
    (html / "list.html").write_text(
        "<table><tr><th>载体名称</th><th>级别</th></tr><tr><td>@SUM(A2)</td>"
        "<td>省级</td></tr></table>",
        encoding="utf-8",
    )
    web = parse_source(
        {
            "id": "list",
            "collector": "html_table",
            "records": "recognitions",
            "location": "page/list.html",
            "fields": {"name": "载体名称", "level": "级别"},
            "year": 2025,
        },
        2,
        tmp_path / "sources.toml",
    )
    assert collect(collect_engine, web).rejected == 1
    db_url = str(collect_engine.url)
    parks = _cli("--db", db_url, "parks", "list", "--format", "csv")
    assert parks.exit_code == 0, parks.output
    rejects_csv = tmp_path / "rejects.csv"
    rejected = _cli("--db", db_url, "rejects", "--csv", str(rejects_csv))
    assert rejected.exit_code == 0, rejected.output
    template = tmp_path / "t.xlsx"
    made = _cli(
        "--db",
        db_url,
        "template",
        "xlsx",
        "--kind",
        "incubator",
        "--out",
        str(template),
    )
    assert made.exit_code == 0, made.output
    texts = [parks.stdout, rejects_csv.read_text(encoding="utf-8-sig")]
    for text in texts:
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not safe_io.is_formula_like(cell), cell
    assert "'=HYPERLINK" in parks.stdout
    for neutralised in ("'@SUM(A2)", "'=cmd|' /C calc'!B9", "'+1+2"):
        assert neutralised in texts[1]
    with zipfile.ZipFile(template) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode()
    names = [c.value for c in openpyxl.load_workbook(template).active["A"] if c.value]
    assert HOSTILE[0] in names


# --- bounded reading, one bad file among good ones -----------------------------------------


def _xlsx_with_dimension(path: Path, dimension: str, far_cell: str | None = None) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["载体名称", "在孵企业数", "在孵企业从业人员"])
    ws.append(["甲孵化器", 40, 400])
    if far_cell:
        ws[far_cell] = 1
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                )
            target.writestr(info.filename, data)


def test_a_declared_sheet_dimension_is_never_trusted(collect_engine, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _xlsx_with_dimension(folder / "a.xlsx", "A1:XFD1048576")
    assert (folder / "a.xlsx").stat().st_size < 10_000
    result = collect(collect_engine, _file_spec(tmp_path, location="in/*.xlsx"))
    assert result.status is models.RunStatus.ok
    assert _current(collect_engine)[("T-I01", "incubatees")] == 40
    _xlsx_with_dimension(folder / "b.xlsx", "A1:B2", far_cell="XFD2")
    again = collect(collect_engine, _file_spec(tmp_path, location="in/b.xlsx"))
    assert again.status is models.RunStatus.failed
    assert "16,384 columns; at most 1,000 (max_columns)" in again.error
    # One cell in the last row: rows stream in and stop at max_rows, without padding.
    _xlsx_with_dimension(folder / "c.xlsx", "A1:XFD1048576", far_cell="A1048576")
    assert (folder / "c.xlsx").stat().st_size < 10_000
    last = collect(collect_engine, _file_spec(tmp_path, location="in/c.xlsx"))
    assert last.status is models.RunStatus.failed
    assert "more than 200,000 rows (max_rows); stopped reading" in last.error


def test_one_bad_file_is_quarantined_and_the_good_ones_land(collect_engine, tmp_path):
    _csv(tmp_path, "good.csv", [["甲孵化器", 40, 400]])
    (tmp_path / "in" / "big.csv").write_bytes(b"x" * 5000)
    (tmp_path / "in" / "latin.csv").write_bytes("载体名称,在孵企业数\n乙孵化器,5\n".encode("gbk"))
    (tmp_path / "in" / "long.csv").write_text("a," * 600_000, encoding="utf-8")
    (tmp_path / "in" / "rows.csv").write_text("载体名称\n" + "x\n" * 300, encoding="utf-8")
    spec = _file_spec(tmp_path, encoding="utf-8", max_bytes=2_000_000, max_rows=100)
    (tmp_path / "in" / "big.csv").write_bytes(b"x" * 2_000_001)
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.partial
    assert _current(collect_engine)[("T-I01", "incubatees")] == 40
    reasons = dict(
        zip(
            store.rejections_frame(collect_engine)["value"],
            store.rejections_frame(collect_engine)["reason"],
            strict=True,
        )
    )
    assert "2,000,001 bytes exceed the limit of 2,000,000" in reasons["big.csv"]
    assert "cannot decode as utf-8" in reasons["latin.csv"]
    assert "line 1 is longer than 1,048,576 characters" in reasons["long.csv"]
    assert "more than 100 rows (max_rows)" in reasons["rows.csv"]


def test_files_stay_inside_the_config_folder(collect_engine, tmp_path):
    for location, expected in (
        ("/etc/*.csv", "is absolute"),
        ("../outside/*.csv", "climbs out with '..'"),
        ("in/../../x.csv", "climbs out with '..'"),
    ):
        with pytest.raises(ConfigError, match=re.escape(expected)):
            _file_spec(tmp_path, location=location)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    _csv(outside, "a.csv", [["甲孵化器", 1, 10]], folder=".")
    os.symlink(outside, tmp_path / "linked")
    result = collect(collect_engine, _file_spec(tmp_path, location="linked/*.csv"))
    assert result.status is models.RunStatus.failed
    assert "leads outside" in result.error
    # data_root, set at the top of sources.toml, is the explicit way to read another folder.
    (tmp_path / "sources.toml").write_text(
        f'data_root = "{outside}"\n[[source]]\nid = "office"\ncollector = "file"\n'
        'location = "*.csv"\nperiod = "2024"\nsubject = "载体名称"\n'
        '[source.columns]\n"在孵企业数" = "incubatees"\n',
        encoding="utf-8",
    )
    (spec,) = load_sources(tmp_path)
    assert collect(collect_engine, spec).status is models.RunStatus.ok


# --- HTTP: deadlines, repeating pages, secrets ---------------------------------------------


class Hostile(Server):
    def route_drip(self, h, q, n):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        try:
            for _ in range(1000):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    def route_same(self, h, q, n):
        h.reply(200, self.json_body({"rows": [{"name": "甲孵化器", "year": 2024}]}))

    def route_loop(self, h, q, n):
        h.reply(200, self.json_body({"rows": [{"name": "甲孵化器", "n": n}], "next": "abc"}))


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.stop()


def _api(url: str, tmp_path: Path, **overrides):
    item = {
        "id": "api",
        "collector": "json_api",
        "location": url,
        "items": "rows",
        "subject": {"column": "name"},
        "period": "2024",
        "columns": {"stats.incubatees": "incubatees"},
        "retries": 0,
    }
    item.update(overrides)
    return parse_source(item, 1, tmp_path / "sources.toml")


@pytest.mark.slow
def test_a_dripping_server_meets_the_deadline(collect_engine, tmp_path, hostile):
    spec = _api(hostile.url + "/drip", tmp_path, timeout_s=5, deadline_s=1)
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.failed
    assert "no complete response within 1 s (deadline_s)" in result.error
    run_spec = _api(hostile.url + "/drip", tmp_path, timeout_s=5, run_deadline_s=1, retries=3)
    again = collect(collect_engine, run_spec)
    assert "(run_deadline_s)" in again.error
    assert again.requests == 1  # no retry once the run's deadline has passed


@pytest.mark.parametrize(
    ("path", "pagination", "expected"),
    [
        ("/same", {"style": "page", "param": "page"}, "page 2 repeats page 1 byte for byte"),
        ("/loop", {"style": "cursor", "param": "cursor"}, "returned the cursor 'abc' again"),
    ],
)
def test_a_repeating_page_or_cursor_stops(
    collect_engine, tmp_path, hostile, path, pagination, expected
):
    spec = _api(hostile.url + path, tmp_path, pagination=pagination)
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.failed
    assert expected in result.error
    assert hostile.hits[path] == 2


def test_secrets_only_by_reference_and_urls_redacted(tmp_path, monkeypatch):
    base = "http://127.0.0.1:9/api"
    for overrides, expected in (
        (
            {"headers": {"Authorization": "Bearer s3cret"}},
            "headers.Authorization is written inline",
        ),
        ({"headers": {"X-Api-Key": "s3cret"}}, "headers.X-Api-Key is written inline"),
        ({"location": base + "?token=s3cret"}, "the query parameter 'token'"),
        ({"location": base + "?page=1&access_token=s3cret"}, "'access_token'"),
        ({"location": base + "?key=s3cret"}, "the query parameter 'key'"),
        ({"location": "http://user:s3cret@127.0.0.1:9/api"}, "a user name or password"),
    ):
        with pytest.raises(ConfigError) as info:
            _api(base, tmp_path, **overrides)
        assert expected in str(info.value)
        assert "s3cret" not in str(info.value)
    spec = _api(
        base,
        tmp_path,
        headers={"X-Api-Key": {"$env": "PARKMON_TEST_KEY"}, "Accept": "application/json"},
    )
    monkeypatch.setenv("PARKMON_TEST_KEY", "k1")
    assert spec.request_headers() == {"Accept": "application/json", "X-Api-Key": "k1"}
    assert redact_url("http://u:p@h/x?page=2&token=abc") == "http://h/x?page=2&token=***"


# --- clear errors for wrong-typed config values ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('header_rows = "two"', "header_rows = 'two'; expected a whole number"),
        ('precedence = "high"', "precedence = 'high'; expected a whole number"),
        ('max_bytes = "50MB"', "max_bytes = '50MB'; expected a whole number (bytes"),
        ('allowed_hosts = "127.0.0.1"', "allowed_hosts = '127.0.0.1'; expected a list of texts"),
        ("timeout_s = -1", "timeout_s = -1; expected a number above 0"),
        ('schedule = { interval_hours = "2" }', "schedule.interval_hours = '2'; expected a number"),
        ("sheet = 1.5", "sheet = 1.5; expected a sheet name or number"),
        ("subject = 3", "subject = 3; expected a column name or"),
        ('pagination = { style = "pages" }', "pagination.style = 'pages'; expected one of"),
        ('token = "abc"', 'token must be a reference {"$env" = "NAME"}'),
        ("demo = 1", "demo = 1; expected true or false"),
    ],
)
def test_wrong_typed_source_values_end_in_one_line(tmp_path, line, expected):
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "s"\ncollector = "file"\nlocation = "in/*.csv"\nperiod = "2024"\n'
        f'{line}\n[source.columns]\n"a" = "incubatees"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_sources(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "sources.toml, source #1 's'" in message and expected in message


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('id = ""\n[source.columns]\n"a" = "x"', "id = ''; expected a text that is not empty"),
        ('id = "s"\n[source.columns]\n"b" = 7', "columns.b = 7; expected a text"),
        (
            'id = "s"\n[source.columns]\n"b" = { indicatr = "x" }',
            "unknown key(s) indicatr in [columns.b]; allowed: indicator, unit",
        ),
    ],
)
def test_wrong_source_ids_and_columns_end_in_one_line(tmp_path, lines, expected):
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\ncollector = "file"\nlocation = "in/*.csv"\nperiod = "2024"\n{lines}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_sources(tmp_path)
    message = str(info.value)
    assert "\n" not in message and "sources.toml, source #1" in message
    assert expected in message


# --- a read-only database, a full disk, demo and --db ---------------------------------------


def _parkmon(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
        **kwargs,
    )


def test_a_read_only_engine_reads_and_a_write_through_it_is_one_line(collect_engine):
    from sqlalchemy.exc import OperationalError

    from monitor import db
    from monitor.cli import _environment_error

    engine = db.open_read_only(str(collect_engine.url))
    try:
        assert len(store.parks_frame(engine)) > 0
        with pytest.raises(OperationalError) as info, engine.begin() as conn:
            conn.execute(sa.delete(store.T_PARK))
    finally:
        engine.dispose()
    message = _environment_error(info.value)
    assert message is not None and message.startswith("the database is read-only")
    assert len(store.parks_frame(collect_engine)) > 0


@contextlib.contextmanager
def _tmpfs(size: str) -> Iterator[Path]:
    """A real small file system of its own (root can mount tmpfs here); skip where it cannot."""
    folder = Path(tempfile.mkdtemp(prefix="parkmon-fs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        check=False,
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()[:120]}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def _checkpoint(engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.slow
def test_read_commands_work_on_a_read_only_database_and_writes_say_so(
    collect_engine, cli, tmp_path
):
    _checkpoint(collect_engine)
    with _tmpfs("64m") as folder:
        database = folder / "parkmon.db"
        shutil.copy(Path(collect_engine.url.database), database)
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(folder)], check=False, capture_output=True
        )
        assert remount.returncode == 0, remount.stderr
        listed = cli("--db", str(database), "parks", "list", "--format", "csv", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "T-I01" in listed.stdout
        for read in (["runs"],):
            done = cli("--db", str(database), *read, cwd=tmp_path)
            assert done.returncode == 0, (read, done.stderr)
        for write in (["collect", "--samples", "--all"],):
            refused = cli("--db", str(database), *write, cwd=tmp_path, ok=False)
            assert refused.returncode == 1, (write, refused.stdout)
            assert "Traceback" not in refused.stderr
            assert "read-only" in refused.stderr, refused.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["parkmon.db"]


@pytest.mark.slow
def test_a_database_on_a_full_disk_stays_intact(collect_engine, tmp_path):
    _checkpoint(collect_engine)
    size = Path(collect_engine.url.database).stat().st_size
    with _tmpfs(f"{size // 1024 + 96}k") as folder:
        database = folder / "parkmon.db"
        shutil.copy(Path(collect_engine.url.database), database)
        copy = store.count_rows(collect_engine, models.Observation)
        _csv(tmp_path, "a.csv", [[f"载体{i}", i, i * 10] for i in range(4_000)])
        (tmp_path / "sources.toml").write_text(
            '[[source]]\nid = "office"\ncollector = "file"\nlocation = "in/*.csv"\n'
            'period = "2024"\nsubject = "载体名称"\n[source.columns]\n'
            '"在孵企业数" = "incubatees"\n"在孵企业从业人员" = "incubatee_employees"\n'
            "[source.aliases]\n" + "".join(f'"载体{i}" = "T-I0{1 + i % 2}"\n' for i in range(0)),
            encoding="utf-8",
        )
        full = _parkmon(["--db", str(database), "--config", str(tmp_path), "collect", "--all"])
        assert full.returncode == 1
        assert "Traceback" not in full.stderr
        engine = db.make_engine(f"sqlite:///{database}")
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert store.count_rows(engine, models.Observation) == copy
        finally:
            engine.dispose()


def _small_disk(limit: int):
    import resource
    import signal

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_full_disk_ends_in_one_line_and_leaves_no_half_file(collect_engine, tmp_path):
    with collect_engine.begin() as conn:
        run_id = store.start_run(collect_engine, "office")
        store.add_rejections(
            conn,
            run_id,
            "office",
            [{"location": f"a.csv, row {i}", "reason": "x" * 200, "raw": {}} for i in range(2000)],
        )
    store.finish_run(collect_engine, run_id, status=models.RunStatus.partial)
    with collect_engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path / "out" / "rejects.csv"
    target.parent.mkdir()
    database = str(collect_engine.url.database)
    result = _parkmon(
        ["--db", database, "rejects", "--csv", str(target)],
        preexec_fn=_small_disk(100_000),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "the disk is full" in result.stderr and str(target) in result.stderr
    assert "Traceback" not in result.stderr
    assert list(target.parent.iterdir()) == []  # no half-written file, no temporary left
    before = store.count_rows(collect_engine, models.Observation)
    _csv(tmp_path, "a.csv", [[f"载体{i}", i, i * 10] for i in range(3000)])
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "office"\ncollector = "file"\nlocation = "in/*.csv"\n'
        'period = "2024"\nsubject = "载体名称"\n[source.columns]\n"在孵企业数" = "incubatees"\n',
        encoding="utf-8",
    )
    collected = _parkmon(
        ["--db", database, "--config", str(tmp_path), "collect", "--all"],
        preexec_fn=_small_disk(100_000),
        cwd=tmp_path,
    )
    assert collected.returncode == 1
    assert "error" in collected.stderr.lower()
    assert "Traceback" not in collected.stderr
    with collect_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert store.count_rows(collect_engine, models.Observation) == before


def test_demo_never_writes_into_a_database_holding_real_data(tmp_path, config_dir):
    real = tmp_path / "real.db"
    engine = db.make_engine(f"sqlite:///{real}")
    pipeline.initialise(engine, config_dir)  # the registry: real data, not demo
    before = store.count_rows(engine, models.Park)
    engine.dispose()
    result = _cli("--db", str(real), "demo", "--out", str(tmp_path / "out"))
    assert isinstance(result.exception, ConfigError)
    assert "not demo data" in str(result.exception)
    engine = db.make_engine(f"sqlite:///{real}")
    assert store.count_rows(engine, models.Park) == before
    assert not db.holds_demo_data(engine)
    engine.dispose()


class Gate(Server):
    """/held answers only when the test opens the gate, so a collection holds its run."""

    def __init__(self) -> None:
        import threading

        self.gate = threading.Event()
        super().__init__()

    def route_held(self, h, q, n):
        self.gate.wait(timeout=120)
        h.reply(200, self.json_body({"rows": [{"name": "甲孵化器", "n": 7}]}))


@pytest.mark.slow
def test_two_real_collections_of_one_source_one_line_for_the_loser(collect_engine, tmp_path):
    server = Gate()
    try:
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nid = "api"\ncollector = "json_api"\nlocation = "{server.url}/held"\n'
            'items = "rows"\nsubject = "name"\nperiod = "2024"\nretries = 0\n'
            '[source.columns]\n"n" = "incubatees"\n',
            encoding="utf-8",
        )
        command = [
            sys.executable,
            "-m",
            "monitor",
            "--db",
            str(collect_engine.url.database),
            "--config",
            str(tmp_path),
            "collect",
            "api",
        ]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        second = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            # Nothing can finish before the gate opens, so one of the two must give way.
            deadline = time.monotonic() + 120
            while first.poll() is None and second.poll() is None:
                assert time.monotonic() < deadline, "neither collection gave way"
                time.sleep(0.1)
            loser, winner = (first, second) if first.poll() is not None else (second, first)
            _, loser_err = loser.communicate(timeout=30)
            server.gate.set()
            winner_out, winner_err = winner.communicate(timeout=120)
        finally:
            server.gate.set()
            for proc in (first, second):
                if proc.poll() is None:
                    proc.kill()
    finally:
        server.stop()
    assert loser.returncode == 1
    lines = [line for line in loser_err.splitlines() if line.strip()]
    assert len(lines) == 1, loser_err
    assert re.fullmatch(
        rf"api: another collection of source api is running on {re.escape(socket.gethostname())}"
        rf":{winner.pid} \(run \d+\); this one did not start",
        lines[0],
    ), lines[0]
    assert winner.returncode == 0, winner_err
    assert server.hits["/held"] == 1
    frame = store.runs_frame(collect_engine)
    assert list(frame["status"]) == ["ok"]
    assert "INSERT" not in "".join(frame["error"].astype(str))
    assert _current(collect_engine)[("T-I01", "incubatees")] == 7


@pytest.mark.slow
def test_a_database_of_an_older_parkmon_says_to_upgrade_it(tmp_path):
    """A database of a development build before 0.1.0 (no revision, a column it lacked): every
    command refuses in one line naming the upgrade; ``init`` upgrades it in place."""
    database = str(tmp_path / "old.db")
    fixture = Path(__file__).parent / "fixtures" / "parkmon-0.1.0.db.gz"
    with gzip.open(fixture) as packed, open(database, "wb") as out:
        shutil.copyfileobj(packed, out)
    with sqlite3.connect(database) as conn:
        conn.execute("ALTER TABLE rejection DROP COLUMN reason_data")
    conn.close()
    old = _parkmon(["--db", database, "rejects"])
    assert old.returncode == 1
    assert "run `parkmon db upgrade`" in old.stderr and "Traceback" not in old.stderr
    assert _parkmon(["--db", database, "init"]).returncode == 0
    assert _cli("--db", database, "rejects").exit_code == 0  # upgraded in place
