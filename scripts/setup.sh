#!/usr/bin/env bash
# npm run setup [-- --tests] [--dry-run] [--skip-apt]
# Idempotent installer for Debian/Ubuntu: apt packages, npm dependencies, the sidecar's Python venv.
# A step that cannot be done stops its own branch with a clear message; the rest still runs,
# and the exit code is 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

TESTS=0 DRY=0 SKIP_APT=0
for arg in "$@"; do
  case "$arg" in
    --tests) TESTS=1 ;;
    --dry-run) DRY=1 ;;
    --skip-apt) SKIP_APT=1 ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

FAILED=()
say() { printf '[setup] %s\n' "$*"; }
run() { # prints the command; runs it unless --dry-run
  say "+ $*"
  [ "$DRY" = 1 ] && return 0
  "$@"
}
fail() { say "FAILED: $*" >&2; FAILED+=("$1"); }

# --- 1. apt packages -------------------------------------------------------------------------
APT_PKGS=(ffmpeg redis-server python3 python3-venv util-linux)
[ "$TESTS" = 1 ] && APT_PKGS+=(espeak-ng gcc libc6-dev)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  say "apt packages present: ${APT_PKGS[*]}"
elif [ "$SKIP_APT" = 1 ]; then
  fail "apt: missing ${missing[*]} (--skip-apt given: install them yourself)"
elif ! command -v apt-get >/dev/null; then
  fail "apt: no apt-get on this host; install ${missing[*]} with your package manager"
else
  SUDO=()
  [ "$(id -u)" != 0 ] && SUDO=(sudo)
  if run "${SUDO[@]}" apt-get update -qq && run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    say "apt: installed ${missing[*]}"
  else
    fail "apt: could not install ${missing[*]}"
  fi
fi

# --- 2. npm dependencies ---------------------------------------------------------------------
stamp_of() { sha256sum "$@" 2>/dev/null | sha256sum | cut -c1-16; }
NPM_STAMP=node_modules/.setup-stamp
want=$(stamp_of package-lock.json)
if [ -f "$NPM_STAMP" ] && [ "$(cat "$NPM_STAMP")" = "$want" ]; then
  say "npm dependencies up to date"
elif run npm ci --no-audit --no-fund; then
  [ "$DRY" = 1 ] || echo "$want" > "$NPM_STAMP"
else
  fail "npm ci failed"
fi

# --- 3. the sidecar's Python environment -----------------------------------------------------
VENV=sidecar/.venv
REQ=sidecar/requirements.txt
[ "$TESTS" = 1 ] && REQ=sidecar/requirements-test.txt
PY=${SIDECAR_BOOTSTRAP_PYTHON:-python3}
if [ ! -f "$REQ" ]; then
  say "no $REQ yet: sidecar environment skipped"
elif ! command -v "$PY" >/dev/null; then
  fail "python: $PY not found (apt-get install python3 python3-venv)"
else
  if [ ! -x "$VENV/bin/python" ]; then
    run "$PY" -m venv "$VENV" || fail "python: could not create $VENV (apt-get install python3-venv)"
  fi
  VENV_STAMP=$VENV/.setup-stamp
  want=$(stamp_of "$REQ")
  if [ -x "$VENV/bin/python" ] || [ "$DRY" = 1 ]; then
    if [ -f "$VENV_STAMP" ] && [ "$(cat "$VENV_STAMP")" = "$want" ]; then
      say "sidecar Python packages up to date ($REQ)"
    elif run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"; then
      [ "$DRY" = 1 ] || echo "$want" > "$VENV_STAMP"
    else
      fail "python: pip could not install $REQ (no network to the Python package index?)"
    fi
  fi
fi

if [ "${#FAILED[@]}" -gt 0 ]; then
  say "finished with ${#FAILED[@]} problem(s):"
  for f in "${FAILED[@]}"; do say "  - $f"; done
  exit 1
fi
say "done"
