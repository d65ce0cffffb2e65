#!/usr/bin/env bash
# Create ticketflow's namespace on a Temporal cluster, with its retention (idempotent).
#
#   TEMPORAL_ADDRESS=temporal.example.com:7233 TEMPORAL_NAMESPACE=ticketflow \
#     TEMPORAL_RETENTION=30d temporal-config/create-namespace.sh
#
# Waits until the cluster answers, then creates the namespace, or leaves it as it is when it
# exists with that retention, or sets the retention when it exists with another one: the
# value given here is the one the namespace ends up with, so changing it and running this
# again is how the retention is changed.
#
#   TEMPORAL_NAMESPACE     default `default`, like ticketflow's own default
#   TEMPORAL_RETENTION     how long a finished workflow's history is kept: <n>d, <n>h, <n>m or
#                          <n>s (default 30d; Temporal wants at least a day)
#   TEMPORAL_WAIT_SECONDS  how long to wait for the cluster, and for each step (default 300)
#
# The `temporal` CLI reads the connection from TEMPORAL_ADDRESS, TEMPORAL_API_KEY, the
# TEMPORAL_TLS_* variables, or TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE. It needs bash and that
# CLI, not ticketflow (the repo's .venv and the ticketflow image have both).
set -euo pipefail

# shellcheck source=temporal-config/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_RETENTION:-30d}"

# 30d → 2592000: the unit the server reports the retention in.
retention_seconds() {
  [[ "$1" =~ ^([0-9]+)([dhms])$ ]] || return 1
  local n=$((10#${BASH_REMATCH[1]}))
  case "${BASH_REMATCH[2]}" in
    d) echo $((n * 86400)) ;;
    h) echo $((n * 3600)) ;;
    m) echo $((n * 60)) ;;
    s) echo "$n" ;;
  esac
}

if ! wanted="$(retention_seconds "$retention")"; then
  echo "error: TEMPORAL_RETENTION must look like 30d, 72h, 90m or 3600s, not '$retention'" >&2
  exit 2
fi
temporal="$(find_temporal)"

# The namespace's description, or nothing when it does not exist; any other failure (the
# cluster still settling) is retried by the caller.
describe_or_absent() {
  local out
  if out="$("$temporal" operator namespace describe --namespace "$namespace" --output json 2>&1)"; then
    printf '%s' "$out"
  elif [[ "$out" == *"not found"* ]]; then
    return 0
  else
    echo "$out" >&2
    return 1
  fi
}

# Created now, or by someone else since it was found missing: either way it is there.
create() {
  local out
  out="$("$temporal" operator namespace create --namespace "$namespace" --retention "$retention" 2>&1)" ||
    [[ "$out" == *"already exists"* ]] || {
    echo "$out" >&2
    return 1
  }
}

wait_for_cluster "$temporal"
described="$(retry "describe namespace $namespace" describe_or_absent)"
if [[ -z "$described" ]]; then
  retry "create namespace $namespace" create
  echo "created: namespace $namespace, retention $retention"
  exit 0
fi

current="$(sed -n 's/.*"workflowExecutionRetentionTtl": *"\([0-9]*\)s".*/\1/p' <<<"$described")"
if [[ "$current" == "$wanted" ]]; then
  echo "exists:  namespace $namespace, retention $retention"
elif [[ -z "$current" ]]; then
  echo "exists:  namespace $namespace (its retention could not be read; left as it is)"
else
  retry "set the retention of namespace $namespace" \
    "$temporal" operator namespace update --namespace "$namespace" --retention "$retention" \
    >/dev/null
  echo "updated: namespace $namespace, retention ${current}s -> $retention"
fi
