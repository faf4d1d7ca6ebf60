# Shared shell functions of scripts/*: find a Python for Home Assistant and keep
# a virtual environment in step with a requirements file. Sourced, not run.
# shellcheck shell=bash

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# Print the newest interpreter >= 3.13 found on PATH or under pyenv.
find_python() {
  local candidates=() cand best="" best_ver="" ver pyenv_root
  for cand in python3.14 python3.13 python3; do
    command -v "$cand" >/dev/null 2>&1 && candidates+=("$(command -v "$cand")")
  done
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root)
    for cand in "$pyenv_root"/versions/3.1[3-9]*/bin/python; do
      [ -x "$cand" ] && candidates+=("$cand")
    done
  fi
  for cand in "${candidates[@]}"; do
    # A pyenv shim may exist without a matching version: it then fails here.
    ver=$("$cand" -c 'import sys; v=sys.version_info; print(f"{v[0]:03d}{v[1]:03d}{v[2]:03d}" if v >= (3, 13) else "")' 2>/dev/null) || continue
    [ -n "$ver" ] || continue
    if [ -z "$best_ver" ] || [ "$ver" \> "$best_ver" ]; then best=$cand; best_ver=$ver; fi
  done
  [ -n "$best" ] || { echo "No Python >= 3.13 found (tried python3.14, python3.13 and pyenv versions)." >&2; return 1; }
  echo "$best"
}

# ensure_venv DIR REQUIREMENTS: create DIR if needed, reinstall when the
# requirements or the interpreter changed. Prints progress to stderr.
ensure_venv() {
  local venv=$1 req=$2 python want have
  python=$(find_python) || return 1
  want="$("$python" -c 'import sys; print(sys.version)' | head -1) $(sha256sum "$req" | cut -d' ' -f1)"
  have=$(cat "$venv/.requirements-stamp" 2>/dev/null || true)
  if [ "$want" = "$have" ] && [ -x "$venv/bin/python" ]; then return 0; fi
  if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -c 'import sys; print(sys.version)' | head -1)" != "$("$python" -c 'import sys; print(sys.version)' | head -1)" ]; then
    echo ">> creating $venv with $python ($("$python" --version))" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" || return 1
  fi
  echo ">> installing $req into $venv (first run: a few minutes)" >&2
  if ! { "$venv/bin/python" -m pip install -q --upgrade pip \
      && "$venv/bin/python" -m pip install -q -r "$req"; } >"$venv/.pip.log" 2>&1; then
    # This machine's pip.conf names local indexes that may not exist: skip that noise.
    { grep -v "is ignored: it is neither" "$venv/.pip.log" || true; } | tail -20 >&2
    return 1
  fi
  echo "$want" >"$venv/.requirements-stamp"
}

# ensure_chroot_venv ROOT VENV REQUIREMENTS: a venv at VENV inside the chroot ROOT
# (a Debian root with python3.14, e.g. the one test-on-latest-ha builds), in step
# with REQUIREMENTS. Needs root (chroot) and the package index.
ensure_chroot_venv() {
  local root=$1 venv=$2 req=$3 want have
  [ -x "$root/usr/bin/python3.14" ] || { echo "no Python 3.14 root at $root" >&2; return 3; }
  want=$(sha256sum "$req" | cut -d' ' -f1)
  have=$(cat "$root$venv/.requirements-stamp" 2>/dev/null || true)
  if [ "$want" = "$have" ] && [ -e "$root$venv/pyvenv.cfg" ]; then return 0; fi
  echo ">> installing $req into $root$venv (first run: a few minutes)" >&2
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp "$req" "$root/tmp/requirements-chroot.txt"
  if ! chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root \
      PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
      PIP_DEFAULT_TIMEOUT=180 bash -c "{ [ -x $venv/bin/python ] || python3.14 -m venv $venv; } \
      && $venv/bin/pip install -q -r /tmp/requirements-chroot.txt" >"$root/tmp/pip-chroot.log" 2>&1; then
    tail -20 "$root/tmp/pip-chroot.log" >&2
    return 1
  fi
  echo "$want" >"$root$venv/.requirements-stamp"
}
