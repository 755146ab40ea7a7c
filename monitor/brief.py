"""The meeting brief (``parkmon brief YEAR``): one printable document for a bureau meeting.

Headline goals with their status, what they rest on and their trend with the projection band;
the year's star distribution and the changes since last year; the early warning; the rankings;
data quality; the map. One self-contained HTML file (inline CSS and SVG: no script, no network)
with a print stylesheet — A4, page breaks between sections, each page headed with the date and,
for demo data, "演示数据" — and, when WeasyPrint and a CJK font are installed, the same document
as PDF (``write_pdf``).
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from monitor import db, goals, quality, report, risks, safe_io, store, views
from monitor.brief_svg import STAR_COLOURS, map_svg, trend_svg
from monitor.errors import ConfigError
from monitor.i18n import stars_text, t
from monitor.projection import goal_projections
from monitor.rating import load_methodologies
from monitor.registry import load_city

esc = html.escape
RISKS_SHOWN = 15
QUALITY_SHOWN = 10


@dataclass
class Brief:
    year: int
    city: str
    demo: bool
    made: datetime
    goals: list[dict[str, Any]] = field(default_factory=list)
    stars: pd.DataFrame = field(default_factory=pd.DataFrame)  # kind × stars: this year, last
    moves: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → up / same / down
    risks: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: str = ""
    rankings: pd.DataFrame = field(default_factory=pd.DataFrame)
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    carriers: pd.DataFrame = field(default_factory=pd.DataFrame)
    map_svg: str = ""
    units: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # rating items' labels in English


def gather(
    engine: Engine,
    config_dir: Path,
    year: int,
    lang: str = "zh",
    *,
    district: str | None = None,
    backtest: bool = True,
) -> Brief:
    """Everything the brief shows, read from the database (reads only). ``district`` (an
    adcode): that district's goals, carriers, risks, quality and map; ``backtest``: include the
    early warning's back-test (it rates every earlier year again)."""
    ratings = store.ratings_frame(
        engine, columns=["subject_type", "subject_id", "year", "kind", "stars", "status"]
    )
    ratings = ratings[ratings["subject_type"] == "park"]
    if not (ratings["year"] == year).any():
        raise ConfigError(f"no stored ratings for {year}: run `parkmon rate {year}` first")
    city = load_city(config_dir)
    place = city.district(district) if district else None
    if district and place is None:
        raise ConfigError(f"district {district!r}: not a district of the city")
    here = None
    if place is not None:
        parks = store.park_table(engine, columns=["district_id"])
        here = set(parks.loc[parks["district_id"] == place.adcode, "id"])
        ratings = ratings[ratings["subject_id"].isin(here)]
    name = city.name if lang == "zh" else city.name_en
    if place is not None:
        name = place.name if lang == "zh" else place.name_en
    brief = Brief(
        year=year,
        city=name,
        demo=db.holds_demo_data(engine),
        made=datetime.now(UTC),
        units={str(r["code"]): str(r["unit"] or "") for r in store.indicator_rows(engine)},
        labels=report.item_labels(
            load_methodologies(config_dir), lang, views.indicator_names_en(engine)
        ),
    )
    brief.goals = _goals(
        engine, config_dir, year, place.adcode if place else city.adcode, place is not None, lang
    )
    brief.stars, brief.moves = _stars(ratings, year)
    runs: dict[int, Any] = {}  # each year rated once for the warning and its back-test
    warning = risks.risk_frame(engine, config_dir, year, runs=runs)
    brief.risks = warning if here is None else warning[warning["id"].isin(here)]
    years = risks.backtest_years(engine, year) if backtest else []
    if years:
        tested = risks.backtest(engine, config_dir, years, runs=runs)
        brief.backtest = risks.backtest_text(tested, lang, brief.demo)
    ranked = store.rankings_frame(engine)
    ranked = ranked[ranked["year"] <= year]
    names = _subject_names(engine, lang)
    brief.rankings = ranked.assign(
        subject=[names.get(str(s), str(s)) for s in ranked["subject_id"]]
    )
    brief.sources = quality.source_quality(engine).head(QUALITY_SHOWN)
    carriers = quality.carrier_quality(engine, year)
    if here is not None:
        carriers = carriers[carriers["id"].isin(here)]
    brief.carriers = carriers.head(QUALITY_SHOWN)
    brief.map_svg = _map(
        engine,
        ratings[ratings["year"] == year],
        t("brief.map", lang),
        place.adcode if place else None,
    )
    return brief


def _subject_names(engine: Engine, lang: str) -> dict[str, str]:
    """Carriers' and regions' names (English where the registry has them and is asked)."""
    parks = store.park_table(engine, columns=["name", "name_en"])
    regions = store.regions_frame(engine)
    out = {}
    for frame in (parks, regions):
        english = frame["name_en"] if lang == "en" and "name_en" in frame else None
        for i, (key, name) in enumerate(zip(frame["id"], frame["name"], strict=True)):
            other = english.iloc[i] if english is not None else None
            out[str(key)] = str(other) if isinstance(other, str) and other else str(name)
    return out


def _goals(
    engine: Engine,
    config_dir: Path,
    year: int,
    city: str,
    district: bool = False,
    lang: str = "zh",
) -> list[dict[str, Any]]:
    """Each goal's progress at the scope (the city, or a district by its adcode ``city``), its
    yearly values there and, for the city, its projection."""
    progress = views.goal_progress(
        engine, config_dir, year=year, district=city if district else None
    )
    projected = {} if district else goal_projections(engine, config_dir, year)
    specs = {g.id: g for g in goals.load_goals(config_dir)}
    codes = sorted({s.indicator for s in specs.values() if s.indicator})
    obs = store.observations_frame(engine, subject_type="region", indicators=codes, columns=())
    obs = obs[obs["subject_id"] == city]
    out = []
    for p in progress:
        spec = specs.get(p.goal)
        series: list[tuple[int, float]] = []
        if spec is not None and spec.indicator and p.kind in ("level", "cumulative", "growth"):
            mine = obs[obs["indicator"] == spec.indicator]
            series = sorted(
                (int(y), float(v))
                for y, v in zip(mine["period"], mine["value"], strict=True)
                if str(y).isdigit() and int(y) <= year
            )
            if p.kind == "cumulative":
                series = sorted(goals.running_total(dict(series), spec.baseline_year).items())
        projection = projected.get(p.goal)
        out.append(
            {
                "progress": p,
                "series": series,
                "projection": projection,
                "basis": quality.goal_basis_text(p, year, lang),
            }
        )
    return out


def _stars(ratings: pd.DataFrame, year: int) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Counts per kind and stars (0: vetoed) this year and last; moves of the carriers rated
    both years."""
    now = ratings[ratings["year"] == year]
    before = ratings[ratings["year"] == year - 1]
    rows = []
    for kind in sorted(set(now["kind"])):
        for stars in (5, 4, 3, 2, 1, 0):
            count_now = int(((now["kind"] == kind) & (now["stars"] == stars)).sum())
            count_before = int(((before["kind"] == kind) & (before["stars"] == stars)).sum())
            rows.append([kind, stars, count_now, count_before])
        unrated = int(((now["kind"] == kind) & now["stars"].isna()).sum())
        rows.append(
            [kind, None, unrated, int(((before["kind"] == kind) & before["stars"].isna()).sum())]
        )
    table = pd.DataFrame(rows, columns=["kind", "stars", "now", "before"])
    moves: dict[str, dict[str, int]] = {}
    both = now.merge(before, on="subject_id", suffixes=("", "_before"))
    both = both.dropna(subset=["stars", "stars_before"])
    for kind, part in both.groupby("kind"):
        moves[str(kind)] = {
            "up": int((part["stars"] > part["stars_before"]).sum()),
            "same": int((part["stars"] == part["stars_before"]).sum()),
            "down": int((part["stars"] < part["stars_before"]).sum()),
        }
    return table, moves


def _map(engine: Engine, rated: pd.DataFrame, label: str, district: str | None = None) -> str:
    regions = store.regions_frame(engine, levels=["district"])
    if district is not None:
        regions = regions[regions["id"] == district]
    parks = store.park_table(engine, columns=["lon", "lat"])
    stars = dict(zip(rated["subject_id"], rated["stars"], strict=True))
    dots = [
        (float(lon), float(lat), None if pd.isna(stars.get(pid)) else float(stars[pid]))
        for pid, lon, lat in zip(parks["id"], parks["lon"], parks["lat"], strict=True)
        if pid in stars and lon is not None and lat is not None and not pd.isna(lon)
    ]
    shapes = list(zip(regions["name"].astype(str), regions.geometry, strict=True))
    return map_svg(shapes, dots, label=label)


# --- HTML ----------------------------------------------------------------------------------------


def render_html(brief: Brief, lang: str = "zh") -> str:
    """The brief as one self-contained, printable HTML page."""
    title = t("brief.title", lang, city=brief.city, year=brief.year)
    made = brief.made.strftime("%Y-%m-%d")
    running = f"{title} · {made}" + (f" · {t('brief.demo', lang)}" if brief.demo else "")
    parts = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_style(running)}</style></head><body>",
    ]
    if brief.demo:
        parts.append(f'<div class="demo" role="note">{esc(t("msg.demo_banner", lang))}</div>')
    parts.append(f"<h1>{esc(title)}</h1>")
    parts.append(f'<p class="meta">{esc(t("brief.made", lang, date=made))}</p>')
    parts += _html_goals(brief, lang)
    parts += _html_stars(brief, lang)
    parts += _html_risks(brief, lang)
    parts += _html_rankings(brief, lang)
    parts += _html_quality(brief, lang)
    if brief.map_svg:
        parts.append(f'<section class="page"><h2>{esc(t("brief.map", lang))}</h2>')
        parts.append(brief.map_svg)
        legend = " ".join(
            f'<span style="color:{c}">●</span> {esc(stars_text(s, lang))}'
            for s, c in sorted(STAR_COLOURS.items(), reverse=True)
        )
        parts.append(f'<p class="meta">{legend}</p></section>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _style(running: str) -> str:
    header = running.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "body{font-family:'WenQuanYi Zen Hei','Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
        "color:#222;margin:1.5em;font-size:12px}h1{font-size:20px}h2{font-size:16px;"
        "border-bottom:2px solid #c8102e;padding-bottom:2px}table{border-collapse:collapse;"
        "margin:.4em 0;width:100%}td,th{border:1px solid #ccc;padding:2px 5px;vertical-align:top}"
        "th{background:#f3f3f3;text-align:left}.num{text-align:right}.meta{color:#666}"
        ".demo{background:#fff3cd;border:1px solid #e0b000;padding:.5em;font-weight:bold}"
        ".again{color:#a00;font-weight:bold}.goal{display:inline-block;width:48%;"
        "vertical-align:top;margin:0 1% .8em 0;break-inside:avoid}.status{font-weight:bold}"
        ".achieved,.on_track{color:#2e7d32}.moderate{color:#b8860b}.limited,.moving_away,"
        ".off_track{color:#a00}"
        "@page{size:A4;margin:18mm 14mm 16mm 14mm;"
        f'@top-center{{content:"{header}";font-size:9px;color:#666}}'
        '@bottom-right{content:counter(page) " / " counter(pages);font-size:9px;color:#666}}'
        "@media print{body{margin:0}.page{break-before:page}tr{break-inside:avoid}}"
    )


def _status(p: Any, lang: str) -> str:
    text = p.status_zh if lang == "zh" else p.status.replace("_", " ")
    return f'<span class="status {esc(p.status)}">{esc(text)}</span>'


def _html_goals(brief: Brief, lang: str) -> list[str]:
    parts = [f"<section><h2>{esc(t('brief.goals', lang))}</h2>"]

    def measured(g: dict[str, Any]) -> bool:
        p = g["progress"]
        return p.status != goals.NO_DATA and (
            p.latest is not None or bool(p.numbers.get("censored_latest"))
        )

    shown = [g for g in brief.goals if measured(g)]
    for g in shown:
        p = g["progress"]
        name = p.name_zh if lang == "zh" else (p.name_en or p.name_zh)
        basis = g["basis"]
        projection = g["projection"]
        path = projection.path if projection is not None else []
        # a growth goal's target is a rate, not a point on the values' scale
        # a district without its own share has no target to mark
        target = None if p.kind == "growth" or p.status == goals.NO_TARGET else p.target
        chart = trend_svg(g["series"], path, target, p.target_year, label=name)
        when = ""
        if projection is not None:
            when = (
                t("web.projection.met", lang, year=projection.met_year)
                if projection.met_year
                else t("web.projection.never", lang)
            )
        parts.append(
            f'<div class="goal"><b>{esc(name)}</b> {_status(p, lang)}<br>'
            f"{esc(t('web.latest', lang))}: {esc(p.latest_text(lang))}"
            f"{f' ({p.latest_year})' if p.latest_year else ''} · "
            f"{esc(t('web.target', lang))}: {esc(p.target_text(lang))} ({p.target_year})<br>"
            f'<span class="meta">{esc(t("web.rests_on", lang))}: {esc(basis)}</span>'
            f"{f'<br>{esc(when)}' if when else ''}<br>{chart}</div>"
        )
    missing = [g for g in brief.goals if not measured(g)]
    if missing:
        names = "、".join(
            (
                g["progress"].name_zh
                if lang == "zh"
                else g["progress"].name_en or g["progress"].name_zh
            )
            for g in missing
        )
        parts.append(
            f'<p class="meta">{esc(t("brief.no_data", lang, n=len(missing)))}{esc(names)}</p>'
        )
    parts.append("</section>")
    return parts


def _html_stars(brief: Brief, lang: str) -> list[str]:
    parts = [f'<section class="page"><h2>{esc(t("brief.stars", lang, year=brief.year))}</h2>']
    for kind, part in brief.stars.groupby("kind", sort=True):
        parts.append(f"<h3>{esc(t(f'kind.{kind}', lang))}</h3><table>")
        parts.append(
            f"<tr><th>{esc(t('col.stars', lang))}</th><th class='num'>{brief.year}</th>"
            f"<th class='num'>{brief.year - 1}</th></tr>"
        )
        for row in part.to_dict("records"):
            label = (
                t("brief.unrated", lang)
                if row["stars"] is None or pd.isna(row["stars"])
                else stars_text(row["stars"], lang)
            )
            parts.append(
                f"<tr><td>{esc(label)}</td><td class='num'>{row['now']}</td>"
                f"<td class='num'>{row['before']}</td></tr>"
            )
        parts.append("</table>")
        moves = brief.moves.get(str(kind))
        if moves:
            parts.append(f"<p>{esc(t('brief.moves', lang, **moves))}</p>")
    parts.append("</section>")
    return parts


def _html_risks(brief: Brief, lang: str) -> list[str]:
    frame = brief.risks
    watched = frame[(frame["level"] != "low") | frame["again"]] if len(frame) else frame
    parts = [f'<section class="page"><h2>{esc(t("risk.title", lang, year=brief.year))}</h2>']
    if len(frame):
        counts = frame["level"].value_counts().to_dict()
        parts.append(
            "<p>"
            + esc(
                t(
                    "web.risks.counts",
                    lang,
                    high=counts.get("high", 0),
                    watch=counts.get("watch", 0),
                    again=int(frame["again"].sum()),
                )
            )
            + "</p>"
        )
    if brief.backtest:
        parts.append(f'<p class="meta">{esc(brief.backtest)}</p>')
    heads = ("col.name", "risk.col.level", "risk.col.risk", "risk.col.stars", "risk.col.expected")
    parts.append(
        "<table><tr>"
        + "".join(f"<th>{esc(t(h, lang))}</th>" for h in heads)
        + f"<th>{esc(t('risk.col.levers', lang))}</th></tr>"
    )
    none = t("risk.no_single", lang)
    for r in watched.head(RISKS_SHOWN).to_dict("records"):
        level = t("risk.again", lang) if r["again"] else t(f"risk.level.{r['level']}", lang)
        expected = "—" if _nan(r["expected"]) else f"{r['expected']:.1f}"
        levers = risks.levers_text(r["levers"], brief.units, lang, brief.labels)
        parts.append(
            f"<tr><td>{esc(str(r['name']))}</td>"
            f"<td{' class=again' if r['again'] else ''}>{esc(level)}</td>"
            f"<td class='num'>{r['risk']:.0f}</td><td>{esc(stars_text(r['stars'], lang))}</td>"
            f"<td class='num'>{expected}</td>"
            f"<td>{esc(levers or none)}</td></tr>"
        )
    parts.append("</table>")
    if len(watched) > RISKS_SHOWN:
        parts.append(
            f'<p class="meta">{esc(t("brief.more", lang, n=len(watched) - RISKS_SHOWN))}</p>'
        )
    parts.append("</section>")
    return parts


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _html_rankings(brief: Brief, lang: str) -> list[str]:
    frame = brief.rankings
    parts = [f"<section><h2>{esc(t('web.nav.rankings', lang))}</h2>"]
    if frame.empty:
        parts.append(f'<p class="meta">{esc(t("web.none", lang))}</p></section>')
        return parts
    latest = frame.sort_values("year").groupby(["ranking", "subject_id"]).tail(1)
    parts.append(
        f"<table><tr><th>{esc(t('rankings.ranking', lang))}</th>"
        f"<th>{esc(t('rankings.subject_id', lang))}</th><th class='num'>"
        f"{esc(t('rankings.year', lang))}</th><th class='num'>"
        f"{esc(t('rankings.position', lang))}</th></tr>"
    )
    for r in latest.to_dict("records"):
        position = (
            t("web.outside_top", lang, n=r["position"])
            if r.get("relation") == "gt"
            else str(r["position"])
        )
        parts.append(
            f"<tr><td>{esc(str(r['ranking']))}</td><td>{esc(str(r['subject']))}</td>"
            f"<td class='num'>{r['year']}</td><td class='num'>{esc(position)}</td></tr>"
        )
    parts.append("</table></section>")
    return parts


def _html_quality(brief: Brief, lang: str) -> list[str]:
    parts = [f"<section><h2>{esc(t('web.nav.quality', lang))}</h2>"]
    parts.append(f"<h3>{esc(t('web.quality.sources', lang))}</h3><table>")
    parts.append(
        f"<tr><th>{esc(t('col.source', lang))}</th><th class='num'>"
        f"{esc(t('web.quality.validity', lang))}</th><th class='num'>"
        f"{esc(t('web.quality.score', lang))}</th></tr>"
    )
    for r in brief.sources.to_dict("records"):
        parts.append(
            f"<tr><td>{esc(str(r['source']))}</td><td class='num'>{r['validity']:.0%}</td>"
            f"<td class='num'>{r['score']:.0f}</td></tr>"
        )
    parts.append(f"</table><h3>{esc(t('web.quality.carriers', lang, year=brief.year))}</h3>")
    parts.append(
        f"<table><tr><th>{esc(t('col.name', lang))}</th><th class='num'>"
        f"{esc(t('web.quality.completeness', lang))}</th><th class='num'>"
        f"{esc(t('risk.col.late', lang))}</th><th class='num'>"
        f"{esc(t('web.quality.score', lang))}</th></tr>"
    )
    for r in brief.carriers.to_dict("records"):
        late = "—" if _nan(r["days_late"]) else str(int(r["days_late"]))
        parts.append(
            f"<tr><td>{esc(str(r['name']))}</td><td class='num'>{r['completeness']:.0%}</td>"
            f"<td class='num'>{late}</td><td class='num'>{r['score']:.0f}</td></tr>"
        )
    parts.append("</table></section>")
    return parts


# --- PDF -----------------------------------------------------------------------------------------


def cjk_font() -> str | None:
    """The family of an installed font with Chinese glyphs (fontconfig), or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        found = subprocess.run(
            [fc_list, ":lang=zh", "family"], check=False, capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families = [line.split(",")[0].strip() for line in found.splitlines() if line.strip()]
    return families[0] if families else None


def pdf_unavailable() -> str | None:
    """Why a PDF cannot be written here (None: it can)."""
    try:
        import weasyprint  # noqa: F401, PLC0415  (optional: the pdf extra)
    except (ImportError, OSError) as exc:  # OSError: Pango missing under WeasyPrint
        return f"WeasyPrint is not usable ({exc}); install parkmon[pdf] and Pango"
    if cjk_font() is None:
        return "no font with Chinese glyphs: install the Debian package fonts-wqy-zenhei"
    return None


def pdf_bytes(page: str) -> bytes:
    """The brief's HTML as an A4 PDF (WeasyPrint, the print stylesheet's page rules)."""
    import weasyprint  # noqa: PLC0415  (optional: the pdf extra)

    data: bytes = weasyprint.HTML(string=page, url_fetcher=_refusing_fetcher()).write_pdf()
    return data


def _refusing_fetcher() -> Any:
    """A URL fetcher that fetches nothing: the brief's styles and pictures are inline, and the
    PDF renderer must not reach the network or the disk (on a server least of all). WeasyPrint
    ≥ 66 takes a ``URLFetcher`` object, earlier versions a function."""

    def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"the brief fetches nothing: {url[:80]}")

    try:
        from weasyprint.urls import URLFetcher  # noqa: PLC0415
    except ImportError:
        return refuse

    class Refusing(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            return refuse(url)

    return Refusing()


def write_pdf(page: str, path: Path) -> Path:
    """``pdf_bytes`` written to ``path``, whole or not at all."""
    safe_io.write_bytes(path, pdf_bytes(page))
    return path


__all__: Sequence[str] = [
    "Brief",
    "gather",
    "pdf_bytes",
    "pdf_unavailable",
    "render_html",
    "write_pdf",
]
