"""The booking storm: clients POSTing /api/v1/appointments/ at a pool of slots smaller than the
storm (many collide), from generator processes of their own (threads on keep-alive connections
in each), so that the load stays out of the server's process; the CPU they took is reported."""

import http.client
import json
import multiprocessing
import resource
import statistics
import threading
import time

from bench.serving import busy_share, machine_busy


def _storm_process(port: int, token: str, bodies: list[dict], clients: int, deadline: float):
    """One generator process: `clients` threads on keep-alive connections."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    queue = iter(bodies)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.time() < deadline:
            with lock:
                body = next(queue, None)
            if body is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/appointments/", json.dumps(body), headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            with lock:
                results.append((status, time.perf_counter() - started))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def storm(
    server, token: str, bodies: list[dict], clients: int, processes: int, limit_s: float = 300
) -> dict:
    """POST each of `bodies` once (or until `limit_s` seconds have passed) from `clients` clients
    in `processes` processes, at `server` (bench.serving.Server) with a bearer `token`."""
    context = multiprocessing.get_context("fork")
    deadline = time.time() + limit_s
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = machine_busy()
    started = time.perf_counter()
    with context.Pool(processes) as pool:
        shares = [bodies[n::processes] for n in range(processes)]
        jobs = [
            pool.apply_async(
                _storm_process, (server.port, token, share, clients // processes, deadline)
            )
            for share in shares
        ]
        results = [r for job in jobs for r in job.get()]
        pool.close()
        pool.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    latencies = sorted(seconds for _, seconds in results)
    outcomes: dict[str, int] = {}
    for status, _ in results:
        outcomes[str(status)] = outcomes.get(str(status), 0) + 1
    return {
        "elapsed": elapsed,
        "outcomes": outcomes,
        "bookings_per_s": outcomes.get("201", 0) / elapsed,
        "requests_per_s": len(results) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": statistics.quantiles(latencies, n=20)[-1] * 1000,
        "generator_cpu": (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        / elapsed,
        "busy": busy_share(busy, machine_busy()),
    }
