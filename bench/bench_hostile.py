"""Peak memory of collecting hostile files, each in a fresh subprocess under resource limits.

Each case writes one hostile file, then a child process collects it into a fresh SQLite database
with an address-space limit (so a regression fails instead of exhausting the machine) and reports
its peak RSS. The baseline is the same child collecting a small good CSV: the ratio and the
difference show what the hostile file itself costs. The ceiling is 300 MB of peak RSS per file.

    python bench/bench_hostile.py            # all cases
    python bench/bench_hostile.py --keep DIR # keep the files
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CEILING_MB = 300
AS_LIMIT = 3 * 1024**3  # a runaway child dies here instead of taking the machine

CHILD = r"""
import json, resource, sys
from pathlib import Path
from collectors.run import collect
from collectors.sources import parse_source
from monitor import db, pipeline
from monitor.settings import bundled_config_dir
folder, location, fmt, max_bytes = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
engine = db.make_engine(f"sqlite:///{folder / 'bench.db'}")
pipeline.initialise(engine, bundled_config_dir())
spec = parse_source({"id": "hostile", "collector": "file", "location": location, "format": fmt,
    "subject": {"column": "载体名称"}, "period": "2024", "max_bytes": max_bytes,
    "columns": {"在孵企业数": "incubatees"}}, 1, folder / "sources.toml")
result = collect(engine, spec)
print(json.dumps({"status": result.status.value, "error": result.error[:160],
    "rejected": result.rejected, "accepted": result.accepted,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def good_csv(folder: Path) -> tuple[str, str, int]:
    (folder / "good.csv").write_text("载体名称,在孵企业数\n南通高新区,5\n", encoding="utf-8")
    return "good.csv", "csv", 50 * 1024 * 1024


def dimension_bomb(folder: Path) -> tuple[str, str, int]:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["载体名称", "在孵企业数"])
    ws.append(["南通高新区", 5])
    ws["A1048576"] = "x"  # one cell in the sheet's last row: a reader that pads to the
    buffer = io.BytesIO()  # declared dimension makes a million rows of 16,384 cells
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = folder / "dimension.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
            target.writestr(info.filename, data)
    return path.name, "xlsx", 50 * 1024 * 1024


def over_max_bytes(folder: Path) -> tuple[str, str, int]:
    path = folder / "huge.csv"
    with path.open("wb") as handle:  # sparse: 2 GiB on paper, nothing on disk
        handle.truncate(2 * 1024**3)
    return path.name, "csv", 50 * 1024 * 1024


def tiny_rows(folder: Path) -> tuple[str, str, int]:
    path = folder / "rows.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("载体名称,在孵企业数\n")
        handle.write("a,1\n" * (49 * 1024 * 1024 // 4))
    return path.name, "csv", 50 * 1024 * 1024


def wide_row(folder: Path) -> tuple[str, str, int]:
    path = folder / "wide.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("载体名称,在孵企业数\n")
        for _ in range(49):
            handle.write("10," * (1024 * 1024 // 3) + "\n")
    return path.name, "csv", 50 * 1024 * 1024


CASES = {
    "baseline: a small good CSV": good_csv,
    "xlsx declaring A1:XFD1048576, a cell in row 1048576": dimension_bomb,
    "2 GiB file over max_bytes": over_max_bytes,
    "49 MB CSV of 13 million tiny rows": tiny_rows,
    "49 MB CSV of 49 lines × 350,000 cells": wide_row,
}


def run_case(name: str, folder: Path) -> dict[str, object]:
    case = folder / re.sub(r"\W+", "-", name)[:40]
    case.mkdir()
    location, fmt, max_bytes = CASES[name](case)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(case), location, fmt, str(max_bytes)],
        check=False,
        capture_output=True,
        text=True,
        preexec_fn=_limits,
        timeout=600,
    )
    if proc.returncode != 0:
        return {"case": name, "status": "crashed", "error": proc.stderr[-300:], "peak_mb": None}
    return {"case": name, **json.loads(proc.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="parkmon-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = [run_case(name, folder) for name in CASES]
    base = float(results[0]["peak_mb"] or 0)  # type: ignore[arg-type]
    print(f"{'case':52} {'status':8} {'peak MB':>8} {'× base':>7} {'+MB':>6}  refusal")
    worst = 0.0
    for r in results:
        peak = r["peak_mb"]
        peak_f = float(peak) if peak is not None else float("nan")  # type: ignore[arg-type]
        worst = max(worst, peak_f)
        print(
            f"{r['case']:52} {r['status']!s:8} {peak_f:8.0f} {peak_f / base:7.2f} "
            f"{peak_f - base:6.0f}  {str(r.get('error', ''))[:90]}"
        )
    verdict = "within" if worst < CEILING_MB else "OVER"
    print(f"\nworst peak RSS {worst:.0f} MB: {verdict} the ceiling of {CEILING_MB} MB")
    if worst >= CEILING_MB:
        sys.exit(1)


if __name__ == "__main__":
    main()
