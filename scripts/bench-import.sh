#!/usr/bin/env bash
# Import speed: `cunjin import requests` of generated rows (100,000 by default) into a fresh
# database, timed end to end (reading the file, parsing, writing, ANALYZE; the search terms are
# written afterwards by `cunjin serve`, see docs/performance.md). SQLite
# always; PostgreSQL too with BENCH_PG=1 (a fresh database on CUNJIN_TEST_PG's server, dropped
# afterwards). See docs/performance.md, section "Import".
#   BENCH_N=1000000 bash scripts/bench-import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${BENCH_N:-100000}"
# BENCH_BIN=path/to/cunjin measures a binary already built.
bin="${BENCH_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release -p cunjin
  bin="${CARGO_TARGET_DIR:-target}/release/cunjin"
fi
dir="$(mktemp -d)"
cleanup() { rm -rf "$dir"; }
trap cleanup EXIT

# Sentences like the benchmark of search: ten modules × six asks, a number that makes each
# text unique, 200 customers.
awk -v n="$n" 'BEGIN {
  split("门诊医生站 住院护士站 医保结算清单 电子病历 检验报告 影像调阅 药房发药 排班 DRG分组 互联网医院", m, " ");
  split("批量导出 到期自动提醒 按科室配置模板 对接省平台 生成统计报表 增加审核流程", a, " ");
  print "text,customer,source_role,requester";
  for (i = 0; i < n; i++)
    printf "希望%s能%s，验收前必须完成（第%d号）,医院%d,customer,王主任\n", m[i % 10 + 1], a[int(i / 10) % 6 + 1], i, i % 200;
}' > "$dir/requests.csv"

time_import() {
  local db="$1"
  "$bin" --db "$db" workspace add bench > /dev/null 2>&1
  local start end
  start=$(date +%s.%N)
  "$bin" --db "$db" import requests "$dir/requests.csv" --quiet
  end=$(date +%s.%N)
  awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%d rows in %.2f s: %d rows/s\n", n, e - s, n / (e - s) }'
}

echo "==> SQLite"
time_import "$dir/bench.db"

if [ "${BENCH_PG:-}" = 1 ]; then
  pg_url="${CUNJIN_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
  db="cunjin_t_$(date +%s)_import_$$"
  psql "$pg_url" -qc "CREATE DATABASE $db" > /dev/null
  cleanup() { rm -rf "$dir"; psql "$pg_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1 || true; }
  echo "==> PostgreSQL"
  time_import "${pg_url%/*}/$db"
fi
