"""`/reports`: the helpdesk's figures, for dashboards and exports."""

from __future__ import annotations

from fastapi import APIRouter

from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES

# Paths are absolute under the API prefix: `/reports/...`, `/tickets/stats` and
# `/departments/{department}/stats`.
router = APIRouter(prefix=API_PREFIX, tags=["reports"], responses=PROBLEM_RESPONSES)
