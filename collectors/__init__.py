"""Collectors: one module per kind of source (files, HTTP JSON APIs, HTML tables).

Collectors hand normalised records to ``monitor.store`` and never write SQL themselves. Names
are imported on first use (``collectors.sources`` alone needs no httpx, pandas or openpyxl).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.run import RunSummary, check_aliases, collect, collect_many
    from collectors.sources import SourceSpec, load_sources

_WHERE = {
    "RunSummary": "collectors.run",
    "check_aliases": "collectors.run",
    "collect": "collectors.run",
    "collect_many": "collectors.run",
    "SourceSpec": "collectors.sources",
    "load_sources": "collectors.sources",
}

__all__ = ["RunSummary", "SourceSpec", "check_aliases", "collect", "collect_many", "load_sources"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'collectors' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
