"""Modules imported on first use.

The command line imports pandas, SQLAlchemy, folium, geopandas and openpyxl only in the commands
that use them, so that ``parkmon --help`` and light commands start in a fraction of a second.
A command module writes::

    if TYPE_CHECKING:
        from monitor import db
    else:
        db = LazyModule("monitor.db")

and calls ``db.make_engine(…)`` as usual: the type checker sees the real modules, and the import
happens at the first attribute looked up.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for a module until an attribute of it is first asked for."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"
