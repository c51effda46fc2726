#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis, driven by the OpenAPI document the server serves:
#   - builds cunjin and starts `cunjin serve --demo` on a fresh SQLite file (or, with
#     CUNJIN_FUZZ_DB=postgres://…/empty_db, on that PostgreSQL database);
#   - logs in as the administrator and creates an API token;
#   - runs schemathesis (pinned, installed in a virtualenv under the cargo target directory)
#     against /api/v1/openapi.json with the checks not_a_server_error and
#     response_schema_conformance, and fails on any finding.
# Settings: CUNJIN_FUZZ_EXAMPLES (test cases per operation, default 50), CUNJIN_FUZZ_SEED (default
# 20261201, so a run can be repeated), CUNJIN_FUZZ_PORT (default 18080). Reports (JUnit, and the
# server log) are left in $target/api-fuzz/. What ran and what it found: docs/api-fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples="${CUNJIN_FUZZ_EXAMPLES:-50}"
seed="${CUNJIN_FUZZ_SEED:-20261201}"
port="${CUNJIN_FUZZ_PORT:-18080}"
base="http://127.0.0.1:$port"
target_dir="${CARGO_TARGET_DIR:-target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
venv="$target_dir/schemathesis-venv"
out="$target_dir/api-fuzz"

if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

echo "== building cunjin"
cargo build -p cunjin --locked
bin="$target_dir/debug/cunjin"

rm -rf "$out" && mkdir -p "$out"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

db="${CUNJIN_FUZZ_DB:-$work/fuzz.db}"
password="fuzz-admin-$(date +%s)"
echo "== starting cunjin serve --demo on $base"
CUNJIN_LOG="info,tower_http=debug" CUNJIN_ADMIN_PASSWORD="$password" "$bin" serve --demo --listen "127.0.0.1:$port" --db "$db" \
  >"$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null

echo "== creating an API token"
curl -fsS -D "$work/login.headers" -c "$work/cookies" -H 'content-type: application/json' \
  -d "{\"email\": \"admin@localhost\", \"password\": \"$password\"}" "$base/api/v1/auth/login" >/dev/null
csrf="$(grep -i '^x-csrf-token:' "$work/login.headers" | cut -d' ' -f2 | tr -d '\r\n')"
token="$(curl -fsS -b "$work/cookies" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
  -d '{"name": "api fuzzing"}' "$base/api/v1/tokens" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

echo "== schemathesis $SCHEMATHESIS_VERSION: $examples cases per operation, seed $seed"
status=0
# Run from the report directory: schemathesis keeps its example cache in ./.schemathesis.
(cd "$out" && "$venv/bin/st" run "$base/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer $token" \
  --max-examples "$examples" --seed "$seed" \
  --request-timeout 40 --no-color \
  --report junit --report-dir "$out") || status=$?

# Belt and braces: whatever the checks say, the server must not have answered any 5xx nor
# panicked (the log is read without its colours).
sed 's/\x1b\[[0-9;]*m//g' "$out/server.log" >"$out/server.txt"
answered="$(grep -c 'finished processing request' "$out/server.txt" || true)"
echo "== the server answered $answered requests; by status:"
grep -oE 'status=[0-9]+' "$out/server.txt" | sort | uniq -c
if grep -qE 'status=5[0-9][0-9]' "$out/server.txt"; then
  echo "the server answered 5xx:" >&2
  grep -E 'status=5[0-9][0-9]' "$out/server.txt" | head -20 >&2
  status=1
fi
if grep -q 'panicked' "$out/server.txt"; then
  echo "the server panicked:" >&2
  grep -A3 'panicked' "$out/server.txt" | head -20 >&2
  status=1
fi
echo "== reports in $out"
exit "$status"
