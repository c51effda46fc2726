#!/usr/bin/env bash
# Search and similar requests at 1,000,000 requests: loads generated requests into a fresh
# database and prints p50/p99 latencies (see crates/store/benches/requests.rs and
# docs/performance.md). SQLite always; PostgreSQL too with BENCH_PG=1 (a fresh database on
# CUNJIN_TEST_PG's server, dropped afterwards).
#   BENCH_N=200000 bash scripts/bench-requests.sh     # a quicker run
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_N="${BENCH_N:-1000000}"

echo "==> SQLite"
cargo bench -p cunjin-store --bench requests

if [ "${BENCH_PG:-}" = 1 ]; then
  PG_URL="${CUNJIN_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
  db="cunjin_t_$(date +%s)_bench_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  trap 'psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  echo "==> PostgreSQL"
  BENCH_DB="${PG_URL%/*}/$db" cargo bench -p cunjin-store --bench requests
fi
