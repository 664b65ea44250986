"""Where the benchmark's database lives, and the statements each server sends to it.

By default the harness runs its own PostgreSQL cluster: `initdb` into a scratch
directory under /var/tmp (owned by the `postgres` user when the harness runs as root),
TCP on 127.0.0.1 from port 15432 up, `shared_preload_libraries = pg_stat_statements`, the
memory settings of this machine's Debian cluster (stated in `SETTINGS`), its log in its own
file (read back for the pgbench ceiling), and ssl off (every server connects in plain
text). It is stopped and deleted at the end of the run. Each server connects as a role of
its own (`bench_<name>`, superuser, trust), so that pg_stat_statements' `userid` tells
whose statements are whose.

`--pg URL` uses an existing server instead: every server connects as the URL's user, and
statements per request are read from pg_stat_statements when the server has it loaded
(attributed by time window: one server is loaded at a time), else left out ("—").
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.parse

from .proc import log

# This machine's Debian cluster (15/main), copied so that runs on the harness's cluster
# see the same memory; the rest are PostgreSQL 15's defaults (fsync and synchronous_commit
# on, as there).
SETTINGS = {
    "shared_buffers": "128MB",
    "work_mem": "4MB",
    "maintenance_work_mem": "64MB",
    "effective_cache_size": "4GB",
    "max_connections": "100",
    "wal_buffers": "4MB",
    "max_wal_size": "1GB",
    "timezone": "'Etc/UTC'",
    "log_timezone": "'Etc/UTC'",
}


def bindir():
    """The directory of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if dirs:
        return os.path.dirname(dirs[-1])
    found = shutil.which("initdb")
    # Resolved: PATH may hold symlinks to the real directory (its pg_config, pg_ctl).
    return os.path.dirname(os.path.realpath(found)) if found else None


def free_port(port):
    """The first port from `port` up that nothing listens on."""
    while True:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                port += 1


class Postgres:
    """A PostgreSQL server for the run: its URLs, psql, roles and statement counts."""

    def __init__(self, url, log_path, own=None):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = urllib.parse.unquote(parts.username or "postgres")
        self.log_path = log_path
        # (data directory, scratch root, pg_ctl command prefix) of the harness's cluster.
        self.own = own
        self.statements = {}  # database -> pg_stat_statements usable there

    def url(self, database, role=None):
        """`postgres://role@host:port/database`; the admin user unless `role` (own cluster)."""
        user = role if role and self.own else self.user
        return f"postgres://{user}@{self.host}:{self.port}/{database}"

    def role(self, name):
        """The role server `name` connects as: its own on the harness's cluster."""
        return "bench_" + "".join(c if c.isalnum() else "_" for c in name) if self.own else None

    def psql(self, database, sql):
        """Runs `sql` as the admin user; its unaligned output."""
        out = subprocess.run(
            ["psql", self.url(database), "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def psql_file(self, database, path):
        """Applies an SQL file as the admin user (ON_ERROR_STOP)."""
        subprocess.run(["psql", self.url(database), "-qX", "-v", "ON_ERROR_STOP=1", "-f", path],
                       check=True, stdout=subprocess.DEVNULL)

    def client_args(self):
        """-h/-p/-U for PostgreSQL's client programs (dropdb, pgbench)."""
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def dropdb(self, database):
        """Drops `database` if it exists."""
        subprocess.run(["dropdb", *self.client_args(), "--if-exists", "--force", database],
                       check=True)

    def prepare(self, database, names):
        """After seeding: the servers' roles (own cluster) and pg_stat_statements."""
        for name in names:
            role = self.role(name)
            if role:
                self.psql(database, f"DO $$ BEGIN CREATE ROLE {role} LOGIN SUPERUSER; "
                                    f"EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        try:
            self.psql(database, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            self.psql(database, "SELECT count(*) FROM pg_stat_statements")
            self.statements[database] = True
        except subprocess.CalledProcessError as err:
            self.statements[database] = False
            log(f"   no pg_stat_statements on this server ({err.stderr.strip().splitlines()[-1]}):"
                " statements per request are left out")

    def calls(self, database, name):
        """Statements executed so far in `database` by server `name` (its role on the
        harness's cluster; anyone but this query on another server), or None when
        pg_stat_statements is not available. Utility statements (BEGIN, COMMIT, SET)
        count; statements run inside functions do not (track = top: what the client
        sent)."""
        if not self.statements.get(database):
            return None
        role = self.role(name)
        who = (f"s.userid = '{role}'::regrole" if role
               else "s.query NOT LIKE '%pg_stat_statements%'")
        return int(self.psql(database, "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s "
                                       "JOIN pg_database d ON d.oid = s.dbid "
                                       f"WHERE d.datname = current_database() AND {who}"))

    def stop(self):
        """Stops and deletes the harness's cluster (nothing for `--pg`)."""
        if not self.own:
            return
        data, root, as_pg = self.own
        subprocess.run(as_pg + [os.path.join(bindir(), "pg_ctl"), "-D", data, "-m", "fast", "-w",
                                "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        self.own = None


def existing(url, log_path):
    """An existing server (`--pg`)."""
    return Postgres(url, log_path)


def own_cluster(port=15432):
    """initdb + start a scratch cluster; None when PostgreSQL's server programs are missing."""
    programs = bindir()
    if programs is None:
        return None
    root = tempfile.mkdtemp(prefix="conduit-bench-pg-", dir="/var/tmp")
    try:
        return start(programs, root, port)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def start(programs, root, port):
    """initdb into `root`/data, configure, start."""
    as_pg = []
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    log_path = os.path.join(root, "postgres.log")
    subprocess.run(as_pg + [os.path.join(programs, "initdb"), "-D", data, "-U", "postgres",
                            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    port = free_port(port)
    libdir = subprocess.run([os.path.join(programs, "pg_config"), "--pkglibdir"],
                            capture_output=True, text=True).stdout.strip()
    settings = dict(SETTINGS, port=str(port), listen_addresses="'127.0.0.1'",
                    unix_socket_directories=f"'{root}'", ssl="off",
                    # Timestamps first: ceiling.py splits the log into entries on them.
                    log_line_prefix="'%m [%p] '", logging_collector="off")
    if os.path.exists(os.path.join(libdir, "pg_stat_statements.so")):
        settings.update({"shared_preload_libraries": "'pg_stat_statements'",
                         "pg_stat_statements.max": "10000", "pg_stat_statements.track": "top",
                         "pg_stat_statements.track_utility": "on"})
    with open(os.path.join(data, "postgresql.conf"), "a") as f:
        f.write("\n# bench/harness/cluster.py\n")
        f.writelines(f"{k} = {v}\n" for k, v in settings.items())
    subprocess.run(as_pg + [os.path.join(programs, "pg_ctl"), "-D", data, "-l", log_path, "-w",
                            "-t", "60", "start"], check=True, capture_output=True)
    return Postgres(f"postgres://postgres@127.0.0.1:{port}", log_path, own=(data, root, as_pg))
