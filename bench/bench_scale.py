"""parkmon at the scale of a province or a nation: every command, timed and weighed.

    python bench/bench_scale.py                    # 2,000 and 20,000 carriers (about 10 min)
    python bench/bench_scale.py --carriers 2000    # one size
    python bench/bench_scale.py --markdown out.md  # also write the table (docs/performance.md)

For each size it builds the scale demo (``parkmon demo --carriers N``: a synthetic province,
ten years of figures, labelled demo) and runs each command as a user would, in a fresh process,
recording the wall time and the peak memory of that process (``wait4``). The ratio column
divides the largest size's time by the smallest's and by the ratio of sizes: 1.0 is linear.
The targets are those of issue 15, at 20,000 carriers on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

YEAR = 2025
# command label → (arguments, target at 20,000 carriers: seconds, MB or None)
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "demo --carriers N (build)": (None, None),
    "--help": (0.5, None),
    "status": (1.0, None),
    f"rate {YEAR}": (5.0, None),
    "site build": (10.0, 500.0),
    f"report {YEAR} --format html": (15.0, None),
    f"report {YEAR} --format xlsx": (15.0, None),
    "compare (6 carriers)": (2.0, None),
    "collect --all (fresh database)": (60.0, 600.0),
    "run (nothing new)": (2.0, None),
}


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_mb: float
    ok: bool
    tail: str


def measure(args: list[str], cwd: Path) -> Measure:
    """Run ``python -m monitor ARGS`` in a fresh process: wall time and its own peak memory."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    text = output.decode("utf-8", "replace").strip().splitlines()
    return Measure(seconds, usage.ru_maxrss / 1024, child.returncode == 0, (text or [""])[-1])


class Results(dict[str, Measure]):
    """Measures by label, each printed the moment it is taken (a long run shows its progress,
    and a run stopped half-way still leaves its figures)."""

    def __setitem__(self, label: str, m: Measure) -> None:
        super().__setitem__(label, m)
        flag = "" if m.ok else f"   FAILED: {m.tail}"
        print(f"  {label:34} {m.seconds:8.2f} s {m.peak_mb:8.0f} MB{flag}", file=sys.stderr)
        sys.stderr.flush()


def bench_size(carriers: int, folder: Path, years: int = 10) -> dict[str, Measure]:
    folder.mkdir(parents=True, exist_ok=True)
    results = Results()
    results["demo --carriers N (build)"] = measure(
        ["demo", "--carriers", str(carriers), "--years", str(years), "--out", str(folder)], folder
    )
    base = ["--config", str(folder / "config"), "--db", str(folder / "parkmon.db")]
    results["--help"] = measure(["--help"], folder)
    results[f"rate {YEAR}"] = measure([*base, "rate", str(YEAR)], folder)
    results["status"] = measure([*base, "status"], folder)
    results["site build"] = measure([*base, "site", "build"], folder)
    for fmt in ("html", "xlsx"):
        results[f"report {YEAR} --format {fmt}"] = measure(
            [*base, "report", str(YEAR), "--format", fmt], folder
        )
    ids = [f"DEMO-S{i:06d}" for i in range(1, 400)]
    parks = (folder / "config" / "parks.csv").read_text(encoding="utf-8-sig").splitlines()
    incubators = [line.split(",")[0] for line in parks[1:] if ",incubator," in line][:6]
    results["compare (6 carriers)"] = measure(
        [*base, "compare", *(incubators or ids[:6]), "--year", str(YEAR)], folder
    )
    fresh = ["--config", str(folder / "config"), "--db", str(folder / "fresh.db")]
    measure([*fresh, "init"], folder)
    results["collect --all (fresh database)"] = measure([*fresh, "collect", "--all"], folder)
    measure([*fresh, "run"], folder)  # the first run rates and builds the site
    results["run (nothing new)"] = measure([*fresh, "run"], folder)
    return results


def table(sizes: list[int], runs: dict[int, dict[str, Measure]]) -> str:
    head = "| command | " + " | ".join(f"{n:,} carriers" for n in sizes)
    if len(sizes) > 1:
        head += f" | ratio ({sizes[-1]:,} vs {sizes[0]:,}, 1.0 = linear)"
    head += " | target at 20,000 |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, (target_s, target_mb) in TARGETS.items():
        cells = []
        for n in sizes:
            m = runs[n][label]
            cells.append(f"{m.seconds:.2f} s, {m.peak_mb:,.0f} MB" + ("" if m.ok else " (failed)"))
        row = f"| `{label}` | " + " | ".join(cells)
        if len(sizes) > 1:
            first, last = runs[sizes[0]][label].seconds, runs[sizes[-1]][label].seconds
            row += f" | {last / first / (sizes[-1] / sizes[0]):.2f}"
        target = " ".join(
            part
            for part in (
                f"< {target_s:g} s" if target_s else "",
                f"< {target_mb:g} MB" if target_mb else "",
            )
            if part
        )
        lines.append(row + f" | {target or '—'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carriers", default="2000,20000", help="comma-separated sizes")
    parser.add_argument("--years", type=int, default=10, help="years of figures (default 10)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.carriers.split(","))
    root = args.keep or Path(tempfile.mkdtemp(prefix="parkmon-scale-"))
    runs: dict[int, dict[str, Measure]] = {}
    try:
        for n in sizes:
            print(f"… {n:,} carriers", file=sys.stderr, flush=True)
            runs[n] = bench_size(n, root / f"n{n}", args.years)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    text = table(sizes, runs)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
