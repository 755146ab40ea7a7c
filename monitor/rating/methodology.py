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
from typing import Any, get_args

from monitor import config_schema
from monitor.config_schema import MethodologyFile, MethodologyItem, Rule
from monitor.errors import RatingError

RULES: tuple[str, ...] = get_args(Rule)
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
    raw: MethodologyItem, where: str, kind: str, groups: set[str], bonus: bool = False
) -> Item:
    rule = raw.rule or ("normalised" if kind == "composite" else None)
    if rule is None:
        raise RatingError(f"{where}: rule is required; expected one of {', '.join(RULES)}")
    if bool(raw.indicator) == bool(raw.numerator and raw.denominator):
        raise RatingError(f"{where}: give either indicator, or numerator and denominator")
    group = "" if bonus else raw.group
    if not bonus and group not in groups:
        raise RatingError(f"{where}: group {group!r} is not one of {', '.join(sorted(groups))}")
    if any(len(t) != 2 for t in raw.tiers):
        raise RatingError(f"{where}: tiers must be [[threshold, points], …]")
    tiers = tuple((t[0], t[1]) for t in raw.tiers)
    points = raw.points if raw.points is not None else (0.0 if kind == "composite" else -1.0)
    if kind != "composite" and points <= 0:
        raise RatingError(f"{where}: points must be positive")
    if rule == "linear" and (raw.floor is None or raw.cap is None or raw.floor == raw.cap):
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
    if rule == "peer_ratio" and (raw.cap or 0) <= 0:
        raise RatingError(
            f"{where}: peer_ratio needs cap > 0 (the ratio to the median that earns full points)"
        )
    if raw.goalposts is not None and len(raw.goalposts) != 2:
        raise RatingError(f"{where}: goalposts must be [low, high]")
    return Item(
        id=raw.id,
        group=group,
        name_zh=raw.name_zh or raw.id,
        rule=rule,
        points=points,
        indicator=raw.indicator,
        numerator=raw.numerator,
        denominator=raw.denominator,
        floor=raw.floor,
        cap=raw.cap,
        tiers=tiers,
        threshold=raw.threshold,
        weight=raw.weight,
        direction=raw.direction,
        goalposts=None if raw.goalposts is None else (raw.goalposts[0], raw.goalposts[1]),
        name_en=raw.name_en,
    )


def parse_methodology(data: dict[str, Any], where: str) -> Methodology:
    """A methodology from its file's content, checked (its typed model first, then the rules
    between its parts)."""
    spec: MethodologyFile = config_schema.check(where, data, "methodology")
    kind = spec.type
    for key in ("name", "version"):
        if not getattr(spec, key):
            raise RatingError(f"{where}: '{key}' is required")
    groups = tuple(Group(g.id, g.name_zh or g.id, g.name_en, g.points) for g in spec.group)
    if not groups:
        raise RatingError(f"{where}: at least one [[group]] is needed")
    ids = {g.id for g in groups}
    items = tuple(
        _item(raw, f"{where}, item #{i} ({raw.id})", kind, ids)
        for i, raw in enumerate(spec.item, 1)
    )
    if not items:
        raise RatingError(f"{where}: at least one [[item]] is needed")
    item_ids = [it.id for it in items]
    if len(set(item_ids)) != len(item_ids):
        raise RatingError(f"{where}: item ids must be unique")
    bonus_items = tuple(
        _item(raw, f"{where}, bonus item #{i}", kind, ids, bonus=True)
        for i, raw in enumerate(spec.bonus.item, 1)
    )
    vetoes = tuple(Veto(v.id, v.name_zh or v.id, v.indicator, v.threshold) for v in spec.veto)
    for i, b in enumerate(spec.stars, 1):
        if b.top_share is not None and not 0 < b.top_share <= 1:
            raise RatingError(f"{where}, stars #{i}: top_share must be in (0, 1]")
    bands = sorted(
        (Band(b.stars, b.min_score, b.top_share) for b in spec.stars), key=lambda b: -b.stars
    )
    if (
        kind == "composite"
        and spec.normalisation == "goalpost"
        and any(it.goalposts is None for it in items)
    ):
        raise RatingError(
            f"{where}: goalpost normalisation needs goalposts = [low, high] on every item"
        )
    return Methodology(
        name=spec.name,
        version=spec.version,
        title_zh=spec.title_zh or spec.name,
        title_en=spec.title_en,
        type=kind,
        kinds=tuple(spec.kinds),
        subject=spec.subject,
        level=spec.level,
        peer_by=tuple(spec.peer_by),
        min_completeness=spec.min_completeness,
        missing=spec.missing,
        groups=groups,
        items=items,
        bonus_items=bonus_items,
        bonus_cap=spec.bonus.cap,
        vetoes=vetoes,
        bands=tuple(bands),
        normalisation=spec.normalisation,
        aggregation=spec.aggregation,
        sources=tuple(spec.sources),
        path=where,
    )


def load_methodology(path: Path) -> Methodology:
    data = config_schema.read_toml(path)
    assert data is not None  # absent is an error unless missing_ok
    return parse_methodology(data, str(path))


def load_methodologies(config_dir: Path) -> list[Methodology]:
    folder = config_dir / RATINGS_DIR
    return [load_methodology(p) for p in sorted(folder.glob("*.toml"))]
