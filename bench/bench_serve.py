"""Benchmark: the web application under concurrent clients on loopback.

Starts ``parkmon serve`` on a database (the demo by default, built first in a temporary folder;
or ``--db`` with ``--config`` for a scale demo), then for each page and API route sends
REQUESTS requests from CLIENTS concurrent clients (httpx, async) and prints p50/p95 latency and
the payload size. Figures are recorded in docs/performance.md, never asserted.

    python bench/bench_serve.py                         # the demo database
    python bench/bench_serve.py --db big/parkmon.db --config big/config
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PARKMON = str(Path(sys.executable).with_name("parkmon"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def hammer(base: str, path: str, requests: int, clients: int) -> tuple[list[float], int]:
    """``requests`` GETs of ``path`` from ``clients`` concurrent clients: latencies (s), size."""
    latencies: list[float] = []
    size = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def client() -> None:
        nonlocal size
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                answer = await c.get(path)
                latencies.append(time.perf_counter() - started)
                answer.raise_for_status()
                size = len(answer.content)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database (default: build the demo)")
    parser.add_argument("--config", help="config folder of that database")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.db
        static_map = None
        if database is None:
            subprocess.run([PARKMON, "demo", "--out", tmp], check=True, capture_output=True)
            database = str(Path(tmp) / "parkmon.db")
            static_map = Path(tmp) / "site" / "region.html"
        base_args = [PARKMON, "--db", database]
        if args.config:
            base_args += ["--config", args.config]
        port = free_port()
        server = subprocess.Popen(
            [*base_args, "serve", "--port", str(port), "--workers", str(args.workers)],
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base + "/api/parks?kind=high_tech_zone", timeout=30)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.3)
            parks = httpx.get(base + "/api/parks?kind=incubator", timeout=120).json()
            rated = [p["id"] for p in parks if p.get("stars") is not None] or [parks[0]["id"]]
            paths = [
                "/",
                "/parks",
                f"/parks/{rated[0]}",
                f"/compare?ids={rated[0]},{rated[1] if len(rated) > 1 else rated[0]}",
                "/goals",
                "/map/frame",
                f"/api/parks/{rated[0]}",
                "/api/parks?kind=incubator",
            ]
            print(f"{args.clients} clients, {args.requests} requests per route, {database}")
            print(f"{'route':52} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8}")
            for path in paths:
                latencies, size = asyncio.run(hammer(base, path, args.requests, args.clients))
                cuts = statistics.quantiles(latencies, n=20)
                p50 = statistics.median(latencies) * 1000
                p95 = cuts[18] * 1000
                print(f"{path[:52]:52} {p50:8.1f} {p95:8.1f} {size / 1024:8.1f}")
            if static_map is not None and static_map.exists():
                framed = len(httpx.get(base + "/map/frame", timeout=120).content)
                print(
                    f"/map/frame payload vs the static region map: "
                    f"{framed / static_map.stat().st_size:.3f}x"
                )
        finally:
            server.terminate()
            server.communicate(timeout=30)


if __name__ == "__main__":
    main()
