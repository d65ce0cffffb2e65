"""`/surveys/{token}`: the satisfaction survey a "resolved" message links to. No login: the
signed token in the link names the ticket and its requester (`persistence.surveys`).

Browser pages, not JSON: a form to show, a thank-you, or a page saying what went wrong with
the matching 4xx status.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, status
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.paths import API_PREFIX
from api.services import survey_pages as pages
from api.services import surveys as service
from api.services.surveys import SurveyProblem

router = APIRouter(prefix=f"{API_PREFIX}/surveys", tags=["surveys"])

TokenPath = Annotated[
    str, Path(description="the signed token from the survey link", max_length=2048)
]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", max_length=512)]


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {}}}


_PAGES: dict[int | str, dict[str, Any]] = {
    404: _html("the link is not valid: forged, for another use, or its ticket is gone"),
    409: _html("the ticket is not resolved or closed"),
    410: _html("the link has expired"),
}


def _page(html: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=pages.PAGE_HEADERS)


def _problem_page(problem: SurveyProblem, accept_language: str | None) -> HTMLResponse:
    locale = problem.locale or pages.locale_of(accept_language)
    return _page(pages.problem_page(locale, problem.reason, problem.ticket), problem.status)


@router.get(
    "/{token}",
    summary="The satisfaction survey of a resolved ticket, as a page [signed link]",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_survey(
    token: TokenPath,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    try:
        survey = await service.open_survey(session, temporal, settings, token)
        service.check_rateable(survey)
    except SurveyProblem as problem:
        return _problem_page(problem, accept_language)
    return _page(pages.form_page(survey.locale, survey.shown))


@router.post(
    "/{token}",
    summary="Answer the survey: a 1–10 score and an optional comment [signed link]",
    description="Form-encoded `score` (1–10) and `comment`; recorded as `POST /tickets/{n}/rate`.",
    response_class=HTMLResponse,
    responses={**_PAGES, 422: _html("the score is not 1 to 10: the form again")},
)
async def answer_survey(
    token: TokenPath,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    score: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=20_000)] = "",
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    try:
        survey = await service.open_survey(session, temporal, settings, token)
        score_given = await service.answer(temporal, survey, score, comment)
    except SurveyProblem as problem:
        return _problem_page(problem, accept_language)
    return _page(pages.thanks_page(survey.locale, survey.shown, score_given))
