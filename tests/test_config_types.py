"""Every value of every shipped config file, given the wrong type, ends in one line naming the
file, the key and the value — never a traceback; an unknown table is refused the same way."""

from __future__ import annotations

import copy
import json
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import MonitorError
from monitor.goals import load_goals
from monitor.indicators import load_indicators
from monitor.rating.methodology import load_methodologies
from monitor.registry import load_city
from monitor.schedule import load_schedule_config
from monitor.settings import bundled_config_dir, load_settings

LOADERS: dict[str, Callable[[Path], object]] = {
    "city.toml": load_city,
    "goals.toml": load_goals,
    "indicators.toml": load_indicators,
    "schedule.toml": load_schedule_config,
    "parkmon.toml": lambda d: load_settings({"config_dir": str(d)}, env={}),
    **{f"ratings/{m}.toml": load_methodologies for m in ("district", "incubator", "zone")},
}


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path, node


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return (
        "{"
        + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in value.items())
        + "}"
    )


def _dump(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}\n" for k, v in doc.items())


def _wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "two"
    return 7


@pytest.fixture(scope="module")
def config_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cfg") / "config"
    shutil.copytree(bundled_config_dir(), target)
    return target


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_value_with_the_wrong_type_is_one_clear_line(config_copy, name):
    path = config_copy / name
    original = path.read_text(encoding="utf-8")
    document = tomllib.loads(original)
    loader = LOADERS[name]
    checked = 0
    try:
        for key_path, value in _leaves(document):
            mutated = copy.deepcopy(document)
            node = mutated
            for step in key_path[:-1]:
                node = node[step]
            node[key_path[-1]] = _wrong(value)
            path.write_text(_dump(mutated), encoding="utf-8")
            with pytest.raises(MonitorError) as info:
                loader(config_copy)
            message = str(info.value)
            assert "\n" not in message, message
            assert name.rsplit("/", 1)[-1] in message, message
            assert repr(_wrong(value)) in message or str(key_path[-1]) in message, message
            checked += 1
        path.write_text(original + "\n[setting]\nx = 1\n", encoding="utf-8")
        with pytest.raises(MonitorError, match="unknown key or table 'setting'"):
            loader(config_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert checked == len(list(_leaves(document)))
    loader(config_copy)  # the restored file loads


@pytest.mark.parametrize(
    ("name", "where", "table"),
    [
        ("city.toml", ("districts", 0), "districts[0]"),
        ("city.toml", ("belt",), "belt"),
        ("goals.toml", ("goal", 0), "goal[0]"),
        ("indicators.toml", ("indicator", 2), "indicator[2]"),
        ("schedule.toml", ("job", 0), "job[0]"),
        ("parkmon.toml", ("settings",), "settings"),
        ("ratings/incubator.toml", ("item", 1), "item[1]"),
        ("ratings/incubator.toml", ("bonus", "item", 0), "bonus.item[0]"),
    ],
)
def test_a_misspelt_key_anywhere_is_one_line_listing_the_allowed_keys(
    config_copy, name, where, table
):
    """Every table of every config file declares its keys once (monitor.config_schema): a
    misspelt key deep inside is refused where it stands, naming what is allowed there."""
    path = config_copy / name
    original = path.read_text(encoding="utf-8")
    document = tomllib.loads(original)
    node = document
    for step in where:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    node["pionts"] = 1
    try:
        path.write_text(_dump(document), encoding="utf-8")
        with pytest.raises(MonitorError) as info:
            LOADERS[name](config_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    message = str(info.value)
    assert "\n" not in message
    assert f"unknown key(s) pionts in [{table}]; allowed:" in message, message


def test_schedule_defaults_are_stated_once_and_a_bad_choice_names_the_choices(tmp_path):
    from monitor import config_schema
    from monitor.schedule import SchedulerConfig

    (tmp_path / "schedule.toml").write_text("[scheduler]\nmax_workers = 3\n", encoding="utf-8")
    loaded = load_schedule_config(tmp_path)
    assert loaded.max_workers == 3
    # what the file leaves out comes from the model, the same defaults as no file at all
    assert loaded.timezone == SchedulerConfig().timezone == config_schema.SchedulerTable().timezone
    (tmp_path / "schedule.toml").write_text(
        '[scheduler]\nmissed_runs = "later"\n', encoding="utf-8"
    )
    with pytest.raises(
        MonitorError, match="missed_runs = 'later'; expected one of 'run_once' or 'skip'"
    ):
        load_schedule_config(tmp_path)


def test_city_requirements_and_bounds_are_one_line_each(config_copy):
    path = config_copy / "city.toml"
    original = path.read_text(encoding="utf-8")
    document = tomllib.loads(original)
    try:
        without_bbox = copy.deepcopy(document)
        del without_bbox["city"]["bbox"]
        path.write_text(_dump(without_bbox), encoding="utf-8")
        with pytest.raises(MonitorError, match=r"\[city\] needs adcode, name and bbox"):
            load_city(config_copy)
        negative = copy.deepcopy(document)
        negative.setdefault("belt", {})["width_km"] = -1
        path.write_text(_dump(negative), encoding="utf-8")
        with pytest.raises(MonitorError, match=r"belt.width_km = -1; expected a number ≥ 0"):
            load_city(config_copy)
        bare = copy.deepcopy(document)
        bare.pop("geo", None)
        path.write_text(_dump(bare), encoding="utf-8")
        assert load_city(config_copy).geo.simplify_tolerance_m == 100.0  # the model's default
    finally:
        path.write_text(original, encoding="utf-8")
