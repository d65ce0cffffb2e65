#!/usr/bin/env bash
# Register ticketflow's search attributes in a namespace of a Temporal cluster (idempotent).
#
#   TEMPORAL_ADDRESS=temporal.example.com:7233 TEMPORAL_NAMESPACE=ticketflow \
#     temporal-config/register-search-attributes.sh
#
# Waits until the cluster answers, creates the attributes the namespace lacks, then checks that
# it has them all. It fails, naming it, when one exists with another type: Temporal cannot
# change a type.
#
#   TEMPORAL_NAMESPACE     default `default`, like ticketflow's own default
#   TEMPORAL_WAIT_SECONDS  how long to wait for the cluster, and for each step (default 300)
#   PYTHON                 the Python that has ticketflow installed (default: the repo's .venv,
#                          else python3); the `temporal` CLI beside it is used first
#
# The list comes from workflows/search_attributes.py, the one place it is kept, so run this
# where ticketflow is installed (its image, or the repo's .venv). The `temporal` CLI reads the
# connection from TEMPORAL_ADDRESS, TEMPORAL_API_KEY, the TEMPORAL_TLS_* variables, or
# TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE.
set -euo pipefail

# shellcheck source=temporal-config/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

namespace="${TEMPORAL_NAMESPACE:-default}"
python="$(find_python)"
temporal="$(find_temporal)"

listed() {
  "$temporal" operator search-attribute list --namespace "$namespace" --output json
}

# `Name=Type` for each attribute the namespace lacks (exits 3 on a type clash).
missing() {
  listed | "$python" -m ticketflow.search_attribute_plan "$@"
}

# create NAME TYPE: one that a server's cache showed as missing may be there already.
create() {
  local out
  out="$("$temporal" operator search-attribute create --namespace "$namespace" \
    --name "$1" --type "$2" 2>&1)" && return 0
  if [[ "$out" == *"already exists"* && "$out" != *"different type"* ]]; then return 0; fi
  echo "$out" >&2
  return 1
}

wait_for_cluster "$temporal"
# A namespace created a moment ago may still be unknown to the server: the first read retries.
listing="$(retry "list the search attributes of namespace $namespace" listed)"
plan="$("$python" -m ticketflow.search_attribute_plan <<<"$listing")"

# One attribute per call: the CLI (1.9.1), given several --name with one --type, registers
# only the first and still reports success.
while IFS='=' read -r name type; do
  [[ -n "$name" ]] || continue
  retry "create search attribute $name ($type) in namespace $namespace" create "$name" "$type"
  echo "registered: $name ($type)"
done <<<"$plan"

# Read back: a server answers from caches that take a few seconds to see new attributes.
retry "find every ticketflow search attribute in namespace $namespace" missing --check >/dev/null
echo "namespace $namespace has every ticketflow search attribute"
