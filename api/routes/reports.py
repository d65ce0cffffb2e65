"""`/reports`: the helpdesk's figures, for dashboards and exports."""

from __future__ import annotations

from fastapi import APIRouter

from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES

router = APIRouter(prefix=f"{API_PREFIX}/reports", tags=["reports"], responses=PROBLEM_RESPONSES)
