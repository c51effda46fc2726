#!/usr/bin/env bash
# Load tests of a running `cunjin serve` (release build) at the scale of DESIGN.md, on SQLite
# and PostgreSQL; figures go to docs/performance.md by hand. See docs/performance.md.
#
#   bash scripts/bench-server.sh                       # everything (long: the 1,000,000 requests)
#   BENCH_REQUESTS=200000 bash scripts/bench-server.sh # fewer requests
#   BENCH_ENGINES=postgres BENCH_PARTS="oha two" bash scripts/bench-server.sh
#
# Parts (BENCH_PARTS, default "oha load two"):
#   oha   generate the large vendor, start serve, run oha against the API and pages, read RSS
#   load  200 clients for 60 s of mixed reads and writes (crates/cunjin/examples/load.rs):
#         counts 2xx/4xx/5xx and checks every acknowledged write afterwards
#   two   (PostgreSQL) two instances on one database: a session made on one is valid on the
#         other, and scheduled probe runs and pre-demo checks run once between them
# Needs oha (`cargo install oha --locked`), curl, jq, psql for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${BENCH_REQUESTS:-1000000}"
ENGINES="${BENCH_ENGINES:-sqlite postgres}"
PARTS="${BENCH_PARTS:-oha load two}"
DURATION="${BENCH_DURATION:-15s}"
CONNECTIONS="${BENCH_CONNECTIONS:-10}"
LOAD_CLIENTS="${BENCH_LOAD_CLIENTS:-200}"
LOAD_SECONDS="${BENCH_LOAD_SECONDS:-60}"
PG_URL="${CUNJIN_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="${BENCH_WORK:-$TARGET/bench-server}"
PASSWORD="bench-password-1"
PORT=18080
mkdir -p "$WORK"

command -v oha >/dev/null || { echo "oha is missing: cargo install oha --locked" >&2; exit 2; }
cargo build --release -p cunjin --bin cunjin --example load
BIN="$TARGET/release/cunjin"
LOAD="$TARGET/release/examples/load"

PIDS=()
DBS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for d in "${DBS[@]:-}"; do
    [ -n "$d" ] && psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# fresh_db ENGINE NAME → prints a database URL of a new, empty database
fresh_db() {
  if [ "$1" = sqlite ]; then
    rm -f "$WORK/$2.db" "$WORK/$2.db-wal" "$WORK/$2.db-shm"
    echo "sqlite://$WORK/$2.db?mode=rwc"
  else
    local db="cunjin_bench_$(date +%s)_$2"
    psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
    DBS+=("$db")
    echo "${PG_URL%/*}/$db"
  fi
}

# start DB PORT LOG → starts serve in the background, sets SERVER_PID, waits for /healthz
start() {
  CUNJIN_ADMIN_PASSWORD="$PASSWORD" CUNJIN_LOG="${SERVE_LOG:-warn}" \
    "$BIN" --db "$1" serve --listen "127.0.0.1:$2" >"$3" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "serve did not start; see $3" >&2
  exit 1
}

# login PORT JAR → logs in as the administrator, keeping the session cookie in JAR and the
# session's anti-forgery token (sent back on writes with the cookie) in JAR.csrf
login() {
  curl -fs -c "$2" -D "$2.headers" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@localhost\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:$1/api/v1/auth/login" >/dev/null
  awk -F': ' 'tolower($1) == "x-csrf-token" { sub(/\r$/, "", $2); print $2 }' "$2.headers" >"$2.csrf"
}

rss() { grep -E 'VmHWM|VmRSS' "/proc/$1/status" | tr -s ' \t' ' ' | paste -sd ' '; }

# bench NAME URL [oha options…] → one line: name, p50/p95/p99 ms, requests/s, status counts
bench() {
  local name="$1" url="$2"
  shift 2
  oha -z "$DURATION" -c "$CONNECTIONS" --no-tui --output-format json \
    -H "authorization: Bearer $TOKEN" "$@" "$url" >"$WORK/oha.json"
  jq -r --arg n "$name" '[$n,
      (.latencyPercentiles.p50 * 1000 | . * 10 | round / 10),
      (.latencyPercentiles.p95 * 1000 | . * 10 | round / 10),
      (.latencyPercentiles.p99 * 1000 | . * 10 | round / 10),
      (.summary.requestsPerSec | round),
      (.statusCodeDistribution | tostring)] | @tsv' "$WORK/oha.json"
}

for engine in $ENGINES; do
  echo "==================== $engine ===================="
  if [[ " $PARTS " == *" oha "* || " $PARTS " == *" load "* ]]; then
    DB=$(fresh_db "$engine" large)
    echo "==> generate --scale large --requests $REQUESTS"
    /usr/bin/time -f "generate: %e s wall, %M KB max RSS" \
      "$BIN" --db "$DB" generate --scale large --requests "$REQUESTS" 2>"$WORK/generate-$engine.log"
    tail -1 "$WORK/generate-$engine.log"
    start "$DB" "$PORT" "$WORK/serve-$engine.log"
    PID=$SERVER_PID
    BASE="http://127.0.0.1:$PORT"
    login "$PORT" "$WORK/jar"
    TOKEN=$(curl -fs -b "$WORK/jar" -H "x-csrf-token: $(cat "$WORK/jar.csrf")" -H 'content-type: application/json' -d '{"name":"bench"}' \
      "$BASE/api/v1/tokens" | jq -r .token)
    # The customer with the largest gap: the heaviest customer page.
    CUSTOMER=$(curl -fs -H "authorization: Bearer $TOKEN" "$BASE/api/v1/gap" | jq '.customers[0].customer_id')
    echo "RSS after start and one gap: $(rss "$PID")"
    if [[ " $PARTS " == *" oha "* ]]; then
      echo "==> oha: $DURATION per URL, $CONNECTIONS connections (name, p50, p95, p99 ms, req/s, statuses)"
      bench "GET /api/v1/gap" "$BASE/api/v1/gap"
      bench "GET /api/v1/customers/$CUSTOMER/gap" "$BASE/api/v1/customers/$CUSTOMER/gap"
      bench "GET /api/v1/roadmap?limit=50" "$BASE/api/v1/roadmap?limit=50"
      bench "GET /api/v1/roadmap?limit=50&offset=5000" "$BASE/api/v1/roadmap?limit=50&offset=5000"
      bench "GET /customers/$CUSTOMER (HTML)" "$BASE/customers/$CUSTOMER"
      bench "GET / dashboard (HTML)" "$BASE/"
      bench "GET /roadmap (HTML)" "$BASE/roadmap"
      # The same pages one at a time: the time to render one, without waiting for a core.
      for page in "customers/$CUSTOMER" "" "roadmap"; do
        CONNECTIONS=1 bench "GET /$page (HTML, one at a time)" "$BASE/$page"
      done
      for q in 病历 医保 排班 "DRG 分组" excel "门诊医生站 医保 上传" "院感 预警 省平台"; do
        enc=$(jq -rn --arg q "$q" '$q|@uri')
        bench "GET /api/v1/requests?q=$q" "$BASE/api/v1/requests?q=$enc&limit=50"
      done
      bench "POST /api/v1/requests" "$BASE/api/v1/requests" -m POST \
        -H 'content-type: application/json' \
        -d '{"text":"压测：希望住院医生站批量导出病案首页质控规则","source_role":"implementation"}'
      echo "RSS after oha: $(rss "$PID")"
      # The reports are kept until something they depend on changes: time the first call after
      # a change (a promise recorded), which computes them again.
      echo "==> first call after a change (ms): promise recorded, then gap, roadmap, dashboard"
      for i in 1 2 3 4 5; do
        curl -fs -o /dev/null -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
          -d "{\"customer_id\":$CUSTOMER,\"feature_title\":\"压测承诺 $i $(date +%s%N)\",\"criteria\":[\"可用\"]}" \
          "$BASE/api/v1/commitments"
        g=$(curl -fs -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" "$BASE/api/v1/gap")
        r=$(curl -fs -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" "$BASE/api/v1/roadmap?limit=50")
        curl -fs -o /dev/null -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
          -d "{\"customer_id\":$CUSTOMER,\"feature_title\":\"压测承诺 b$i $(date +%s%N)\"}" "$BASE/api/v1/commitments"
        d=$(curl -fs -o /dev/null -w '%{time_total}' -b "$WORK/jar" "$BASE/")
        awk -v g="$g" -v r="$r" -v d="$d" 'BEGIN { printf "gap %.0f  roadmap %.0f  dashboard %.0f\n", g*1000, r*1000, d*1000 }'
      done
      echo "RSS after the recomputations: $(rss "$PID")"
      # The loop's last promise left the roadmap stale (the dashboard computes only the gap):
      # compute it once here, so that the load below measures a steady state and not its first
      # callers waiting for this computation on a busy machine.
      curl -fs -o /dev/null -H "authorization: Bearer $TOKEN" "$BASE/api/v1/roadmap?limit=50"
    fi
    if [[ " $PARTS " == *" load "* ]]; then
      echo "==> load: $LOAD_CLIENTS clients, $LOAD_SECONDS s, mixed reads and writes"
      "$LOAD" --base "$BASE" --token "$TOKEN" --clients "$LOAD_CLIENTS" --seconds "$LOAD_SECONDS" ||
        echo "LOAD FAILED (5xx, dropped or lost writes above)"
      echo "RSS after load: $(rss "$PID")"
    fi
    kill "$PID"
    wait "$PID" 2>/dev/null || true
  fi

  if [[ " $PARTS " == *" two "* && "$engine" = postgres ]]; then
    echo "==> two instances on one PostgreSQL database"
    DB=$(fresh_db postgres two)
    # Small vendor, environments probed every 60 s, a demo starting in 30 min (inside the
    # 1-hour check window) and more later.
    "$BIN" --db "$DB" generate --scale small --probe-interval 60 2>/dev/null
    SERVE_LOG="info,sqlx=warn,tower_http=warn" start "$DB" 18081 "$WORK/two-a.log"
    A=$SERVER_PID
    SERVE_LOG="info,sqlx=warn,tower_http=warn" start "$DB" 18082 "$WORK/two-b.log"
    B=$SERVER_PID
    started=$(date +%s)
    login 18081 "$WORK/jar-a"
    me=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar-a" http://127.0.0.1:18082/api/v1/me)
    echo "session made on instance A, used on instance B: GET /api/v1/me → $me"
    page=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar-a" http://127.0.0.1:18082/)
    echo "dashboard on B with A's cookie → $page"
    # Writes on either instance are seen by the other.
    TOKEN=$(curl -fs -b "$WORK/jar-a" -H "x-csrf-token: $(cat "$WORK/jar-a.csrf")" -H 'content-type: application/json' -d '{"name":"two"}' \
      http://127.0.0.1:18081/api/v1/tokens | jq -r .token)
    id=$(curl -fs -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
      -d '{"text":"双实例测试 two instances","source_role":"sales"}' http://127.0.0.1:18082/api/v1/requests | jq .id)
    seen=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:18081/api/v1/requests/$id")
    echo "request $id filed on B, read on A → $seen"
    # Stop some seconds past a whole number of intervals, so that no run is in flight.
    WAIT="${BENCH_TWO_SECONDS:-200}"
    echo "waiting $WAIT s for the scheduler of both instances…"
    sleep "$WAIT"
    kill "$A" "$B"
    wait "$A" "$B" 2>/dev/null || true
    elapsed=$(($(date +%s) - started))
    envs=$(psql "$DB" -Atc "SELECT COUNT(*) FROM environments")
    runs_a=$(grep -c 'scheduled probe run' "$WORK/two-a.log" || true)
    runs_b=$(grep -c 'scheduled probe run' "$WORK/two-b.log" || true)
    checks_a=$(grep -c 'automatic demo check' "$WORK/two-a.log" || true)
    checks_b=$(grep -c 'automatic demo check' "$WORK/two-b.log" || true)
    due_demos=$(psql "$DB" -Atc "SELECT COUNT(*) FROM demos WHERE check_24h_done_at IS NOT NULL")
    echo "after $elapsed s: $envs environments every 60 s → expected about $((envs * (elapsed / 60 + 1))) runs"
    echo "scheduled probe runs: A $runs_a + B $runs_b = $((runs_a + runs_b))"
    psql "$DB" -Atc "SELECT 'probe_runs per probe: min ' || MIN(n) || ', max ' || MAX(n) || ', probes ' || COUNT(*) FROM (SELECT probe_id, COUNT(*) AS n FROM probe_runs GROUP BY probe_id) x"
    echo "pre-demo checks: A $checks_a + B $checks_b = $((checks_a + checks_b)); demos inside the 24-hour window: $due_demos"
  fi
done
