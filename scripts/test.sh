#!/usr/bin/env bash
# The whole test suite of cunjin, on a fresh machine:
#   - formatting and clippy (warnings are errors);
#   - unit and property tests of the core; repository, API, UI and command-line tests, each on
#     SQLite and on PostgreSQL (a fresh database per test);
#   - the browser test in headless Chromium, against SQLite and against PostgreSQL;
#   - the acceptance papers (.docx) converted to PDF by LibreOffice and their Chinese text read back;
#   - the reliability tests (part of `cargo test --workspace`): PostgreSQL restarted under 50
#     writers, in a cluster of their own made with pg_createcluster, and SQLite on a full tmpfs.
#     They need root (they fail, never skip, without it); see docs/reliability.md.
# It installs or starts what it needs: PostgreSQL on 127.0.0.1:5432, Debian's chromium, the
# playwright-core npm package, LibreOffice Writer, poppler-utils and fonts-noto-cjk. Nothing is
# skipped: a missing piece fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${CUNJIN_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
export CUNJIN_TEST_PG="$PG_URL"
PG_BASE="${PG_URL%/*}"

step() { printf '\n==> %s\n' "$*"; }
need_apt() {
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

step "PostgreSQL on 127.0.0.1:5432"
command -v psql >/dev/null || need_apt postgresql-client
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "PostgreSQL is not running and not installed here; tests need it at $PG_URL" >&2
    exit 1
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not come up" >&2; exit 1; }
# Databases left by runs that crashed more than an hour ago (their names carry their start time).
cutoff=$(( $(date +%s) - 3600 ))
psql "$PG_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'cunjin\_t\_%'" |
  while read -r name; do
    started=$(printf '%s' "$name" | cut -d_ -f3)
    if [[ "$started" =~ ^[0-9]+$ ]] && [ "$started" -lt "$cutoff" ]; then
      psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null || true
    fi
  done

step "PostgreSQL server tools for the restart test (its own cluster, never the one above)"
{ command -v pg_createcluster >/dev/null && [ -d /usr/lib/postgresql ]; } || need_apt postgresql
command -v mount >/dev/null || need_apt mount

step "LibreOffice, poppler and Chinese fonts: the acceptance papers are rendered to PDF and read back"
{ command -v soffice >/dev/null && command -v pdftotext >/dev/null && [ -d /usr/share/fonts/opentype/noto ]; } ||
  need_apt --no-install-recommends libreoffice-writer-nogui poppler-utils fonts-noto-cjk

step "Chromium and playwright-core for the browser test"
[ -x /usr/bin/chromium ] || need_apt chromium
command -v npm >/dev/null || need_apt nodejs npm
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

step "cargo fmt and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (core, storage, API, UI, CLI) on SQLite and PostgreSQL"
cargo build --workspace --locked
cargo test --workspace --locked

step "Browser test on SQLite"
target_dir="${CARGO_TARGET_DIR:-target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
export CUNJIN_BIN="$target_dir/debug/cunjin"
# One file at a time: on PostgreSQL they share one database, and one's promises would move the
# gap the other measures.
(cd tests/browser && node --test --test-concurrency=1)

step "Browser test on PostgreSQL"
browser_db="cunjin_t_$(date +%s)_browser_$$"
psql "$PG_URL" -qc "CREATE DATABASE $browser_db" >/dev/null
trap 'psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $browser_db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
(cd tests/browser && CUNJIN_TEST_DB_URL="$PG_BASE/$browser_db" node --test --test-concurrency=1)

step "all tests passed"
