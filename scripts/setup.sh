#!/usr/bin/env bash
# npm run setup [-- --tests] [--cpu | --gpu] [--dry-run] [--skip-apt]
# Idempotent installer for Debian/Ubuntu: apt packages, npm dependencies, the sidecar's Python
# venv with the pinned packages (on a GPU host also the pip CUDA libraries the pinned
# ctranslate2 needs), the configured Whisper model, then `npm run diagnose -- --quick`.
#   --tests     what the test suite needs instead (no faster-whisper, no model): espeak-ng, gcc, docker-compose (validates compose files),
#               libc6-dev, chromium (the dashboard's browser test), numpy for the python3 on PATH, and the linters
#               npm run lint runs: shellcheck (apt) and ruff (scripts/lint-requirements.txt, into .lint-venv/)
#   --cpu/--gpu override the GPU detection (nvidia-smi answering)
#   --dry-run   print every command it would run; change nothing
#   --skip-apt  no apt (hosts without root): missing packages are reported, not installed
# A step that cannot be done stops its own branch with a clear message; the rest still runs,
# and the exit status is 1 if anything failed (2: bad option).
set -uo pipefail

TESTS=0 DRY=0 SKIP_APT=0 MODE=auto
FAILED=()
VENV=sidecar/.venv
REQ=sidecar/requirements.txt
TEST_REQ=sidecar/requirements-test.txt
LINT_VENV=.lint-venv
LINT_REQ=scripts/lint-requirements.txt

say() { printf '[setup] %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; FAILED+=("$1"); }

# A command as a shell user would type it (arguments with special characters quoted).
quoted() {
  local out=() a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  printf '%s' "${out[*]}"
}
run() { # prints the command; runs it unless --dry-run
  say "+ $(quoted "$@")"
  [ "$DRY" = 1 ] && return 0
  "$@"
}

stamp_of() { # a short hash of files and words: what an install step depended on
  { cat "$@" 2>/dev/null; printf '%s\n' "${STAMP_EXTRA:-}"; } | sha256sum | cut -c1-16
}

# A setting as the worker reads it: the environment, else .env, else the default.
setting() {
  local name=$1 default=$2 v=""
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return; fi
  if [ -f .env ]; then
    v=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}${name}[[:space:]]*=[[:space:]]*//p" .env | tail -n 1)
    v=${v%\"}; v=${v#\"}; v=${v%\'}; v=${v#\'}
  fi
  printf '%s' "${v:-$default}"
}

# `ctranslate2==X` from a requirements file.
pinned_ct2() {
  sed -n 's/^[[:space:]]*ctranslate2[[:space:]]*==[[:space:]]*\([0-9][^[:space:];#]*\).*/\1/p' "$1" 2>/dev/null | head -n 1
}

# The pip packages of the CUDA libraries a ctranslate2 release needs (Linux wheels): the same
# rules as handler/preflight/requirements.ts (test/setup keeps the two in sync).
ct2_cuda_pips() {
  [[ $1 =~ ^([0-9]+)\.([0-9]+)(\.([0-9]+))? ]] || return 1
  local major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[4]:-0}
  case $major in
    3) echo "nvidia-cublas-cu11 nvidia-cudnn-cu11==8.*" ;;
    4)
      if ((10#$minor <= 4)); then echo "nvidia-cublas-cu12 nvidia-cudnn-cu12==8.*"
      elif ((10#$minor == 5 || (10#$minor == 6 && 10#$patch <= 2))); then echo "nvidia-cublas-cu12 nvidia-cudnn-cu12==9.*"
      else echo "nvidia-cublas-cu12"
      fi ;;
    *) return 1 ;;
  esac
}

python_has_numpy() { "$1" -c 'import numpy' >/dev/null 2>&1; }

# --- 0. the host ---------------------------------------------------------------------------
detect_gpu() {
  GPU=0 GPU_WHY=""
  case $MODE in
    cpu) GPU_WHY="--cpu given"; return ;;
    gpu) GPU=1 GPU_WHY="--gpu given"; return ;;
  esac
  local out
  if ! command -v nvidia-smi >/dev/null; then GPU_WHY="no nvidia-smi"; return; fi
  if out=$(timeout 15 nvidia-smi -L 2>/dev/null) && grep -q '^GPU ' <<<"$out"; then
    GPU=1 GPU_WHY=$(grep -m 1 '^GPU ' <<<"$out")
  else
    GPU_WHY="nvidia-smi does not answer"
  fi
}

# --- 1. apt packages -------------------------------------------------------------------------
apt_packages() {
  local pkgs=(ffmpeg redis-server python3 python3-venv util-linux) missing=() p
  if [ "$TESTS" = 1 ]; then
    pkgs+=(espeak-ng gcc libc6-dev docker-compose shellcheck chromium)
    # The tests run python3 from PATH with numpy; Debian's python3 gets it from apt.
    local py
    py=$(command -v python3 || true)
    if [ -z "$py" ] || { ! python_has_numpy "$py" && [[ $(readlink -f "$py") == /usr/bin/* ]]; }; then pkgs+=(python3-numpy); fi
  fi
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  APT_PLANNED=("${missing[@]}")
  if [ "${#missing[@]}" -eq 0 ]; then
    say "apt packages present: ${pkgs[*]}"
    return
  fi
  if [ "$SKIP_APT" = 1 ]; then fail "apt: missing ${missing[*]} (--skip-apt given: install them yourself)"; return; fi
  if ! command -v apt-get >/dev/null; then fail "apt: no apt-get on this host; install ${missing[*]} with its package manager"; return; fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then fail "apt: not root and no sudo; run as root, or install ${missing[*]} yourself and use --skip-apt"; return; fi
    sudo=(sudo)
  fi
  if run "${sudo[@]}" apt-get update -qq && run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    [ "$DRY" = 1 ] || say "apt: installed ${missing[*]}"
  else
    fail "apt: could not install ${missing[*]} (no network to the Debian mirror?)"
  fi
}

# --- 2. npm dependencies (only when package-lock.json changed) --------------------------------
npm_dependencies() {
  local stamp=node_modules/.setup-stamp want
  want=$(stamp_of package-lock.json)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "npm dependencies up to date"
  elif run npm ci --no-audit --no-fund; then
    [ "$DRY" = 1 ] || echo "$want" > "$stamp"
  else
    fail "npm: npm ci failed (see npm's message above)"
  fi
}

# --- 3. the sidecar's venv: pinned packages, plus the CUDA libraries on a GPU host -------------
sidecar_venv() {
  local py=${SIDECAR_BOOTSTRAP_PYTHON:-python3} extra=() ct2 pips
  [ -n "${SIDECAR_PYTHON:-}" ] && say "note: SIDECAR_PYTHON=$SIDECAR_PYTHON is set, so the worker uses that interpreter, not $VENV; unset it to use what setup installs"
  if [ ! -f "$REQ" ]; then fail "python: no $REQ in this checkout"; return; fi
  if ! command -v "$py" >/dev/null; then fail "python: $py not found (sudo apt-get install python3 python3-venv)"; return; fi
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    fail "python: $py is older than 3.9, which faster-whisper needs (install a newer python3, or set SIDECAR_BOOTSTRAP_PYTHON)"; return
  fi
  if [ "$GPU" = 1 ]; then
    ct2=$(pinned_ct2 "$REQ")
    if [ -z "$ct2" ]; then
      fail "gpu: $REQ pins no exact ctranslate2==X, so the CUDA libraries it needs are unknown (installing without them)"
    elif ! pips=$(ct2_cuda_pips "$ct2"); then
      fail "gpu: ctranslate2 $ct2 is outside the 3.x/4.x releases whose CUDA libraries are known (installing without them)"
    else
      read -ra extra <<<"$pips"
      say "GPU: ctranslate2 $ct2 needs ${extra[*]} from pip"
    fi
  fi
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
    run "$py" -m venv --clear "$VENV" || { fail "python: could not create $VENV (sudo apt-get install python3-venv)"; return; }
  fi
  local stamp=$VENV/.setup-stamp want
  want=$(STAMP_EXTRA="${extra[*]}" stamp_of "$REQ")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "sidecar Python packages up to date ($REQ${extra[*]:+ + ${extra[*]}})"
  elif run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" "${extra[@]}"; then
    [ "$DRY" = 1 ] || echo "$want" > "$stamp"
  else
    fail "python: pip could not install $REQ${extra[*]:+ and ${extra[*]}} into $VENV (no network to the Python package index? see pip's message above)"
  fi
}

# --- 4. the configured model, into the cache the sidecar reads ------------------------------
prefetch_model() {
  local model model_dir out rc
  model=$(setting WHISPER_MODEL turbo)
  model_dir=$(setting MODEL_DIR "")
  local cmd=("$VENV/bin/python" diagnostics/python/prefetch_model.py "$model")
  [ -n "$model_dir" ] && cmd+=("$model_dir")
  if [ -d "$model" ]; then say "model: WHISPER_MODEL is a local directory ($model): nothing to download"; return; fi
  if [ "$DRY" = 1 ]; then run "${cmd[@]}"; return; fi
  if [ ! -x "$VENV/bin/python" ]; then say "model: prefetch skipped: there is no $VENV (see above)"; return; fi
  say "+ $(quoted "${cmd[@]}")"
  out=$("${cmd[@]}" 2>&1)
  rc=$?
  local status path
  status=$(sed -n 's/.*"status": "\([a-z_]*\)".*/\1/p' <<<"$out" | tail -n 1)
  path=$(sed -n 's/.*"path": "\([^"]*\)".*/\1/p' <<<"$out" | tail -n 1)
  case $rc in
    0) if [ "$status" = downloaded ]; then say "model: downloaded $model to $path"; else say "model: $model already downloaded ($path)"; fi ;;
    3) say "model: prefetch skipped: faster-whisper is not installed in $VENV (its install did not succeed)" ;;
    *) fail "model: could not download $model${model_dir:+ into $model_dir} (no network to huggingface.co, or HF_HUB_OFFLINE set?): $(tail -n 1 <<<"$out")" ;;
  esac
}

# --- 3 with --tests: numpy for the python3 the tests run ------------------------------------
tests_python() {
  local py
  py=$(command -v python3 || true)
  if [ -z "$py" ]; then
    [ "$DRY" = 1 ] && [[ " ${APT_PLANNED[*]} " == *" python3 "* ]] && { say "python3 and numpy: from apt (planned above)"; return; }
    fail "python: no python3 on PATH (sudo apt-get install python3 python3-numpy)"; return
  fi
  if python_has_numpy "$py"; then
    say "python3 ($py) imports numpy $("$py" -c 'import numpy; print(numpy.__version__)' 2>/dev/null)"
  elif [ "$DRY" = 1 ] && [[ " ${APT_PLANNED[*]} " == *" python3-numpy "* ]]; then
    say "numpy for $py: from apt's python3-numpy (planned above)"
  elif "$py" -c 'import os, sys, sysconfig; sys.exit(0 if sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)' 2>/dev/null; then
    fail "python: $py cannot import numpy, and pip may not install into this externally-managed Python: sudo apt-get install python3-numpy"
  elif run "$py" -m pip install -q --disable-pip-version-check -r "$TEST_REQ"; then
    :
  else
    fail "python: pip could not install $TEST_REQ for $py (no network to the Python package index?)"
  fi
}

# --- 4 with --tests: ruff, the Python linter npm run lint runs, in a venv of its own ----------
lint_tools() {
  local py=${LINT_BOOTSTRAP_PYTHON:-python3}
  if [ ! -f "$LINT_REQ" ]; then fail "lint tools: no $LINT_REQ in this checkout"; return; fi
  if ! command -v "$py" >/dev/null; then
    [ "$DRY" = 1 ] && [[ " ${APT_PLANNED[*]} " == *" python3 "* ]] && { run "$py" -m venv --clear "$LINT_VENV"; run "$LINT_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$LINT_REQ"; return; }
    fail "lint tools: $py not found (sudo apt-get install python3 python3-venv)"; return
  fi
  if [ ! -x "$LINT_VENV/bin/python" ] || ! "$LINT_VENV/bin/python" -c '' 2>/dev/null; then
    run "$py" -m venv --clear "$LINT_VENV" || { fail "lint tools: could not create $LINT_VENV (sudo apt-get install python3-venv)"; return; }
  fi
  local stamp=$LINT_VENV/.setup-stamp want
  want=$(stamp_of "$LINT_REQ")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "lint tools up to date ($LINT_REQ in $LINT_VENV)"
  elif run "$LINT_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$LINT_REQ"; then
    [ "$DRY" = 1 ] || echo "$want" > "$stamp"
  else
    fail "lint tools: pip could not install $LINT_REQ into $LINT_VENV (no network to the Python package index? see pip's message above)"
  fi
}

# --- 5. the check -----------------------------------------------------------------------------
diagnose() {
  local args=(--quick)
  [ "$GPU" = 1 ] && args+=(--require-gpu)
  if [ "$TESTS" = 1 ]; then
    say "diagnose skipped with --tests (the tests bring their own doubles; \`npm run diagnose\` checks the worker's environment)"
  elif [ "$DRY" = 1 ] || [ -d node_modules ]; then
    run npm run --silent diagnose -- "${args[@]}" || fail "diagnose: a check failed (its fix is printed above)"
  else
    say "diagnose skipped: no node_modules (npm ci failed above)"
  fi
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
  for arg in "$@"; do
    case "$arg" in
      --tests) TESTS=1 ;;
      --dry-run) DRY=1 ;;
      --skip-apt) SKIP_APT=1 ;;
      --cpu) [ "$MODE" = gpu ] && { echo "setup: --cpu and --gpu exclude each other" >&2; exit 2; }; MODE=cpu ;;
      --gpu) [ "$MODE" = cpu ] && { echo "setup: --cpu and --gpu exclude each other" >&2; exit 2; }; MODE=gpu ;;
      -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "setup: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    esac
  done
  APT_PLANNED=()
  detect_gpu
  if [ "$GPU" = 1 ]; then say "host: GPU ($GPU_WHY): the CUDA libraries come from pip"; else say "host: CPU ($GPU_WHY; --gpu overrides)"; fi
  [ "$DRY" = 1 ] && say "dry run: printing the plan, changing nothing"

  apt_packages
  npm_dependencies
  if [ "$TESTS" = 1 ]; then
    tests_python
    lint_tools
  else
    sidecar_venv
    prefetch_model
  fi
  diagnose

  if [ "${#FAILED[@]}" -gt 0 ]; then
    say "finished with ${#FAILED[@]} problem(s):"
    for f in "${FAILED[@]}"; do say "  - $f"; done
    exit 1
  fi
  if [ "$DRY" = 1 ]; then say "done (dry run: nothing was changed)"; else say "done"; fi
}

# Sourcing the file (the tests do) defines the functions without running anything.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
