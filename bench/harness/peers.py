"""The peers: each `bench/peers/<name>/peer.json` (format in bench/README.md, "Peers"),
how they are installed, set up on the database, started, and checked against Conduit."""

import json
import os
import subprocess
import sys

from .proc import BENCH, Server, log

PEERS = os.path.join(BENCH, "peers")
NPM_CI = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
BASE_PORT = 18100

# key: (type, required)
KEYS = {
    "label": (str, True), "command": (list, True), "processes": (int, True),
    "port": (int, False), "workloads": (str, True), "setup_sql": (list, False),
    "compare": (list, True), "smoke": (bool, False), "install": (list, False),
    "env": (dict, False), "start_timeout": (int, False),
}


class Peer:
    """One peer's descriptor."""

    def __init__(self, name, spec, index):
        self.name = name
        self.dir = os.path.join(PEERS, name)
        where = os.path.join(self.dir, "peer.json")
        for key, value in spec.items():
            if key not in KEYS:
                sys.exit(f"{where}: unknown key {key!r}")
            if not isinstance(value, KEYS[key][0]):
                sys.exit(f"{where}: {key} must be a {KEYS[key][0].__name__}")
        for key, (_, required) in KEYS.items():
            if required and key not in spec:
                sys.exit(f"{where}: {key} is required")
        self.label = spec["label"]
        self.command = spec["command"]
        self.processes = spec["processes"]
        self.port = spec.get("port", BASE_PORT + index)
        self.workloads = spec["workloads"]
        if not os.path.isdir(os.path.join(BENCH, "workloads", self.workloads)):
            sys.exit(f"{where}: no bench/workloads/{self.workloads}/")
        self.setup_sql = spec.get("setup_sql", [])
        self.compare = spec["compare"]
        self.smoke = spec.get("smoke", False)
        default_install = NPM_CI if os.path.exists(os.path.join(self.dir, "package-lock.json")) else None
        self.install = spec.get("install", default_install)
        self.env = {k: str(v) for k, v in spec.get("env", {}).items()}
        self.start_timeout = spec.get("start_timeout", 120)


def discover():
    """Every peer with a peer.json, by name (sorted: the default ports follow that order)."""
    names = sorted(n for n in os.listdir(PEERS) if os.path.exists(os.path.join(PEERS, n, "peer.json")))
    found = {}
    for index, name in enumerate(names):
        with open(os.path.join(PEERS, name, "peer.json")) as f:
            found[name] = Peer(name, json.load(f), index)
    return found


def select(arg, smoke):
    """The peers to run: `--peers a,b` (or "" for none), else every peer (with `--smoke`,
    those with `"smoke": true`)."""
    found = discover()
    if arg is None:
        return [p for p in found.values() if p.smoke or not smoke]
    chosen = []
    for name in (n for n in arg.split(",") if n):
        if name not in found:
            sys.exit(f"--peers: no bench/peers/{name}/peer.json (peers: {', '.join(found)})")
        chosen.append(found[name])
    return chosen


def install(peer):
    """Runs the peer's install command (npm ci by default) in its directory."""
    if peer.install:
        subprocess.run(peer.install, cwd=peer.dir, check=True)


def setup(peer, postgres, database):
    """Applies the peer's setup_sql to the seeded database."""
    for name in peer.setup_sql:
        postgres.psql_file(database, os.path.join(peer.dir, name))


def start(peer, db_url):
    """Starts the peer's server on `db_url`."""
    return Server(peer.name, peer.command, dict(peer.env, **{
        "DATABASE_URL": db_url, "PORT": str(peer.port), "WORKERS": str(peer.processes),
        "NODE_ENV": "production",
    }), cwd=peer.dir, port=peer.port)


def compare(peer, conduit_url, db_url, fixtures):
    """Runs the peer's answer check against Conduit (`CONDUIT_URL`, `PEER_URL`,
    `DATABASE_URL`, `BENCH_FIXTURES`); exits the run on any difference, with its output."""
    out = subprocess.run(peer.compare, cwd=peer.dir, capture_output=True, text=True, env=dict(
        os.environ, CONDUIT_URL=conduit_url, PEER_URL=f"http://127.0.0.1:{peer.port}/graphql",
        DATABASE_URL=db_url, BENCH_FIXTURES=json.dumps(fixtures)))
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0:
        shown = [line for line in lines if not line.startswith("same")] or lines[-20:]
        sys.exit(f"answers differ: {peer.label} against Conduit ({' '.join(peer.compare)} exited "
                 f"{out.returncode}):\n" + "\n".join(shown[:40]) + f"\n{out.stderr.strip()[-2000:]}")
    same = sum(1 for line in lines if line.startswith("same"))
    log(f"   {peer.label}: {same} answers identical to Conduit's ({lines[-1] if lines else ''})")
