#!/usr/bin/env bash
# WebSocket fan-out: memory per idle connection, and the latency of one comment reaching
# N commentAdded subscribers on one instance (examples/ws_fanout.rs does the measuring).
#
#   bash bench/ws_fanout.sh [subscribers=1000] [rounds=20]
#
# Starts a release server on a scratch database (dropped afterwards) on port 18080, then
# runs the client. Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth).
# SERVER=<path> runs another build of the server (an older commit's, to compare) with this
# client; the machine's load is printed before and after (client and server share it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUBSCRIBERS="${1:-1000}"
ROUNDS="${2:-20}"
PORT="${PORT:-18080}"
DB="conduit_bench_ws_$$"
URL="postgres://postgres@127.0.0.1:5432/$DB"

cargo build --release --quiet --bin conduit --example ws_fanout
TARGET="${CARGO_TARGET_DIR:-target}"
SERVER="${SERVER:-$TARGET/release/conduit}"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d postgres -q -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Every socket comes from one address: lift the per-IP and per-instance caps past N, and
# the per-IP cost budget (10,000 subscription starts cost more than a minute of it).
CAP=$((SUBSCRIBERS + 1000))
# FRONTEND_BUILD=false: a fresh clone would otherwise build the web app and the IDEs
# first (npm), far past the wait below.
DATABASE_URL="$URL" PORT="$PORT" DEMO_DATA=false REPORT_SQL_STATEMENTS=false FRONTEND_BUILD=false \
  WS_MAX_PER_IP="$CAP" WS_MAX_CONNECTIONS="$CAP" COST_BUDGET_PER_MINUTE=0 \
  RUST_LOG=warn LOG_FORMAT=json "$SERVER" >/dev/null &
server=$!
up=""
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
[[ -n "$up" ]] || { echo "the server did not come up on port $PORT" >&2; exit 1; }

echo "load before: $(uptime)"
"$TARGET/release/examples/ws_fanout" --url "http://127.0.0.1:$PORT/graphql" --pid "$server" \
  --subscribers "$SUBSCRIBERS" --rounds "$ROUNDS"
echo "load after: $(uptime)"
