"""Matching a name in a sender's file to a registered carrier or region: by id, by name or
alias after normalising (NFKC, spaces, brackets, case), and — when nothing matches — the few
likely carriers a clerk probably meant, with the obvious expansion of a short name first."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["SubjectResolver", "name_key", "short_key"]


def name_key(name: str) -> str:
    """How names are compared: NFKC, no spaces, unified brackets, lower case."""
    text = unicodedata.normalize("NFKC", name)
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）").lower()


class SubjectResolver:
    """Match a row's subject to a park (id, exact name, registry alias, source alias) or region."""

    def __init__(
        self,
        subjects: Iterable[tuple[str, str, Sequence[str]]],
        source_aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.ids: set[str] = set()
        self.by_name: dict[str, str] = {}
        self.names: dict[str, str] = {}
        for sid, name, aliases in subjects:
            self.ids.add(sid)
            self.names[sid] = name
            for n in (name, *aliases):
                if n:
                    self.by_name.setdefault(name_key(n), sid)
        for alias, sid in (source_aliases or {}).items():
            self.by_name[name_key(alias)] = sid

    def resolve(self, value: object, match: str) -> str | None:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if match in ("auto", "id") and text in self.ids:
            return text
        if match in ("auto", "name"):
            return self.by_name.get(name_key(text))
        return None

    def near(self, value: object) -> list[str]:
        """Up to three likely carriers for an unknown name, the obvious one first: a full name
        ('海安高新技术产业开发区') ranks the carrier whose short name or alias it expands
        ('海安高新区') before other zones that merely look alike."""
        query = short_key(str(value))
        if not query:
            return []
        best: dict[str, float] = {}
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(query)
        for key, sid in self.by_name.items():
            candidate = short_key(key)
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() < 0.5 and candidate not in query:
                continue
            score = matcher.ratio()
            if candidate and (candidate in query or query in candidate):
                score += 1.0 + len(candidate) / max(len(query), 1)
            if score >= 0.5 and score > best.get(sid, 0.0):
                best[sid] = score
        ranked = sorted(best, key=lambda sid: (-best[sid], sid))[:3]
        return [f"{self.names[sid]} ({sid})" for sid in ranked]


# Long official forms and their usual short forms, applied before names are compared for hints.
_SHORT_FORMS = (
    ("高新技术产业开发区", "高新区"),
    ("高新技术产业园区", "高新区"),
    ("经济技术开发区", "经开区"),
    ("经济开发区", "开发区"),
    ("科技企业孵化器", "孵化器"),
    ("江苏省", ""),
    ("江苏", ""),
    ("南通市", "南通"),
)


def short_key(name: str) -> str:
    key = name_key(name)
    for long, short in _SHORT_FORMS:
        key = key.replace(long, short)
    return key
