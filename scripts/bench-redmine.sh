#!/usr/bin/env bash
# cunjin against Redmine, side by side, with the same requests: cunjin's generator writes N
# requests (Chinese and English, seeded), the same texts are loaded into Redmine (Debian packages
# `redmine`, `redmine-sqlite`, served by Passenger standalone with as many processes as cores) as
# issues of one project, and `oha` measures, for each tool, the first page of the list and
# full-text searches for the same words. Both on SQLite, on this machine, one after the other.
# The table goes to docs/redmine-comparison.md.
#   BENCH_N=100000 BENCH_SECONDS=15 BENCH_CONCURRENCY=8 bash scripts/bench-redmine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
N="${BENCH_N:-100000}"
SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
CONCURRENCY="${BENCH_CONCURRENCY:-8}"
CORES="$(nproc)"
WORK="$(mktemp -d /tmp/cunjin-redmine.XXXXXX)"
OUT="$ROOT/docs/redmine-comparison.md"
CUNJIN_PORT=18081
REDMINE_PORT=18082
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  (cd /usr/share/redmine 2>/dev/null && passenger stop --port "$REDMINE_PORT" --pid-file "$WORK/passenger.pid" >/dev/null 2>&1) || true
}
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }

step "tools: redmine, passenger, sqlite3, oha"
missing=()
[ -d /usr/share/redmine ] || missing+=(redmine redmine-sqlite)
command -v passenger >/dev/null || missing+=(passenger)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v jq >/dev/null || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v oha >/dev/null; then
  cargo install oha --locked --root "$ROOT/target/tools" >/dev/null
  export PATH="$ROOT/target/tools/bin:$PATH"
fi
# Debian's Redmine has no application server in its bundle; Passenger standalone serves it, and
# Rails needs a lock file that matches the installed gems.
(cd /usr/share/redmine && { [ -e Gemfile.lock ] || bundle lock --local >/dev/null; })

step "cunjin: $N requests into SQLite"
cargo build --release -p cunjin --locked
CUNJIN="${CARGO_TARGET_DIR:-target}/release/cunjin"
[[ "$CUNJIN" = /* ]] || CUNJIN="$ROOT/$CUNJIN"
export CUNJIN_ADMIN_PASSWORD=bench-admin-1
DB="sqlite://$WORK/cunjin.db"
"$CUNJIN" --db "$DB" migrate >/dev/null
"$CUNJIN" --db "$DB" generate --scale small --requests "$N" --seed 7
sqlite3 -json "$WORK/cunjin.db" "SELECT id, text FROM requests ORDER BY id" > "$WORK/requests.json"

step "Redmine: the same $N requests as issues"
export RAILS_ENV=production DATABASE_URL="sqlite3:$WORK/redmine.sqlite3"
(
  cd /usr/share/redmine
  ruby bin/rake db:migrate >/dev/null
  REDMINE_LANG=zh ruby bin/rake redmine:load_default_data >/dev/null
  ruby bin/rails runner "$ROOT/scripts/redmine/load_issues.rb" "$WORK/requests.json" > "$WORK/load.txt"
)
REDMINE_KEY="$(tail -n1 "$WORK/load.txt")"
head -n1 "$WORK/load.txt"

step "start both servers"
"$CUNJIN" --db "$DB" serve --listen "127.0.0.1:$CUNJIN_PORT" > "$WORK/cunjin.log" 2>&1 &
PIDS+=($!)
(cd /usr/share/redmine && passenger start --engine=builtin --address 127.0.0.1 --port "$REDMINE_PORT" \
  --environment production --max-pool-size "$CORES" --min-instances "$CORES" \
  --pid-file "$WORK/passenger.pid" --log-file "$WORK/passenger.log" --daemonize >/dev/null)
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$CUNJIN_PORT/healthz" >/dev/null 2>&1 &&
    curl -fs "http://127.0.0.1:$REDMINE_PORT/" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs -c "$WORK/cookies" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@localhost\",\"password\":\"$CUNJIN_ADMIN_PASSWORD\"}" \
  "http://127.0.0.1:$CUNJIN_PORT/api/v1/auth/login" >/dev/null
CUNJIN_COOKIE="$(awk '$0 !~ /^#/ || /^#HttpOnly_/ { if (NF >= 7) print $6 "=" $7 }' "$WORK/cookies" | head -n1)"

# name | cunjin path | Redmine path
CASES=(
  "list, first page of 25|/api/v1/requests?limit=25|/issues.json?project_id=bench&limit=25"
  "search 排班|/api/v1/requests?limit=25&q=%E6%8E%92%E7%8F%AD|/search.json?q=%E6%8E%92%E7%8F%AD&issues=1&limit=25"
  "search 电子病历|/api/v1/requests?limit=25&q=%E7%94%B5%E5%AD%90%E7%97%85%E5%8E%86|/search.json?q=%E7%94%B5%E5%AD%90%E7%97%85%E5%8E%86&issues=1&limit=25"
  "search 医保 结算|/api/v1/requests?limit=25&q=%E5%8C%BB%E4%BF%9D+%E7%BB%93%E7%AE%97|/search.json?q=%E5%8C%BB%E4%BF%9D+%E7%BB%93%E7%AE%97&issues=1&limit=25"
  "search DRG|/api/v1/requests?limit=25&q=DRG|/search.json?q=DRG&issues=1&limit=25"
  "search export|/api/v1/requests?limit=25&q=export|/search.json?q=export&issues=1&limit=25"
)

measure() { # url header → "rps p50 p99 ok"
  oha -z "${SECONDS_PER_RUN}s" -c "$CONCURRENCY" --no-tui --output-format json -H "$2" "$1" > "$WORK/oha.json"
  jq -r '[.summary.requestsPerSec, .latencyPercentiles.p50, .latencyPercentiles.p99,
          ((.statusCodeDistribution["200"] // 0))] | @tsv' "$WORK/oha.json"
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }

step "measure (${SECONDS_PER_RUN}s each, $CONCURRENCY connections)"
rows=""
for c in "${CASES[@]}"; do
  IFS='|' read -r name cpath rpath <<<"$c"
  read -r c_rps c_p50 c_p99 c_ok < <(measure "http://127.0.0.1:$CUNJIN_PORT$cpath" "Cookie: $CUNJIN_COOKIE")
  read -r r_rps r_p50 r_p99 r_ok < <(measure "http://127.0.0.1:$REDMINE_PORT$rpath" "X-Redmine-API-Key: $REDMINE_KEY")
  c_hits="$(curl -fs -H "Cookie: $CUNJIN_COOKIE" "http://127.0.0.1:$CUNJIN_PORT${cpath/limit=25/limit=5000}" | jq -r 'length')"
  [ "$c_hits" = 5000 ] && c_hits="≥5000"
  r_hits="$(curl -fs -H "X-Redmine-API-Key: $REDMINE_KEY" "http://127.0.0.1:$REDMINE_PORT$rpath" | jq -r '.total_count')"
  line="| $name | $(printf '%.0f' "$c_rps") | $(ms "$c_p50") | $(ms "$c_p99") | $c_hits | $(printf '%.0f' "$r_rps") | $(ms "$r_p50") | $(ms "$r_p99") | $r_hits |"
  echo "$line"
  rows+="$line"$'\n'
  [ "$c_ok" != 0 ] && [ "$r_ok" != 0 ] || { echo "no successful answers in $name" >&2; exit 1; }
done

cunjin_rss="$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/${PIDS[0]}/status")"
cat > "$OUT" <<MD
# cunjin and Redmine, side by side

Generated by \`scripts/bench-redmine.sh\` on $(date -u +%Y-%m-%d) — $CORES cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo).

Both hold the same $N requests (cunjin's seeded generator, Chinese and English; in Redmine one
issue each, subject = the first 250 characters, description = the text), both on SQLite. cunjin:
\`cunjin serve\` (release build, one process). Redmine $(dpkg-query -W -f '${Version}' redmine) from Debian,
Passenger standalone with $CORES application processes. \`oha\`, $CONCURRENCY connections, ${SECONDS_PER_RUN} s per row,
authenticated as the administrator on both (cunjin: session cookie; Redmine: API key).
Throughput in answers per second, latencies in milliseconds, "hits" is the number of matching
requests each tool finds (cunjin: counted through one answer of up to 5,000; Redmine: its
\`total_count\`, which it computes on every search).

| operation | cunjin req/s | cunjin p50 | cunjin p99 | cunjin hits | Redmine req/s | Redmine p50 | Redmine p99 | Redmine hits |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows}
cunjin peak RSS during the run: $(printf '%.0f' "$cunjin_rss") MB.

Notes: Redmine's search matches substrings with \`LIKE\` over subject and description (every row
is read); cunjin looks up words and two-character Chinese terms in its term index, so the hit
counts differ where a substring is not a word (e.g. a Latin word inside another word). The list
rows are a page of 25 in both.
MD
echo "written: $OUT"
