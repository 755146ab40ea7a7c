"""Property test: random bytes, random CSV dialects and random cell strings through the file
reader and normalisation. Nothing escapes but the documented quarantine (ParseError for a file,
a rejection for a row), a rejected row stores nothing, and reading stays within its limits."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from collectors.catalogue import IndicatorInfo
from collectors.files import read_table
from collectors.mapping import map_observations
from collectors.names import SubjectResolver
from collectors.normalize import MISSING, ValueProblem, parse_value
from collectors.sources import parse_source
from monitor.errors import ConfigError, ParseError

CATALOGUE = {
    "incubatees": IndicatorInfo("incubatees", "在孵企业数", "家", 0, None),
    "incubatee_revenue": IndicatorInfo("incubatee_revenue", "在孵企业总收入", "千元", 0, None),
}
RESOLVER = SubjectResolver([("T-1", "甲孵化器", ["甲科技企业孵化器"]), ("T-2", "乙孵化器", [])])
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["45", "４５", "1,200", "3.5万元", "—", "约50", "=1+2", "-3", "", "12%"]),
    st.sampled_from(["甲孵化器", "乙孵化器", "甲科技企业孵化器", "丙"]),
)


def _spec(folder: Path, **overrides):
    item = {
        "id": "p",
        "collector": "file",
        "location": "in/*",
        "format": "csv",
        "subject": {"column": "名称"},
        "period": "2024",
        "columns": {"在孵企业数": "incubatees", "在孵企业总收入": "incubatee_revenue"},
        "max_rows": 50,
        "max_columns": 20,
        "max_cells": 400,
        "max_bytes": 20_000,
    }
    item.update(overrides)
    return parse_source(item, 1, folder / "sources.toml")


def _read_and_map(path: Path, spec) -> None:
    try:
        table = read_table(path, spec)
    except ParseError:
        return  # the documented quarantine of a whole file
    assert len(table.rows) <= spec.max_rows
    assert all(len(r.values) <= spec.max_columns for r in table.rows)
    try:
        mapped = map_observations(table.rows, table.headers, spec, CATALOGUE, RESOLVER, "f")
    except (ParseError, ConfigError):
        return  # the header lacks a declared column: a file-level refusal
    rejected_rows = {r["location"] for r in mapped.rejections}
    mapped.hold_conflicts()
    frame = mapped.observations_frame(with_rows=True)
    held = {r["location"] for r in mapped.rejections} - rejected_rows
    for row in frame["_row"]:
        assert row.location not in held  # nothing stored from a held row
    assert frame["value"].map(math.isfinite).all()
    assert not frame.duplicated(["subject_id", "indicator", "period"]).any()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000), encoding=st.sampled_from(["auto", "utf-8", "gbk"]))
def test_random_bytes_never_escape_the_quarantine(tmp_path_factory, data, encoding):
    folder = tmp_path_factory.mktemp("bytes")
    (folder / "in").mkdir()
    path = folder / "in" / "f.csv"
    path.write_bytes(data)
    _read_and_map(path, _spec(folder, encoding=encoding))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(  # found by hypothesis: every row held as a conflict
    rows=[["甲孵化器", "0"], ["甲孵化器", "0"]], delimiter=",", quoting=0, encoding="utf-8"
)
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=60),
    delimiter=st.sampled_from([",", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_random_csv_dialects_and_cells(tmp_path_factory, rows, delimiter, quoting, encoding):
    folder = tmp_path_factory.mktemp("csv")
    (folder / "in").mkdir()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting)
    writer.writerow(["名称", "在孵企业数", "在孵企业总收入"])
    writer.writerows(rows)
    (folder / "in" / "f.csv").write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    _read_and_map(folder / "in" / "f.csv", _spec(folder))


@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.none()))
def test_normalisation_of_any_cell_is_a_value_missing_or_a_problem(cell):
    problem = None
    try:
        result = parse_value(cell)
    except ValueProblem as exc:
        problem = exc.msg
    if problem is not None:  # it says what was expected, in both languages
        assert str(problem).startswith("expected"), str(problem)
        assert problem.render("zh").startswith("应为"), problem.render("zh")
        return
    assert result is MISSING or (isinstance(result, tuple) and isinstance(result[0], float))
    if result is not MISSING:
        assert isinstance(result, tuple) and math.isfinite(result[0])
