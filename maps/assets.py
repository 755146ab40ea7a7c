"""Leaflet, inlined: read from the ``django-js-lib-leaflet`` package (Leaflet 1.9.4's dist files),
never from a CDN, so a map draws on an office network with no internet. The CSS's images are
inlined as data URIs. Nothing third-party is copied into this repository."""

from __future__ import annotations

import base64
import importlib.util
import re
from functools import cache
from pathlib import Path

from geo.errors import GeoError

PACKAGE = "js_lib_leaflet"


@cache
def _static() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GeoError(
            "the maps need the django-js-lib-leaflet package (Leaflet's files): "
            "pip install django-js-lib-leaflet"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "static" / PACKAGE


@cache
def leaflet_js() -> str:
    return (_static() / "leaflet.js").read_text(encoding="utf-8")


@cache
def leaflet_css() -> str:
    css = (_static() / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        path = _static() / match.group(1)
        if not path.exists():
            return "url(data:,)"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, css)
