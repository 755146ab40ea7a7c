"""The JSON API described twice from one table: in the OpenAPI schema (English, for machines
and tools) and on the page ``/api/docs`` (in the reader's language, server-rendered, offline,
no script), so every route, parameter and answer is documented the same way in both."""

from __future__ import annotations

from typing import Any

Text = tuple[str, str]  # (Chinese, English)

FILTERS: list[tuple[str, Text, bool]] = [
    (
        "kind",
        (
            "载体类型（可多次给出）：high_tech_zone、incubator、maker_space …",
            "kind of carrier (repeatable): high_tech_zone, incubator, maker_space …",
        ),
        True,
    ),
    (
        "level",
        (
            "级别（可多次）：national、provincial、municipal …",
            "level (repeatable): national, provincial, municipal …",
        ),
        True,
    ),
    (
        "district",
        (
            "区县名称或行政区划代码（可多次）；跨区载体在每个所在区都列出",
            "district name or code (repeatable); a carrier across a border is listed under each",
        ),
        True,
    ),
    (
        "belt_role",
        ("沿江科创带中的角色（可多次）", "role in the riverside belt (repeatable)"),
        True,
    ),
    ("stars", ("最近一次评价的星级（可多次）", "stars of the latest rating (repeatable)"), True),
    (
        "q",
        (
            "按名称、别名、英文名、统一社会信用代码或编号搜索",
            "search in name, aliases, English name, credit code or id",
        ),
        False,
    ),
]

ROUTES: dict[str, dict[str, Any]] = {
    "/api/parks": {
        "text": (
            "按筛选条件列出载体及其最近一次评价（与 /parks 页面相同的筛选）；"
            "响应头 X-Total-Count 给出分页前的总数。",
            "The carriers the filters choose, with their latest rating (the filters of /parks); "
            "the header X-Total-Count gives the count before paging.",
        ),
        "params": [
            *FILTERS,
            ("limit", ("最多返回多少个（默认全部）", "at most this many (default: all)"), False),
            ("offset", ("跳过前多少个（默认 0）", "skip this many first (default 0)"), False),
        ],
        "answers": {"200": ("载体列表（JSON 数组）", "the carriers (a JSON array)")},
    },
    "/api/parks/{park_id}": {
        "text": (
            "一个载体页面上的全部内容：基本信息、历年评价、升星路径与星级稳定性、各指标历年数据"
            "及同类中位数、最新数据及来源、认定记录。",
            "Everything a carrier's page shows: identity, ratings by year, the way up a star "
            "and how firm it is, each indicator's series with its peers' median, the latest "
            "figures with their sources, recognitions.",
        ),
        "params": [("park_id", ("载体编号，如 NT-Z01", "the carrier's id, e.g. NT-Z01"), False)],
        "answers": {
            "200": ("载体详情（JSON 对象）", "the carrier (a JSON object)"),
            "404": ("没有这个编号的载体", "no carrier has this id"),
        },
    },
    "/api/parks/{park_id}/history": {
        "text": (
            "一个载体全部指标的全部报送与修订：来源、采集批次、修订号、入库时间，标出现行值。",
            "Every report and revision of every figure of one carrier: source, run, revision, "
            "when recorded; the value in use marked.",
        ),
        "params": [("park_id", ("载体编号", "the carrier's id"), False)],
        "answers": {
            "200": ("按指标分组的修订记录", "the revisions, by indicator"),
            "404": ("没有这个编号的载体", "no carrier has this id"),
        },
    },
    "/api/goals": {
        "text": (
            "规划各项目标的进展：基期值、最新值、目标值、状态。",
            "Progress of every goal of the plan: baseline, latest, target and status.",
        ),
        "params": [],
        "answers": {"200": ("目标列表", "the goals")},
    },
    "/api/rankings": {
        "text": (
            "已收录的公开排名：系列、年份、位次（“前 N 名以外”不给出具体名次）及出处。",
            "The published rankings stored: series, year, position (outside the top N is "
            "never given a number) and the public citation.",
        ),
        "params": [],
        "answers": {"200": ("排名记录", "the ranking entries")},
    },
    "/api/compare": {
        "text": (
            "对比同类载体（最多 6 个），或一个载体与同类同级、本区、沿江科创带的同类载体对比："
            "数值、变化、在对比组中的百分位、评价、优势与短板。",
            "Compare carriers of one kind (up to six), or one against its peers, district or "
            "the belt: values, change, percentile in the group, ratings, strengths and "
            "weaknesses.",
        ),
        "params": [
            ("ids", ("逗号分隔的载体编号", "carrier ids, comma-separated"), False),
            (
                "against",
                ("对比组：peers（默认）、district、belt", "group: peers (default), district, belt"),
                False,
            ),
            ("year", ("年份（默认最近的评价年度）", "year (default: the latest rated)"), False),
        ],
        "answers": {
            "200": ("对比结果", "the comparison"),
            "400": (
                "无法对比的原因（编号不存在、类型不同、超过 6 个）",
                "why it cannot be made (unknown id, different kinds, more than six)",
            ),
        },
    },
}


def described(path: str) -> dict[str, Any]:
    """Keyword arguments of ``app.get`` documenting ``path`` in the OpenAPI schema."""
    spec = ROUTES[path]
    parameters = []
    for name, (_zh, en), many in spec["params"]:
        if "{" + name + "}" in path:
            continue  # a path parameter: the route's signature declares it
        where = "query"
        schema: dict[str, Any] = (
            {"type": "array", "items": {"type": "string"}}
            if many
            else {"type": "integer" if name in ("limit", "offset", "year") else "string"}
        )
        parameters.append(
            {
                "name": name,
                "in": where,
                "required": where == "path",
                "description": en,
                "schema": schema,
            }
        )
    return {
        "summary": spec["text"][1].split(";")[0].split(":")[0],
        "description": spec["text"][1],
        "openapi_extra": {"parameters": parameters},
        "responses": {
            int(code): {"description": en} for code, (_zh, en) in spec["answers"].items()
        },
    }


def reference(lang: str) -> list[dict[str, Any]]:
    """The routes as the docs page shows them, in ``lang``."""
    pick = 0 if lang == "zh" else 1
    return [
        {
            "path": path,
            "text": spec["text"][pick],
            "params": [
                {"name": name, "text": text[pick], "many": many, "path": "{" + name + "}" in path}
                for name, text, many in spec["params"]
            ],
            "answers": [(code, text[pick]) for code, text in spec["answers"].items()],
        }
        for path, spec in ROUTES.items()
    ]
