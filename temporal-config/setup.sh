#!/usr/bin/env bash
# Everything a Temporal cluster needs before ticketflow runs on it: the namespace with its
# retention, then the search attributes. Idempotent: docker-compose.yml runs it on every `up`.
#
#   TEMPORAL_ADDRESS=temporal.example.com:7233 TEMPORAL_NAMESPACE=ticketflow \
#     TEMPORAL_RETENTION=30d temporal-config/setup.sh
#
# The variables are those of create-namespace.sh and register-search-attributes.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/create-namespace.sh"
"$here/register-search-attributes.sh"
