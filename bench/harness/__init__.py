"""The benchmark harness behind bench/run.py, in modules:

- `proc`: HTTP and GraphQL helpers, servers as process groups, CPU and RSS from /proc;
- `cluster`: the harness's own PostgreSQL cluster (pg_stat_statements preloaded), or an
  existing server given with `--pg`, and the statement counts read from it;
- `peers`: the peers' `peer.json` descriptors, their start and their answer checks;
- `load`: wrk runs and the figures measured around them;
- `ceiling`: the pgbench ceiling and callgrind's instruction counts;
- `report`: the progress lines and the markdown table.
"""
