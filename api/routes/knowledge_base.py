"""`/kb`: knowledge-base articles, readable by anyone, written by agents."""

from __future__ import annotations

from fastapi import APIRouter

from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES

router = APIRouter(prefix=f"{API_PREFIX}/kb", tags=["knowledge base"], responses=PROBLEM_RESPONSES)
