"""The demo, in one package: the generator of demo carriers and figures (``generate``), the
sample source files made from them (``samples``), the loopback server that serves the HTTP
samples (``server``), the demo build (``build``) and the scale demo (``scale``). Everything it
makes is labelled demo data.

Names are imported on first use (the command line starts without pandas and numpy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from monitor.demo.labels import DEMO_LABEL_EN, DEMO_LABEL_ZH, DEMO_SEED, DEMO_SOURCE

if TYPE_CHECKING:
    from monitor.demo.build import (
        DemoSummary,
        build_demo,
        collect_samples,
        load_demo,
        sample_sources,
        write_demo_samples,
    )
    from monitor.demo.generate import DemoData, generate_demo
    from monitor.demo.server import serve_samples

_WHERE = {
    "DemoSummary": "monitor.demo.build",
    "build_demo": "monitor.demo.build",
    "collect_samples": "monitor.demo.build",
    "load_demo": "monitor.demo.build",
    "sample_sources": "monitor.demo.build",
    "write_demo_samples": "monitor.demo.build",
    "DemoData": "monitor.demo.generate",
    "generate_demo": "monitor.demo.generate",
    "serve_samples": "monitor.demo.server",
}

__all__ = [
    "DEMO_LABEL_EN",
    "DEMO_LABEL_ZH",
    "DEMO_SEED",
    "DEMO_SOURCE",
    "DemoData",
    "DemoSummary",
    "build_demo",
    "collect_samples",
    "generate_demo",
    "load_demo",
    "sample_sources",
    "serve_samples",
    "write_demo_samples",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'monitor.demo' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
