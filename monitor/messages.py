"""What parkmon says about a sender's data, in Chinese and English.

A problem found in a file or a row is a :class:`Msg`: a code from :data:`CATALOGUE` and its
parameters (names, values, limits). It is stored as JSON beside its English text
(``rejection.reason_data``, ``run.error_data``) and rendered in the reader's language when shown:
a park office reads "在孵企业总收入：应为数字，实际为“约3千”", a developer's log the English.
Parameters are values from the file or names, never translated; a parameter may itself be a
message (rendered in the same language) or a list (joined with 、 or ", ").

Locations are written by the readers in one fixed form ("园区.xlsx, sheet '2024', row 7";
"https://…, item 3") and :func:`location` renders that form in Chinese.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

# code: (Chinese, English). Chinese quotes values with “”, English with repr quotes ({x!r}).
CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # text that has no catalogue entry (an older database, a library's own message)
    "text": ("{text}", "{text}"),
    "hint.did_you_mean": ("；是否指：{names}？", "; did you mean {names}?"),
    "at": ("{where}：{message}", "{where}: {message}"),
    # cells
    "value.finite": ("应为有限数值，实际为“{value}”", "expected a finite number, got {value!r}"),
    "value.number": ("应为数字，实际为“{value}”", "expected a number, got {value!r}"),
    "value.unit": (
        "应为带已知单位的数字，实际为“{value}”（无法识别的单位“{unit}”）",
        "expected a number with a known unit, got {value!r} (unknown unit {unit!r})",
    ),
    "value.count": ("应为不小于 0 的数，实际为 {value}", "expected a count ≥ 0, got {value}"),
    "value.share": (
        "应为 0 到 100 之间的百分比，实际为 {value}",
        "expected a share between 0 and 100 %, got {value}",
    ),
    "value.flag": (
        "应为是/否（或 1/0），实际为 {value}",
        "expected yes/no (是/否 or 1/0), got {value}",
    ),
    "value.minimum": (
        "应不小于 {limit} {unit}，实际为 {value}",
        "expected at least {limit} {unit}, got {value}",
    ),
    "value.maximum": (
        "应不大于 {limit} {unit}，实际为 {value}",
        "expected at most {limit} {unit}, got {value}",
    ),
    "value.yes_no_for_number": (
        "应为以{unit}计的数字，实际填的是“是/否”",
        "expected a number in {unit}, got yes/no",
    ),
    "value.unit_mismatch": (
        "单位“{from_unit}”不能换算为“{to_unit}”（量纲不同）",
        "cannot convert {from_unit} to {to_unit}: different dimensions",
    ),
    "value.unknown_unit": ("无法识别的单位“{value}”", "unknown unit {value!r}"),
    "value.period": (
        "应为统计期，如 2024、2024Q1 或 2024-05，实际为“{value}”",
        "expected a period such as 2024, 2024Q1 or 2024-05, got {value!r}",
    ),
    "value.position": (
        "应为名次，如 47、第47位，或区间，如 前25名以外 / > 25，实际为“{value}”",
        "expected a position such as 47, 第47位, or a bound such as 前25名以外 / > 25, "
        "got {value!r}",
    ),
    "value.out_of": (
        "参评总数应为整数，实际为“{value}”",
        "expected a whole number of entrants, got {value!r}",
    ),
    "value.level": (
        "应为级别：国家级、省级或市级，实际为“{value}”",
        "expected a level: 国家级, 省级 or 市级, got {value!r}",
    ),
    "indicator.problem": ("{name}：{problem}", "{name_en} ({code}): {problem}"),
    "indicator.named": ("{name}", "{name} ({code})"),
    # rows
    "subject.empty": (
        "载体名称或编号为空",
        "expected the name or id of a carrier, got an empty cell",
    ),
    "subject.unknown_carrier": (
        "未登记的载体“{value}”{hint}（请先在 parks.csv 中登记，"
        "或在数据源的 aliases 中把这种写法对应到编号）",
        "unknown carrier {value!r}{hint} (add it to parks.csv, or map this spelling to an id in "
        "the source's aliases)",
    ),
    "subject.unknown_listed": (
        "未登记的载体“{value}”{hint}（请先在 parks.csv 中登记）",
        "unknown carrier {value!r}{hint} (add it to parks.csv first)",
    ),
    "subject.unknown_region": (
        "未知的地区“{value}”{hint}（应为 city.toml 中本市或所辖区县的行政区划代码或名称）",
        "unknown region {value!r}{hint} (expected the adcode or name of the city or one of its "
        "districts in city.toml)",
    ),
    "subject.unknown_ranked": ("未登记的对象“{value}”{hint}", "unknown subject {value!r}{hint}"),
    "indicator.unknown": ("未知的指标“{value}”{hint}", "unknown indicator {value!r}{hint}"),
    "logic.failed": (
        "逻辑校验未通过：{rule}（{source}）；整行暂缓入库",
        "logic check failed: {rule_en} ({source_en}); the whole row is held",
    ),
    "conflict.rows": (
        "同一批数据中同一载体、同一期重复填报（{problems}）；这些行均未入库，请每个载体每期只保留一行后重新采集",
        "conflict: the same carrier and period are reported more than once in this batch "
        "({problems}); none of these rows is stored — keep one row per carrier and period, then "
        "collect again",
    ),
    "conflict.value": (
        "{subject} {indicator} {period} 此处为 {value}，但 {others}",
        "{subject} {indicator_en} {period} = {value} here, but {others}",
    ),
    "conflict.at": ("{location}：{value}", "{location}: {value}"),
    "conflict.recognition": (
        "{subject} {what} {year} 亦见于 {others}",
        "{subject} {what} {year} also at {others}",
    ),
    # files
    "file.too_large": (
        "{size} 字节，超过上限 {limit}（max_bytes），未读取",
        "{size} bytes exceed the limit of {limit} (max_bytes); not read",
    ),
    "file.grew": (
        "超过 {limit} 字节（max_bytes），未读取",
        "more than {limit} bytes (max_bytes); not read",
    ),
    "file.decode": ("无法按 {encoding} 解码：{detail}", "cannot decode as {encoding}: {detail}"),
    "file.encoding_unknown": ("未知的编码“{encoding}”", "unknown encoding {encoding!r}"),
    "file.not_text": (
        "不是可识别编码的文本（已尝试 UTF-8、GB18030{tried}）{detail}",
        "not text in a known encoding (tried UTF-8, GB18030{tried}){detail}",
    ),
    "file.too_many_rows": (
        "超过 {limit} 行（max_rows），已停止读取",
        "more than {limit} rows (max_rows); stopped reading",
    ),
    "file.too_many_columns": (
        "第 {row} 行有 {columns} 列，最多 {limit} 列（max_columns），已停止读取",
        "row {row} has {columns} columns; at most {limit} (max_columns); stopped reading",
    ),
    "file.too_many_cells": (
        "超过 {limit} 个单元格（max_cells），在第 {row} 行停止读取",
        "more than {limit} cells (max_cells); stopped reading at row {row}",
    ),
    "file.long_line": (
        "第 {line} 行超过 {limit} 个字符，已停止读取",
        "line {line} is longer than {limit} characters; stopped reading",
    ),
    "file.bad_csv": ("不是可读取的 CSV：{detail}", "not a readable CSV: {detail}"),
    "portal.other_carrier": (
        "此行属于载体 {found}，不是本次填报的载体 {expected}：请使用本载体的预填报表",
        "this row is for carrier {found}, not {expected}: use this carrier's own workbook",
    ),
    "portal.not_asked": (
        "本次填报没有要求指标 {indicator}：请勿增加或改动指标代码",
        "this round does not ask for {indicator}: do not add or change indicator codes",
    ),
    "portal.empty": (
        "没有读到任何数值：请在“本年数值”一列填写",
        "no figure was read: fill in the column of this year's figures",
    ),
    "file.not_zip": ("不是 XLSX 文件（不是 zip 压缩包）", "not an XLSX file (not a zip archive)"),
    "file.zip_bomb": (
        "拒收：解压后达 {size} 字节（为原文件的 {ratio} 倍），疑似压缩炸弹",
        "refused: expands to {size} bytes ({ratio}× its size), like a zip bomb",
    ),
    "file.zip_part": (
        "拒收：其中的 {part} 解压后达 {size} 字节（上限 {limit}）",
        "refused: part {part} expands to {size} bytes (at most {limit})",
    ),
    "file.no_defusedxml": (
        "拒收 XLSX：未安装 defusedxml，openpyxl 将无保护地解析不可信的 XML",
        "refusing XLSX: defusedxml is not installed, so openpyxl would parse untrusted XML "
        "unprotected",
    ),
    "file.xlsx_open": ("无法作为 XLSX 打开：{detail}", "cannot open as XLSX: {detail}"),
    "file.sheet_read": (
        "无法读取工作表“{sheet}”：{detail}",
        "cannot read sheet {sheet!r}: {detail}",
    ),
    "file.xls_large": (
        "旧版 .xls 文件 {size} 字节，超过 {limit}；请另存为 .xlsx",
        "a legacy .xls of {size} bytes is over {limit}; save it as .xlsx",
    ),
    "file.xls_open": ("无法作为 XLS 打开：{detail}", "cannot open as XLS: {detail}"),
    "file.no_sheet": (
        "没有工作表“{sheet}”；工作簿中有：{names}",
        "no sheet {sheet!r}; the workbook has {names}",
    ),
    "file.format_unknown": (
        '无法从扩展名“{suffix}”判断格式；请设置 format = "csv"、"xlsx" 或 "xls"',
        'cannot tell the format from the suffix {suffix!r}; set format = "csv", "xlsx" or "xls"',
    ),
    "file.format_not_file": (
        "格式“{format}”不是文件格式",
        "format {format!r} is not a file format",
    ),
    "file.cannot_read": ("{name}：无法读取：{detail}", "{name}: cannot read: {detail}"),
    "file.too_large_memory": (
        "{name}：文件过大，无法读入内存；已拒收",
        "{name}: too large to read in memory; refused",
    ),
    "file.symlink_outside": (
        "拒收：{name} 是指向数据源文件夹之外的符号链接",
        "refused: {name} is a symlink leading outside the source folder",
    ),
    "file.broken_symlink": ("拒收：{name} 是失效的符号链接", "refused: {name} is a broken symlink"),
    # tables
    "table.no_column": (
        "没有“{column}”列；表头为：{headers}",
        "no column {column!r}; the header has: {headers}",
    ),
    "table.ambiguous_column": (
        "“{column}”列有歧义：{headers}",
        "column {column!r} is ambiguous: {headers}",
    ),
    "table.short_header": (
        "标题行 {title_rows} 行之后应有 {header_rows} 行表头，全表只有 {rows} 行",
        "expected {header_rows} header row(s) after {title_rows} title row(s), found {rows} "
        "row(s) in all",
    ),
    "table.too_many_rows": (
        "{rows} 行数据超过上限 {limit}（max_rows）",
        "{rows} data rows exceed the limit of {limit} (max_rows)",
    ),
    # web
    "web.not_json": ("不是有效的 JSON：{detail}", "not valid JSON: {detail}"),
    "web.no_list": ("items = “{items}” 处没有列表", "no list at items = {items!r}"),
    "web.not_list": (
        "items = “{items}” 是 {type}，不是列表",
        "items = {items!r} is {type}, not a list",
    ),
    "web.item_not_object": (
        "第 {index} 项是 {type}，不是对象",
        "item {index} is {type}, not an object",
    ),
    "web.too_many_items": ("超过 {limit} 项（max_rows）", "more than {limit} items (max_rows)"),
    "web.too_many_cells": (
        "拒收：页面中表格单元格超过 {limit} 个",
        "refused: more than {limit} table cells in the page",
    ),
    "web.no_table": ("页面中没有 <table>", "no <table> in the page"),
    "web.table_index": (
        "要求第 {table} 个表格，页面只有 {count} 个",
        "table {table} asked for, the page has {count}",
    ),
    "web.table_text": ("没有提到“{table}”的表格", "no table mentions {table!r}"),
    "web.json_containers": (
        "拒收：页面含超过 {limit} 个 JSON 对象/数组（{count} 个）；请减小分页（pagination.size）",
        "refused: the page holds more than {limit} JSON objects/arrays ({count}); ask for "
        "smaller pages (pagination.size)",
    ),
    "web.json_values": (
        "拒收：页面含超过 {limit} 个 JSON 值；请减小分页（pagination.size）",
        "refused: the page holds more than {limit} JSON values; ask for smaller pages "
        "(pagination.size)",
    ),
    "web.page_repeats": (
        "第 {page} 页与第 {earlier} 页逐字节相同；接口似乎忽略了参数“{param}”（{style} 分页），"
        "已停止，不再重复请求",
        "page {page} repeats page {earlier} byte for byte; the API seems to ignore the {param!r} "
        "parameter ({style} pagination); stopped instead of asking again",
    ),
    "web.cursor_again": (
        "接口在第 {page} 页之后再次返回游标“{cursor}”；已停止，避免循环",
        "the API returned the cursor {cursor!r} again after page {page}; stopped instead of "
        "looping",
    ),
    "web.max_pages": (
        "达到 max_pages = {limit} 后仍有更多页",
        "still more pages after max_pages = {limit}",
    ),
    # http
    "http.error": ("{kind}：{detail}", "{kind}: {detail}"),
    "http.client_error": (
        "HTTP {status}；不重试（客户端错误：请检查网址和凭据）",
        "HTTP {status}; not retried (a client error: check the URL and credentials)",
    ),
    "http.gave_up": (
        "尝试 {attempts} 次后放弃；最后一次错误：{detail}",
        "gave up after {attempts} attempt(s); last error: {detail}",
    ),
    "http.run_deadline": (
        "已超过本次采集的时限 {seconds} 秒（run_deadline_s）；已停止",
        "the run's deadline of {seconds} s (run_deadline_s) has passed; stopped",
    ),
    "http.slow": (
        "{seconds} 秒内（{which}）未收到完整响应；服务器过慢或逐滴发送；已停止",
        "no complete response within {seconds} s ({which}); the server is too slow or drips its "
        "answer; stopped",
    ),
    "http.declared_too_large": (
        "响应 {size} 字节，超过上限 {limit}（max_bytes）",
        "response of {size} bytes exceeds the limit of {limit} (max_bytes)",
    ),
    "http.too_large": (
        "响应超过上限 {limit} 字节（max_bytes）；已停止读取",
        "response exceeds the limit of {limit} bytes (max_bytes); stopped reading",
    ),
    "http.cancelled": ("到达时限，已取消", "cancelled at the deadline"),
    "http.scheme": ("只抓取 http 和 https 网址", "only http and https URLs are fetched"),
    "http.host": (
        "主机“{host}”不在该数据源的 allowed_hosts {allowed} 之内",
        "host {host!r} is not among the source's allowed_hosts {allowed}",
    ),
}

_ROW = re.compile(r", row (\d+)$")
_ITEM = re.compile(r", item (\d+)$")
_SHEET = re.compile(r", sheet '([^']*)'")
_PAGE = re.compile(r", page (\d+)")
_TABLE = re.compile(r", table (\d+)")


class Where(str):
    """A location parameter ("园区.xlsx, sheet '2024', row 7"), rendered by :func:`location`."""


class Quoted(str):
    """A value from the file inside a list: “值” in Chinese, '值' in English."""


def quoted(values: Sequence[object]) -> list[Quoted]:
    return [Quoted(str(v)) for v in values]


@dataclass(frozen=True)
class Msg:
    """One message: a catalogue code and its parameters; ``str()`` is the English text."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "zh") -> str:
        zh, en = CATALOGUE.get(self.code, CATALOGUE["text"])
        template = en if lang == "en" else zh
        shown = {k: _param(v, lang) for k, v in self.params.items()}
        try:
            return template.format(**shown)
        except (KeyError, IndexError, ValueError):  # an entry and its parameters disagree
            return f"{self.code} {shown}"

    def __str__(self) -> str:
        return self.render("en")

    def to_data(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: _encode(v) for k, v in self.params.items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False, default=str)


def msg(code: str, /, **params: Any) -> Msg:
    if code not in CATALOGUE:
        raise KeyError(f"no message {code!r} in monitor.messages.CATALOGUE")
    return Msg(code, params)


def of(problem: object) -> Msg:
    """The message of a Msg, of an exception that carries one, or of plain text."""
    if isinstance(problem, Msg):
        return problem
    carried = getattr(problem, "msg", None)
    if isinstance(carried, Msg):
        return carried
    return Msg("text", {"text": str(problem)})


def did_you_mean(names: Sequence[object]) -> Msg | str:
    return msg("hint.did_you_mean", names=list(names)) if names else ""


def _param(value: Any, lang: str) -> str:
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, Where):
        return location(str(value), lang)
    if isinstance(value, Quoted):
        return repr(str(value)) if lang == "en" else f"“{value}”"
    if isinstance(value, list | tuple):
        return ("、" if lang != "en" else ", ").join(_param(v, lang) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _encode(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"$msg": value.to_data()}
    if isinstance(value, Where):
        return {"$where": str(value)}
    if isinstance(value, Quoted):
        return {"$q": str(value)}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$msg" in value:
        data = value["$msg"]
        return Msg(
            str(data.get("code", "text")), {k: _decode(v) for k, v in data["params"].items()}
        )
    if isinstance(value, dict) and "$where" in value:
        return Where(str(value["$where"]))
    if isinstance(value, dict) and "$q" in value:
        return Quoted(str(value["$q"]))
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def from_json(text: str | None) -> Msg | None:
    """The message stored by :meth:`Msg.to_json`, or None (empty, or not ours)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        return Msg(str(data["code"]), {k: _decode(v) for k, v in data["params"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def data_of(message: Msg) -> str:
    """What to store beside the English text: the message as JSON, or '' for plain text."""
    return "" if message.code == "text" else message.to_json()


def stored(data: str | None, text: str, lang: str) -> str:
    """A stored message in ``lang``; the stored text when there is no data (older rows)."""
    message = from_json(data)
    return message.render(lang) if message is not None else text


def location(text: str, lang: str) -> str:
    """'园区.xlsx, sheet '2024', row 7' → '园区.xlsx，工作表“2024”，第 7 行' in Chinese."""
    if lang == "en" or not text:
        return text
    text = _ROW.sub(lambda m: f"，第 {m.group(1)} 行", text)
    text = _ITEM.sub(lambda m: f"，第 {m.group(1)} 项", text)
    text = _PAGE.sub(lambda m: f"，第 {m.group(1)} 页", text)
    text = _TABLE.sub(lambda m: f"，第 {int(m.group(1)) + 1} 个表格", text)
    return _SHEET.sub(lambda m: f"，工作表“{m.group(1)}”", text)
