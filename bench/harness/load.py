"""wrk runs (bench/wrk/graphql.lua validates every response) and the figures measured
around them: the server's CPU time, the RSS of each of its processes, and the SQL
statements it sent (pg_stat_statements deltas)."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.parse

from .proc import BENCH, cpu_seconds, rss_each


def load(url, bodies, token, concurrency, seconds):
    """One wrk run; returns its figures. Exits the run on any bad response."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(bodies) + "\n")
        path = f.name
    env = dict(os.environ, BENCH_BODIES=path, BENCH_AUTH=token or "",
               BENCH_PATH=urllib.parse.urlsplit(url).path)
    base = url[: -len(urllib.parse.urlsplit(url).path)]
    threads = min(2, concurrency)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
         "-s", os.path.join(BENCH, "wrk", "graphql.lua"), base],
        env=env, capture_output=True, text=True,
    )
    os.unlink(path)
    figures = None
    sample = None
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            figures = json.loads(line[5:])
        elif line.startswith("SAMPLE "):
            sample = line[7:]
    if figures is None:
        sys.exit(f"wrk failed: {out.stdout}\n{out.stderr}")
    if figures["bad"] or figures["socket_errors"]:
        sys.exit(f"{url}: {figures['bad']} bad responses, {figures['socket_errors']} socket "
                 f"errors at concurrency {concurrency}; e.g. {sample}")
    return figures


def measure(server, url, bodies, token, concurrency, seconds, calls=None):
    """wrk figures plus the server's CPU per request, its peak RSS (in all and per
    process, root first) and, with `calls` (a function returning the statements the
    server has sent so far, or None), the statements sent during the run."""
    pids = server.pids()
    first = rss_each(pids)
    peaks = dict(first)
    totals = [sum(first.values())]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            now = rss_each(pids)
            totals.append(sum(now.values()))
            for pid, mb in now.items():
                peaks[pid] = max(peaks.get(pid, 0), mb)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    calls_before = calls() if calls else None
    cpu_before = cpu_seconds(pids)
    figures = load(url, bodies, token, concurrency, seconds)
    cpu = cpu_seconds(pids) - cpu_before
    calls_after = calls() if calls else None
    stop.set()
    sampler.join()
    requests = figures["requests"]
    return dict(
        rps=requests / (figures["duration_us"] / 1e6),
        p50=figures["p50_us"] / 1000,
        p99=figures["p99_us"] / 1000,
        cpu_us=cpu / max(requests, 1) * 1e6,
        rss=max(totals),
        rss_each=[peaks.get(pid, 0) for pid in pids],
        requests=requests,
        statements=None if calls_before is None or calls_after is None else calls_after - calls_before,
    )


def summarize(runs):
    """Medians of a cell's runs; statements per request over all of them (their sum ÷
    the requests'), and each process's peak RSS."""
    out = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "cpu_us", "rss")}
    counted = [r for r in runs if r["statements"] is not None]
    requests = sum(r["requests"] for r in counted)
    out["statements"] = (sum(r["statements"] for r in counted) / requests
                         if counted and requests else None)
    width = max(len(r["rss_each"]) for r in runs)
    out["rss_each"] = [max(r["rss_each"][i] if i < len(r["rss_each"]) else 0 for r in runs)
                       for i in range(width)]
    return out
