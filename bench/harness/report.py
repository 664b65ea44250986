"""The run's output: one progress line per cell, and the markdown table (ratios to each
peer, p99, CPU per request, peak RSS, statements per request; RSS per process below)."""

import datetime
import os
import platform


def ratio(a, b):
    """`a / b` as `1.23×`, or "—"."""
    return f"{a / b:.2f}×" if b else "—"


def per_request(value):
    """Statements per request, or "—" when not measured."""
    return "—" if value is None else f"{value:.1f}"


def line(label, concurrency, medians, sql_statements):
    """One cell's progress line."""
    parts = [f"{label:<14} c={concurrency:<3}"]
    for name, m in medians.items():
        if name == "pgbench":
            parts.append(f"pgbench ceiling: {m['rps']:8.0f} req/s")
            continue
        parts.append(f"{name}: {m['rps']:8.0f} req/s p50 {m['p50']:6.2f} p99 {m['p99']:6.2f} ms "
                     f"cpu {m['cpu_us']:6.0f} µs rss {m['rss']:5.0f} MB "
                     f"SQL/req {per_request(m.get('statements'))}")
    return " | ".join(parts) + f" | conduit sqlStatements {sql_statements}"


def processes(each):
    """`42 + 97 + 98 = 237`: a server's processes (root first), in MB."""
    shown = " + ".join(f"{mb:.0f}" for mb in each)
    return f"{shown} = {sum(each):.0f}" if len(each) > 1 else shown


def table(rows, servers, idle, plan, smoke, elapsed, instructions=None):
    """The markdown table of a run. `servers`: [(name, label, processes)], Conduit first;
    `rows`: [(label, concurrency, {name: medians}, Conduit's sqlStatements)];
    `idle`: {name: [RSS MB of each process]} before any load."""
    names = [name for name, _, _ in servers]
    labels = {name: label for name, label, _ in servers}
    others = names[1:]
    order = " / ".join(labels[n] for n in names)
    machine = f"{platform.node()}, {os.cpu_count()} cores, {platform.machine()}"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"## {'Smoke run' if smoke else 'Run'} {when}",
           "",
           f"Machine: {machine}. Data: " + ", ".join(f"{v:,} {k}" for k, v in plan["seed"].items())
           + f". {plan['runs']} × {plan['duration']} s per cell after {plan['warmup']} s warm-up, "
             "medians. Processes: " + ", ".join(f"{label} {n}" for _, label, n in servers)
           + f" (Conduit: tokio, all cores). Whole run: {elapsed / 60:.1f} min.",
           "",
           f"Cells with several figures give them in this order: {order}. SQL/req: statements "
           "per request from pg_stat_statements (calls over the cell's measured runs ÷ "
           "requests); Conduit's own `extensions.sqlStatements` first, in brackets.",
           "",
           "| workload | c | Conduit req/s | " + " | ".join(f"vs {labels[n]}" for n in others)
           + (" | " if others else "") + "p99 ms | CPU µs/req | peak RSS MB | SQL/req |",
           "|---|---|---|" + "---|" * len(others) + "---|---|---|---|"]
    for label, concurrency, m, sql in rows:
        c = m["conduit"]
        extra = ""
        if "hello" in m:
            extra = f" (hello {m['hello']['rps']:.0f}: {ratio(c['rps'], m['hello']['rps'])})"
        if "pgbench" in m:
            extra = (f" (pgbench ceiling {m['pgbench']['rps']:.0f}: "
                     f"{ratio(c['rps'], m['pgbench']['rps'])})")

        def cells(key, fmt):
            return " / ".join(fmt(m[n][key]) if n in m else "—" for n in names)

        statements = " / ".join(
            (f"({sql}) " if n == "conduit" else "") + per_request(m[n].get("statements"))
            if n in m else "—" for n in names)
        out.append(
            f"| {label} | {concurrency} | {c['rps']:.0f}{extra} | "
            + "".join(f"{ratio(c['rps'], m[n]['rps']) if n in m else '—'} | " for n in others)
            + f"{cells('p99', lambda v: f'{v:.1f}')} | {cells('cpu_us', lambda v: f'{v:.0f}')} "
              f"| {cells('rss', lambda v: f'{v:.0f}')} | {statements} |")
    out.append("")
    out.append("RSS per process, MB (the root process first: a Node cluster's primary, then its "
               "workers), idle before load → peak over the run:")
    for name in names:
        peaks = [m[name]["rss_each"] for _, _, m, _ in rows if name in m]
        width = max((len(p) for p in peaks), default=0)
        peak = [max(p[i] if i < len(p) else 0 for p in peaks) for i in range(width)]
        out.append(f"- {labels[name]}: {processes(idle.get(name, []))} → "
                   f"{processes(peak) if peak else '—'}")
    if instructions:
        out.append("")
        out.append(f"Instructions per W2 request (signed in, callgrind, Conduit only): "
                   f"{instructions / 1e6:.2f} M.")
    return "\n".join(out)
