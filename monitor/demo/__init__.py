"""The demo, in one package: the generator of demo carriers and figures (``generate``), the
sample source files made from them (``samples``), the loopback server that serves the HTTP
samples (``server``) and the demo build (``build``). Everything it makes is labelled demo data.
"""

from monitor.demo.build import (
    DemoSummary,
    build_demo,
    collect_samples,
    load_demo,
    sample_sources,
    write_demo_samples,
)
from monitor.demo.generate import (
    DEMO_LABEL_EN,
    DEMO_LABEL_ZH,
    DEMO_SEED,
    DEMO_SOURCE,
    DemoData,
    generate_demo,
)
from monitor.demo.server import serve_samples

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
