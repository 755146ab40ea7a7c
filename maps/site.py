"""The site: an index page linking the maps, the report and the comparisons (self-contained)."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path


def render_index(
    title: str,
    pages: Sequence[tuple[str, str, str]],
    *,
    demo: bool,
    demo_label: str,
    note: str = "",
    lang: str = "zh",
) -> str:
    """``pages``: (file name, title, description); ``lang`` tells browsers and screen readers
    the page's language."""
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(name)}</a>'
        f"<div class='d'>{html.escape(desc)}</div></li>"
        for href, name, desc in pages
    )
    banner = f'<div class="demo">{html.escape(demo_label)}</div>' if demo else ""
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head>"
        f"<meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;"
        "color:#222}li{margin:.7em 0}"
        ".d{color:#666;font-size:13px}.demo{background:#fff3cd;border:1px solid #e0b000;"
        "padding:.6em;font-weight:bold}</style></head><body>"
        f"{banner}<h1>{html.escape(title)}</h1><ul>{items}</ul>"
        f"<p class='d'>{html.escape(note)}</p></body></html>\n"
    )


def write(path: Path, text: str) -> Path:
    """Write through a temporary file and one rename: never a half-written page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
