"""Throughput of the Allegro sandbox: GET /order/checkout-forms/{id} over keep-alive.

Starts ``python -m allegro_sandbox serve`` on a free port, creates ~1000 orders, hammers the
detail endpoint from N client threads (each with its own keep-alive ``requests.Session``) for
a bounded time, then runs two baselines in the same run: the same GETs with a new connection per
request, and ``/__sandbox__/health`` over keep-alive. Prints JSON. Bounded to ~20 s.

    .venv/bin/python bench/sandbox_throughput.py [--threads 8] [--seconds 8] [--orders 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from typing import Any

import _common
import requests

ACCEPT = "application/vnd.allegro.public.v1+json"
REDIRECT = "http://127.0.0.1:8000/channels/allegro/callback/"


def run(
    urls: list[str],
    headers: dict[str, str],
    threads: int,
    seconds: float,
    keep_alive: bool,
    max_requests: int = 20_000,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    count = [0]

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        session = requests.Session() if keep_alive else None
        local: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            with lock:
                if count[0] >= max_requests:
                    break
                count[0] += 1
            url = rng.choice(urls)
            t0 = time.perf_counter()
            if session is not None:
                r = session.get(url, headers=headers, timeout=10)
            else:
                r = requests.get(url, headers={**headers, "Connection": "close"}, timeout=10)
            local.append(time.perf_counter() - t0)
            if r.status_code != 200:
                bad += 1
        with lock:
            latencies.extend(local)
            errors += bad

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    proc, base = _common.start_sandbox()
    try:
        c = requests.Session()
        c.post(f"{base}/__sandbox__/sellers", json={"login": "bench", "password": "p"})
        c.post(
            f"{base}/__sandbox__/clients",
            json={"client_id": "bench", "client_secret": "s", "redirect_uris": [REDIRECT]},
        )
        c.put(f"{base}/__sandbox__/rate-limit", json={"limit": 10**9})
        code = c.post(
            f"{base}/__sandbox__/oauth/code",
            json={"client_id": "bench", "login": "bench", "redirect_uri": REDIRECT},
        ).json()["code"]
        token = requests.post(
            f"{base}/auth/oauth/token",
            auth=("bench", "s"),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            timeout=10,
        ).json()["access_token"]
        t0 = time.perf_counter()
        ids = c.post(
            f"{base}/__sandbox__/sellers/bench/orders", json={"count": args.orders}
        ).json()["ids"]
        create_s = time.perf_counter() - t0
        headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token}"}
        urls = [f"{base}/order/checkout-forms/{i}" for i in ids]
        result = {
            "orders_created": len(ids),
            "create_seconds": round(create_s, 3),
            "threads": args.threads,
            "keep_alive": run(urls, headers, args.threads, args.seconds, True),
            "baseline_new_connection_per_request": run(
                urls, headers, args.threads, min(4.0, args.seconds), False
            ),
            "baseline_health_keep_alive": run(
                [f"{base}/__sandbox__/health"], {}, args.threads, min(3.0, args.seconds), True
            ),
        }
        print(json.dumps(result, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
