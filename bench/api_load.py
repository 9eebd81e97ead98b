"""Load the HTTP API on loopback: concurrent clients, paragraphs/s and p50/p99 latency.

    python bench/api_load.py --model models/tfidf --requests 200 --concurrency 200 --batch 8

Starts `python -m serve api` on 127.0.0.1, sends a bounded number of requests, stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, paragraphs  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the API did not start")


async def drive(url: str, batches: list[list[str]], concurrency: int) -> tuple[list[float], list[int]]:
    latencies, statuses = [], []
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one(batch):
            async with gate:
                started = time.perf_counter()
                response = await client.post("/tag", json={"texts": batch})
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)
        await asyncio.gather(*(one(b) for b in batches))
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/tfidf")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "serve", "api", "--model", args.model, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        texts = paragraphs(args.requests * args.batch)
        batches = [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)]
        started = time.perf_counter()
        latencies, statuses = asyncio.run(drive(url, batches, args.concurrency))
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(10)
    latencies.sort()
    ok = statuses.count(200)
    p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{ok}/{len(statuses)} requests succeeded ({args.concurrency} concurrent, {args.batch} paragraphs each)")
    print(f"{len(texts) / seconds:,.0f} paragraphs/s, {len(statuses) / seconds:,.0f} requests/s; "
          f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; model {args.model}; {machine()}")
    if ok != len(statuses):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
