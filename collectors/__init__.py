"""Collectors: one module per kind of source (files, HTTP JSON APIs, HTML tables).

Collectors hand normalised records to ``monitor.store`` and never write SQL themselves.
"""

from collectors.run import RunSummary, check_aliases, collect, collect_many
from collectors.sources import SourceSpec, load_sources

__all__ = ["RunSummary", "SourceSpec", "check_aliases", "collect", "collect_many", "load_sources"]
