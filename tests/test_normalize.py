"""Chinese number formats, units, missing markers, bounds; header flattening and row rules."""

from __future__ import annotations

import pytest

from collectors.mapping import normalise_period
from collectors.normalize import (
    MISSING,
    ValueProblem,
    check_bounds,
    parse_value,
    to_canonical,
    unit_in_header,
)
from collectors.tables import classify_row, flatten_headers


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("１２，３４５．６", (12345.6, "")),
        ("12,345", (12345.0, "")),
        ("43.5%", (43.5, "%")),
        ("43.5％", (43.5, "%")),
        ("12.5万元", (12.5, "万元")),
        ("1.2亿", (1.2, "亿元")),
        ("3,000 平方米", (3000.0, "平方米")),
        ("3000㎡", (3000.0, "平方米")),
        ("7家", (7.0, "家")),
        ("(1,234)", (-1234.0, "")),
        ("-5", (-5.0, "")),
        (42, (42.0, "")),
        (3.5, (3.5, "")),
        ("是", (1.0, "是否")),
        ("否", (0.0, "是否")),
        (" 18 ", (18.0, "")),
    ],
)
def test_values(cell, expected):
    assert parse_value(cell) == expected


@pytest.mark.parametrize("cell", ["", "—", "——", "-", "/", "／", None, float("nan"), "无", " "])
def test_missing_is_not_zero(cell):
    assert parse_value(cell) is MISSING


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("约50", "expected a number, got '约50'"),
        ("12.3.4", "expected a number, got '12.3.4'"),
        ("50斤", "unknown unit '斤'"),
        ("abc", "expected a number"),
    ],
)
def test_bad_values_say_what_was_expected(cell, message):
    with pytest.raises(ValueProblem, match=message):
        parse_value(cell)


@pytest.mark.parametrize(
    ("number", "unit", "canonical", "expected"),
    [
        (12.5, "万元", "千元", 125.0),
        (1.5, "亿元", "千元", 150_000.0),
        (2000, "元", "千元", 2.0),
        (194.2, "亿元", "亿元", 194.2),
        (0.596, "万平方米", "平方米", 5960.0),
        (7, "家", "个", 7.0),
        (3, "", "人", 3.0),
    ],
)
def test_units_convert_to_canonical(number, unit, canonical, expected):
    assert to_canonical(number, unit, canonical) == pytest.approx(expected)


def test_units_of_another_dimension_are_refused():
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match="different dimensions"):
        to_canonical(3, "平方米", "千元")


@pytest.mark.parametrize(
    ("value", "unit", "lo", "hi", "message"),
    [
        (-1, "个", None, None, "count ≥ 0"),
        (130, "%", 0, 100, "share between 0 and 100"),
        (2, "是否", 0, 1, "yes/no"),
        (5, "千元", 10, None, "at least 10"),
    ],
)
def test_bounds(value, unit, lo, hi, message):
    with pytest.raises(ValueProblem, match=message):
        check_bounds(value, unit, lo, hi)


def test_units_in_headers():
    assert unit_in_header("在孵企业总收入（万元）") == "万元"
    assert unit_in_header("面积(㎡)") == "平方米"
    assert unit_in_header("在孵企业数") is None


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2024", "2024"),
        ("2024年", "2024"),
        (2024.0, "2024"),
        ("2024年度", "2024"),
        ("2024Q1", "2024Q1"),
        ("2024年第1季度", "2024Q1"),
        ("2024-05", "2024-05"),
        ("2024年5月", "2024-05"),
    ],
)
def test_periods(text, period):
    assert normalise_period(text) == period


def test_merged_headers_flatten():
    top = ["孵化器名称", "孵化绩效", None, None, "服务能力", None, "备注"]
    below = [
        None,
        "在孵企业数",
        "在孵企业总收入（千元）",
        "从业人员",
        "创业导师数",
        "孵化基金（千元）",
        None,
    ]
    assert flatten_headers([top, below]) == [
        "孵化器名称",
        "孵化绩效/在孵企业数",
        "孵化绩效/在孵企业总收入(千元)",
        "孵化绩效/从业人员",
        "服务能力/创业导师数",
        "服务能力/孵化基金(千元)",
        "备注",
    ]


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        (["", None, "  "], "blank"),
        (["", "合计", "", "123"], "total"),
        (["", "总 计", "12"], "total"),
        (["注：金额单位为千元", None, None], "note"),
        (["填报单位：海门区科学技术局", "", ""], "note"),
        (["1", "甲孵化器", "12"], None),
    ],
)
def test_row_rules(cells, kind):
    assert classify_row(cells, subject_index=1) == kind
