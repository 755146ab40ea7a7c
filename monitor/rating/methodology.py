"""Rating methodologies: TOML files a methodology officer can read, validated and hashed.

Two types share one vocabulary (groups, items, stars):

- ``stars`` (default): item points from rules — ``linear`` between floor and cap, step ``tiers``,
  ``peer_ratio`` (value over the median of the other carriers in the peer group), ``yes_no`` —
  on an indicator or on a ratio of two (``numerator`` / ``denominator``); group points cap their
  items; bonus items with their own cap; veto items (一票否决); a minimum data completeness;
  star bands by minimum score and, optionally, a place in the top share of the peer group.
- ``composite``: the plan's five monitoring dimensions as a composite indicator — normalisation
  (``minmax_all_years``, ``zscore`` or ``goalpost``), weights, ``arithmetic`` or ``geometric``
  aggregation — on a 0–100 scale, with the same star bands.

The content hash is the SHA-256 of the parsed methodology, so any change of a weight, a bound or
a threshold changes it; it is stored with every rating.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from monitor import config_schema
from monitor.errors import RatingError

RULES = ("linear", "tiers", "peer_ratio", "yes_no", "normalised")
MISSING = ("zero", "peer_median")
NORMALISATIONS = ("minmax_all_years", "zscore", "goalpost")
AGGREGATIONS = ("arithmetic", "geometric")
RATINGS_DIR = "ratings"


@dataclass(frozen=True)
class Group:
    id: str
    name_zh: str
    name_en: str
    points: float


@dataclass(frozen=True)
class Item:
    id: str
    group: str
    name_zh: str
    rule: str
    points: float
    indicator: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    floor: float | None = None
    cap: float | None = None
    tiers: tuple[tuple[float, float], ...] = ()
    threshold: float = 1.0
    weight: float = 1.0
    direction: str = "higher"
    goalposts: tuple[float, float] | None = None
    name_en: str = ""

    @property
    def inputs(self) -> tuple[str, ...]:
        if self.indicator:
            return (self.indicator,)
        assert self.numerator and self.denominator
        return (self.numerator, self.denominator)

    @property
    def driver(self) -> str:
        """The indicator a carrier would change to move this item (the numerator of a ratio)."""
        return self.indicator or self.numerator or ""


@dataclass(frozen=True)
class Veto:
    id: str
    name_zh: str
    indicator: str
    threshold: float = 1.0


@dataclass(frozen=True)
class Band:
    stars: int
    min_score: float
    top_share: float | None = None


@dataclass(frozen=True)
class Methodology:
    name: str
    version: str
    title_zh: str
    title_en: str
    type: str
    kinds: tuple[str, ...]
    subject: str
    level: str | None
    peer_by: tuple[str, ...]
    min_completeness: float
    missing: str
    groups: tuple[Group, ...]
    items: tuple[Item, ...]
    bonus_items: tuple[Item, ...]
    bonus_cap: float
    vetoes: tuple[Veto, ...]
    bands: tuple[Band, ...]
    normalisation: str = "minmax_all_years"
    aggregation: str = "arithmetic"
    sources: tuple[str, ...] = ()
    path: str = field(default="", compare=False)

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 of every field (computed once: it is asked for per stored rating)."""
        data = asdict(self)
        data.pop("path")
        for item in (*data["items"], *data["bonus_items"]):
            if not item["name_en"]:  # an item without an English name hashes as it always did
                del item["name_en"]
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def indicators(self) -> tuple[str, ...]:
        codes: list[str] = []
        for item in (*self.items, *self.bonus_items):
            codes += [c for c in item.inputs if c not in codes]
        codes += [v.indicator for v in self.vetoes if v.indicator not in codes]
        return tuple(codes)

    @property
    def max_points(self) -> float:
        return float(sum(g.points for g in self.groups))

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)


def _item(
    raw: dict[str, Any], where: str, kind: str, groups: set[str], bonus: bool = False
) -> Item:
    rule = str(raw.get("rule", "normalised" if kind == "composite" else ""))
    if rule not in RULES:
        raise RatingError(f"{where}: rule {rule!r}; expected one of {', '.join(RULES)}")
    has_ind = bool(raw.get("indicator"))
    has_ratio = bool(raw.get("numerator")) and bool(raw.get("denominator"))
    if has_ind == has_ratio:
        raise RatingError(f"{where}: give either indicator, or numerator and denominator")
    group = "" if bonus else str(raw.get("group", ""))
    if not bonus and group not in groups:
        raise RatingError(f"{where}: group {group!r} is not one of {', '.join(sorted(groups))}")
    tiers = tuple((float(t[0]), float(t[1])) for t in raw.get("tiers", []))
    points = float(raw.get("points", 0 if kind == "composite" else -1))
    if kind != "composite" and points <= 0:
        raise RatingError(f"{where}: points must be positive")
    if rule == "linear" and (
        raw.get("floor") is None
        or raw.get("cap") is None
        or float(raw["floor"]) == float(raw["cap"])
    ):
        raise RatingError(f"{where}: a linear rule needs floor and cap (different values)")
    if rule == "tiers":
        if not tiers or any(b[0] <= a[0] or b[1] < a[1] for a, b in itertools.pairwise(tiers)):
            raise RatingError(
                f"{where}: tiers must be [[threshold, points], …] with rising thresholds and points"
            )
        if tiers[-1][1] > points:
            raise RatingError(
                f"{where}: the top tier gives {tiers[-1][1]} points, more than the item's {points}"
            )
    if rule == "peer_ratio" and float(raw.get("cap", 0)) <= 0:
        raise RatingError(
            f"{where}: peer_ratio needs cap > 0 (the ratio to the median that earns full points)"
        )
    goalposts = raw.get("goalposts")
    direction = str(raw.get("direction", "higher"))
    if direction not in ("higher", "lower"):
        raise RatingError(f"{where}: direction {direction!r}; expected higher or lower")
    return Item(
        id=str(raw["id"]),
        group=group,
        name_zh=str(raw.get("name_zh", raw["id"])),
        rule=rule,
        points=points,
        indicator=raw.get("indicator"),
        numerator=raw.get("numerator"),
        denominator=raw.get("denominator"),
        floor=None if raw.get("floor") is None else float(raw["floor"]),
        cap=None if raw.get("cap") is None else float(raw["cap"]),
        tiers=tiers,
        threshold=float(raw.get("threshold", 1.0)),
        weight=float(raw.get("weight", 1.0)),
        direction=direction,
        goalposts=None if goalposts is None else (float(goalposts[0]), float(goalposts[1])),
        name_en=str(raw.get("name_en", "")),
    )


def parse_methodology(data: dict[str, Any], where: str) -> Methodology:
    config_schema.check(where, data, "methodology")  # every key declared, every value typed
    kind = str(data.get("type", "stars"))
    if kind not in ("stars", "composite"):
        raise RatingError(f"{where}: type {kind!r}; expected stars or composite")
    for key in ("name", "version"):
        if not data.get(key):
            raise RatingError(f"{where}: '{key}' is required")
    groups = []
    for g in data.get("group", []):
        groups.append(
            Group(
                str(g["id"]),
                str(g.get("name_zh", g["id"])),
                str(g.get("name_en", "")),
                float(g["points"]),
            )
        )
    if not groups:
        raise RatingError(f"{where}: at least one [[group]] is needed")
    ids = {g.id for g in groups}
    items = tuple(
        _item(raw, f"{where}, item #{i} ({raw.get('id', '?')})", kind, ids)
        for i, raw in enumerate(data.get("item", []), 1)
    )
    if not items:
        raise RatingError(f"{where}: at least one [[item]] is needed")
    item_ids = [it.id for it in items]
    if len(set(item_ids)) != len(item_ids):
        raise RatingError(f"{where}: item ids must be unique")
    bonus = data.get("bonus", {})
    bonus_items = tuple(
        _item(raw, f"{where}, bonus item #{i}", kind, ids, bonus=True)
        for i, raw in enumerate(bonus.get("item", []), 1)
    )
    vetoes = []
    for v in data.get("veto", []):
        vetoes.append(
            Veto(
                str(v["id"]),
                str(v.get("name_zh", v["id"])),
                str(v["indicator"]),
                float(v.get("threshold", 1.0)),
            )
        )
    bands = []
    for i, b in enumerate(data.get("stars", []), 1):
        share = b.get("top_share")
        if share is not None and not 0 < float(share) <= 1:
            raise RatingError(f"{where}, stars #{i}: top_share must be in (0, 1]")
        bands.append(
            Band(
                int(b["stars"]),
                float(b.get("min_score", 0)),
                None if share is None else float(share),
            )
        )
    bands.sort(key=lambda b: -b.stars)
    missing = str(data.get("missing", "zero"))
    if missing not in MISSING:
        raise RatingError(f"{where}: missing = {missing!r}; expected one of {', '.join(MISSING)}")
    normalisation = str(data.get("normalisation", "minmax_all_years"))
    if normalisation not in NORMALISATIONS:
        raise RatingError(
            f"{where}: normalisation {normalisation!r}; expected one of {', '.join(NORMALISATIONS)}"
        )
    aggregation = str(data.get("aggregation", "arithmetic"))
    if aggregation not in AGGREGATIONS:
        raise RatingError(
            f"{where}: aggregation {aggregation!r}; expected one of {', '.join(AGGREGATIONS)}"
        )
    if (
        kind == "composite"
        and normalisation == "goalpost"
        and any(it.goalposts is None for it in items)
    ):
        raise RatingError(
            f"{where}: goalpost normalisation needs goalposts = [low, high] on every item"
        )
    return Methodology(
        name=str(data["name"]),
        version=str(data["version"]),
        title_zh=str(data.get("title_zh", data["name"])),
        title_en=str(data.get("title_en", "")),
        type=kind,
        kinds=tuple(data.get("kinds", [])),
        subject=str(data.get("subject", "park")),
        level=data.get("level"),
        peer_by=tuple(data.get("peer_by", [])),
        min_completeness=float(data.get("min_completeness", 0.0)),
        missing=missing,
        groups=tuple(groups),
        items=items,
        bonus_items=bonus_items,
        bonus_cap=float(bonus.get("cap", 0.0)),
        vetoes=tuple(vetoes),
        bands=tuple(bands),
        normalisation=normalisation,
        aggregation=aggregation,
        sources=tuple(str(s) for s in data.get("sources", [])),
        path=where,
    )


def load_methodology(path: Path) -> Methodology:
    data = config_schema.read_toml(path)
    assert data is not None  # absent is an error unless missing_ok
    return parse_methodology(data, str(path))


def load_methodologies(config_dir: Path) -> list[Methodology]:
    folder = config_dir / RATINGS_DIR
    return [load_methodology(p) for p in sorted(folder.glob("*.toml"))]
