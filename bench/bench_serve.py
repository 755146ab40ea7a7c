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
import itertools
import os
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


async def hammer(
    base: str, paths: list[str], requests: int, clients: int
) -> tuple[list[float], int]:
    """``requests`` GETs of ``paths`` (in turn) from ``clients`` concurrent clients: latencies
    (s), size of the last answer."""
    latencies: list[float] = []
    size = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(paths[i % len(paths)])

    async def client() -> None:
        nonlocal size
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            # the connection opened before measuring (twenty handshakes at once would be the
            # slowest twenty of every route otherwise)
            (await c.get("/static/parkmon.css")).raise_for_status()
            await ready.wait()
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                answer = await c.get(path)
                latencies.append(time.perf_counter() - started)
                answer.raise_for_status()
                size = len(answer.content)

    ready = asyncio.Event()
    running = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.5)
    ready.set()
    await asyncio.gather(*running)
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
            # the read side is measured: every page public, as on a demo database
            env={**os.environ, "PARKMON_PUBLIC": "all"},
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
            # pages and the API ask for different carriers: what one computed is not the other's
            mine, theirs = (
                rated[0 : 2 * args.requests + 2 : 2],
                rated[1 : 2 * args.requests + 2 : 2],
            )
            # "each": every request a different carrier (nothing computed for it yet: the cold
            # case); "same": one carrier again and again (what the cache gives)
            routes: list[tuple[str, list[str]]] = [
                ("/static/parkmon.css (floor)", ["/static/parkmon.css"]),
                ("/", ["/"]),
                ("/parks", ["/parks"]),
                ("/parks?kind=incubator&q=…", ["/parks?kind=incubator&q=%E5%AD%B5"]),
                ("/parks/{id} each", [f"/parks/{i}" for i in mine]),
                ("/parks/{id} same", [f"/parks/{mine[0]}"]),
                ("/compare?ids=A,B each", [f"/compare?ids={a},{b}" for a, b in pairs(mine)]),
                ("/compare?ids=A,B same", [f"/compare?ids={mine[0]},{mine[-1]}"]),
                ("/goals", ["/goals"]),
                ("/rankings", ["/rankings"]),
                ("/map/frame", ["/map/frame"]),
                ("/api/parks/{id} each", [f"/api/parks/{i}" for i in theirs or mine]),
                (
                    "/api/compare?ids=A,B each",
                    [f"/api/compare?ids={a},{b}" for a, b in pairs(theirs or mine)],
                ),
                ("/api/parks?kind=incubator", ["/api/parks?kind=incubator"]),
                ("/api/goals", ["/api/goals"]),
            ]
            print(f"{args.clients} clients, {args.requests} requests per route, {database}")
            print(f"{'route':32} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8}")
            for name, paths in routes:
                # one request first: what is computed once per data version (the registry, the
                # overview, a peer group's year) is not what a route costs; the "each" routes'
                # other carriers stay uncomputed
                httpx.get(base + paths[0], timeout=300).raise_for_status()
                latencies, size = asyncio.run(hammer(base, paths, args.requests, args.clients))
                cuts = statistics.quantiles(latencies, n=20)
                p50 = statistics.median(latencies) * 1000
                p95 = cuts[18] * 1000
                print(f"{name:32} {p50:8.1f} {p95:8.1f} {size / 1024:8.1f}")
            if static_map is not None and static_map.exists():
                framed = len(httpx.get(base + "/map/frame", timeout=120).content)
                print(
                    f"/map/frame payload vs the static region map: "
                    f"{framed / static_map.stat().st_size:.3f}x"
                )
        finally:
            server.terminate()
            server.communicate(timeout=30)


def pairs(ids: list[str]) -> list[tuple[str, str]]:
    """Neighbouring carriers, each pair different."""
    return list(itertools.pairwise(ids)) or [(ids[0], ids[0])]


if __name__ == "__main__":
    main()
