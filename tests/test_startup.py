"""A lean start: the command line imports the heavy libraries only in the commands that use
them (checked by what is imported, never by a stopwatch)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import monitor.cli
from monitor.lazy import LazyModule

HEAVY = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "folium", "geopandas", "openpyxl", "httpx")


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return {m.split(".")[0] for m in done.stdout.split()}


def test_the_command_line_starts_without_the_heavy_libraries():
    loaded = _imported_after("import monitor.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_runs_without_them():
    code = "from monitor.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    loaded = _imported_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_every_lazy_module_of_the_command_line_exists():
    """A misspelt LazyModule would only fail when its command runs: import each one here."""
    names = [m.name for m in pkgutil.iter_modules(monitor.cli.__path__, "monitor.cli.")]
    seen = 0
    for name in ["monitor.cli", *names]:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, LazyModule):
                importlib.import_module(value._name)
                seen += 1
    assert seen > 20


def test_status_reads_the_database_without_the_map_and_workbook_libraries(tmp_path):
    """``status`` is the command run most often by hand: it loads the store, not geopandas,
    folium, openpyxl or httpx."""
    db = tmp_path / "status.db"
    subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", "--db", str(db), "init"],
        capture_output=True,
        check=True,
        timeout=300,
    )
    code = (
        "from monitor.cli import main\n"
        f"try:\n    main(['--db', {str(db)!r}, 'status'])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code"
    )
    loaded = _imported_after(code)
    assert "sqlalchemy" in loaded  # it did read the database
    unwanted = {"geopandas", "folium", "openpyxl", "httpx"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
