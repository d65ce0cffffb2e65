"""`/kb`: knowledge-base articles, readable by anyone, written by agents."""

from __future__ import annotations

from fastapi import APIRouter

from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES

# Paths are absolute under the API prefix: `/kb/...`, and `/tickets/suggest-kb/{ticket}`.
router = APIRouter(prefix=API_PREFIX, tags=["knowledge base"], responses=PROBLEM_RESPONSES)
