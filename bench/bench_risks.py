"""Benchmark: the early warning against the rating it stands on, on the same database.

``risk_frame`` rates the year and the two before (``score_year`` three times), runs the
stability draws and finds the levers of every carrier at risk. Printed as a ratio to one
``score_year`` of the same year in the same run, so a slower or faster machine does not move
it. Figures are recorded in docs/performance.md, never asserted.

    python bench/bench_risks.py --db big/parkmon.db --config big/config --year 2025
    python bench/bench_risks.py          # the demo, built first in a temporary folder
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from monitor import db, risks
from monitor.evaluation import score_year
from monitor.settings import bundled_config_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    config = args.config or bundled_config_dir()
    if args.db is None:
        from monitor.demo import build_demo

        folder = Path(tempfile.mkdtemp(prefix="parkmon-bench-risks-"))
        database = build_demo(folder, config).database
    else:
        database = args.db
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        start = time.perf_counter()
        runs = score_year(engine, config, args.year)
        rating = time.perf_counter() - start
        start = time.perf_counter()
        frame = risks.risk_frame(engine, config, args.year)
        warning = time.perf_counter() - start
    finally:
        engine.dispose()
    carriers = sum(len(r.result.table) for r in runs if r.methodology.type == "stars")
    print(f"carriers rated: {carriers}, assessed: {len(frame)}")
    ratio = warning / rating
    print(f"score_year: {rating:.2f} s   risk_frame: {warning:.2f} s   ratio {ratio:.1f}")


if __name__ == "__main__":
    main()
