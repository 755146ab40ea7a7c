"""``parkmon goals``, ``parkmon rankings`` and ``parkmon compare``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import (
    OutputFormat,
    demo_notice,
    out,
    settings_of,
    write_frame,
)
from monitor.errors import ConfigError
from monitor.i18n import label, stars_text, t
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    import monitor.compare as comparing
    from monitor import db, goals, registry, safe_io, store, views
else:
    comparing = LazyModule("monitor.compare")
    db = LazyModule("monitor.db")
    goals = LazyModule("monitor.goals")
    registry = LazyModule("monitor.registry")
    safe_io = LazyModule("monitor.safe_io")
    store = LazyModule("monitor.store")
    views = LazyModule("monitor.views")


COLOURS = {
    "achieved": "green",
    "on_track": "green",
    "moderate": "yellow",
    "limited": "dark_orange",
    "moving_away": "red",
    "not_enough_data": "dim",
    "no_own_target": "dim",
}


def _num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _shown(value: Any) -> str:
    """A number as briefly as it is exact (2.55, 2178, 3600)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):,.6g}"


def _open(ctx: typer.Context) -> Any:
    settings = settings_of(ctx)
    return settings, db.open_read_only(settings.database_url)


def goals_command(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(help="Progress as of this year.")] = None,
    district: Annotated[
        str | None,
        typer.Option(
            help="One district (name or adcode): its own figures and its share of split goals."
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    project: Annotated[
        bool,
        typer.Option(
            "--project",
            help="Each goal projected to its deadline at the current pace: the value there "
            "(10th-90th percentile), the year it is met, what it would take.",
        ),
    ] = False,
) -> None:
    """Progress toward the plan's goals, with the numbers behind each status."""
    if project:
        _projections(ctx, year, fmt)
        return
    settings, engine = _open(ctx)
    code = None
    if district:
        found = registry.load_city(settings.config_dir).district(district)
        if found is None:
            raise ConfigError(f"--district {district!r}: not a district of the city")
        code = found.adcode
    try:
        progress = views.goal_progress(engine, settings.config_dir, year=year, district=code)
        demo = db.holds_demo_data(engine)
    finally:
        engine.dispose()
    demo_notice(demo, settings.lang, machine=fmt is not OutputFormat.table)
    records = [{**p.__dict__, "status_zh": p.status_zh} for p in progress]
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt is OutputFormat.csv:
        import pandas as pd  # noqa: PLC0415

        sys.stdout.write(safe_io.frame_to_csv(pd.DataFrame(records).drop(columns=["numbers"])))
        return
    zh = settings.lang == "zh"
    table = Table(title="“十四五”目标进展" if zh else "Progress toward the plan's goals")
    for c in (
        ("目标", "Goal"),
        ("状态", "Status"),
        ("基期", "Baseline"),
        ("最新", "Latest"),
        ("目标值", "Target"),
        ("进度比", "Ratio"),
        ("规划依据", "Numbers behind the status"),
    ):
        table.add_column(c[0] if zh else c[1])
    for p in progress:
        status = goals.STATUS_ZH[p.status] if zh else p.status.replace("_", " ")
        if zh:  # the plan's own line; the computed numbers are in --format json
            basis = p.basis
        else:
            basis = ", ".join(
                f"{k}={_num(v, 3)}"
                for k, v in p.numbers.items()
                if v is not None and not isinstance(v, dict)
            )
        latest = p.latest_text(settings.lang)
        if p.latest_year:
            latest = f"{latest} ({p.latest_year})"
        if p.kind == "ranking" and p.best is not None:
            best = int(p.best)
            latest += f"；最好 第{best}名" if zh else f"; best {best}"
        target = p.target_text(settings.lang)
        if p.status != "no_own_target":
            target = f"{target} ({p.target_year})"
        if p.illustrative:
            target += "（示例分解，非规划数据）" if zh else " (illustrative split)"
        baseline = f"{_shown(p.baseline)} ({p.baseline_year})"
        stock = p.numbers.get("stock_2020")
        if stock:
            parts = "、".join(f"{label('kind', k, 'zh')}{n}" for k, n in stock.items())
            baseline = (
                f"{baseline}；{p.baseline_year}年存量：{parts}"
                if zh
                else f"{baseline}; stock {p.baseline_year}: "
                + ", ".join(f"{n} {label('kind', k, 'en')}" for k, n in stock.items())
            )
        table.add_row(
            escape(p.name_zh if zh or not p.name_en else p.name_en),
            f"[{COLOURS[p.status]}]{status}[/]",
            baseline,
            latest,
            target,
            _num(p.ratio, 2),
            escape(basis),
        )
    out.print(table)


def rankings_command(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The published rankings on record, with each row's source note."""
    settings, engine = _open(ctx)
    try:
        frame = store.rankings_frame(engine)
    finally:
        engine.dispose()
    if write_frame(frame, fmt):
        return
    table = Table(title="排名" if settings.lang == "zh" else "Rankings")
    for c in ("ranking", "year", "subject_id", "position", "out_of", "note"):
        table.add_column(t(f"rankings.{c}", settings.lang))
    for r in frame.to_dict("records"):
        if r["relation"] == "gt":
            pos = f"前{r['position']}名以外" if settings.lang == "zh" else f"> {r['position']}"
        else:
            pos = str(r["position"])
        table.add_row(
            r["ranking"],
            str(r["year"]),
            r["subject_id"],
            pos,
            _num(r["out_of"], 0),
            escape(str(r["note"])),
        )
    out.print(table)


def compare_command(
    ctx: typer.Context,
    parks: Annotated[list[str], typer.Argument(help="Carrier ids, e.g. DEMO-I001 DEMO-I002.")],
    year: Annotated[int, typer.Option(help="The year compared.")] = 2025,
    against: Annotated[
        str,
        typer.Option(
            help="With one carrier: peers (kind and level), kind (every level), district or belt."
        ),
    ] = "peers",
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or html.")] = "table",
    out_path: Annotated[Path | None, typer.Option("--out", help="File for html.")] = None,
) -> None:
    """Compare carriers side by side: values, change, percentile in the peer group, ratings."""
    if against not in ("peers", "kind", "district", "belt"):
        raise ConfigError(f"--against {against!r}: expected peers, kind, district or belt")
    settings, engine = _open(ctx)
    try:
        comparison = views.compare_parks(engine, parks, year, against)
        frame = store.park_table(engine, columns=["name", "name_en"])
        # proper names in the output's language where the registry has them
        english = settings.lang == "en"
        names = {
            str(i): str(en if english and isinstance(en, str) and en else zh)
            for i, zh, en in zip(frame["id"], frame["name"], frame["name_en"], strict=True)
        }
        demo = db.holds_demo_data(engine)
    finally:
        engine.dispose()
    demo_notice(demo, settings.lang, machine=fmt != "table")
    table = comparison.table
    if fmt == "json":
        sys.stdout.write(
            json.dumps(
                {
                    "year": year,
                    "rows": table.to_dict("records"),
                    "ratings": comparison.ratings.drop(
                        columns=["breakdown"], errors="ignore"
                    ).to_dict("records"),
                    "strengths": comparison.strengths,
                    "weaknesses": comparison.weaknesses,
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
            + "\n"
        )
        return
    if fmt == "csv":
        sys.stdout.write(safe_io.frame_to_csv(table))
        return
    if fmt == "html":
        path = out_path or settings.output_dir / f"compare-{'-'.join(parks)}-{year}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        safe_io.write_text(
            path, comparing.render_html(comparison, names, year, demo=demo, lang=settings.lang)
        )
        out.print(str(path))
        return
    grid = Table(title=f"{year}")
    grid.add_column("指标" if settings.lang == "zh" else "Indicator")
    for p in parks:
        grid.add_column(escape(names.get(p, p)), justify="right")
    for _, part in table.groupby("indicator", sort=False):
        by = part.set_index("subject")
        cells = []
        for p in parks:
            if p not in by.index:
                cells.append("—")
                continue
            r = by.loc[p]
            pct = (
                ""
                if r["percentile"] is None
                or (isinstance(r["percentile"], float) and math.isnan(r["percentile"]))
                else (f" [dim]P{r['percentile']:.0f}[/dim]")
            )
            cells.append(f"{_num(r['value'])}{pct}")
        label_column = "name_en" if settings.lang == "en" and "name_en" in part else "name_zh"
        grid.add_row(escape(str(part[label_column].iloc[0])), *cells)
    rated = comparison.ratings
    for p in parks:
        mine = rated[rated["subject_id"] == p]
        if len(mine):
            r = mine.iloc[0]
            status = str(r.get("status") or "rated")
            stars = (
                stars_text(r["stars"], settings.lang)
                if status in ("rated", "vetoed")
                else t(f"rating.{status}", settings.lang)  # incomplete, held: no stars to show
            )
            rank = f"{_shown(r['rank'])}/{_shown(r['peer_size'])}"
            out.print(
                f"{escape(names.get(p, p))}：评价得分 {_num(r['score'])}，{stars}，同类排名 {rank}"
                if settings.lang == "zh"
                else f"{escape(names.get(p, p))}: score {_num(r['score'])}, {stars}, rank {rank}"
            )
    out.print(grid)
    for p in parks:
        strong, weak = comparison.strengths[p], comparison.weaknesses[p]
        if settings.lang == "en" and "name_en" in table:
            english = dict(zip(table["name_zh"], table["name_en"], strict=False))
            strong = [english.get(n, n) for n in strong]
            weak = [english.get(n, n) for n in weak]
        out.print(
            f"{escape(names.get(p, p))} — 强项：{escape('、'.join(strong))}"
            f"；弱项：{escape('、'.join(weak))}"
            if settings.lang == "zh"
            else f"{escape(names.get(p, p))} — strengths: {escape(', '.join(strong))}; "
            f"weaknesses: {escape(', '.join(weak))}"
        )


def _projections(ctx: typer.Context, year: int | None, fmt: OutputFormat) -> None:
    from monitor import goals as goals_module  # noqa: PLC0415
    from monitor.projection import goal_projections  # noqa: PLC0415

    settings, engine = _open(ctx)
    try:
        found = goal_projections(engine, settings.config_dir, year)
        demo = db.holds_demo_data(engine)
    finally:
        engine.dispose()
    demo_notice(demo, settings.lang, machine=fmt is not OutputFormat.table)
    names = {g.id: g for g in goals_module.load_goals(settings.config_dir)}
    rows = [
        {
            "goal": gid,
            "model": p.model,
            "latest_year": p.latest_year,
            "latest": round(p.latest, 4),
            "target": p.target,
            "target_year": p.target_year,
            "at_deadline": round(p.at_deadline, 4),
            "low": round(p.low, 4),
            "high": round(p.high, 4),
            "met_year": p.met_year,
            "pace": round(p.pace, 4),
            "needed": None if p.needed is None else round(p.needed, 4),
        }
        for gid, p in found.items()
    ]
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt is OutputFormat.csv:
        import pandas as pd  # noqa: PLC0415

        sys.stdout.write(safe_io.frame_to_csv(pd.DataFrame(rows)))
        return
    zh = settings.lang == "zh"
    table = Table(title="按目前速度推算的目标达成" if zh else "Goals at the current pace")
    for c in (
        ("目标", "Goal"),
        ("最新", "Latest"),
        ("目标值", "Target"),
        ("截止时推算（10%–90%）", "At the deadline (10-90 %)"),
        ("按目前速度达成于", "Met at this pace in"),
        ("目前速度 / 所需", "Pace / needed"),
    ):
        table.add_column(c[0] if zh else c[1])
    for row in rows:
        goal = names[str(row["goal"])]
        rate = row["model"] == "cagr"

        def shown(v: object, rate: bool = rate) -> str:
            if not isinstance(v, float | int):
                return "—"
            return (
                f"{v * 100:+.1f}%/年"
                if rate and zh
                else (f"{v * 100:+.1f}%/yr" if rate else f"{v:.1f}/年" if zh else f"{v:.1f}/yr")
            )

        table.add_row(
            goal.name_zh if zh else (goal.name_en or goal.name_zh),
            f"{row['latest']:g} ({row['latest_year']})",
            f"{row['target']:g} ({row['target_year']})",
            f"{row['at_deadline']:.4g} ({row['low']:.4g}–{row['high']:.4g})",
            str(row["met_year"] or ("期限后十年内不达成" if zh else "not within 10 years")),
            f"{shown(row['pace'])} / {shown(row['needed'])}",
        )
    out.print(table)
