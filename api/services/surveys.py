"""The satisfaction survey behind a signed link: whose ticket it is, and recording the answer.

The link's token (`persistence.surveys`) stands in for a login: it names the ticket and its
requester, and the answer goes through the same rating path as `POST /tickets/{n}/rate`,
as that requester. What goes wrong is a `SurveyProblem`, which the route shows as a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.errors import error_from_rpc, error_from_update
from api.schemas.tickets import RateRequest
from api.services import ratings
from api.services import tickets as tickets_service
from api.services.survey_pages import Reason, SurveyTicket
from api.services.tickets import TicketRef
from domain.enums import Locale, UserStatus
from domain.errors import NotFound, TicketflowError
from persistence.models import User
from persistence.repositories import users as users_repo
from security.survey_links import ExpiredSurveyToken, InvalidSurveyToken, read_survey_token
from ticketflow.settings import Settings


class SurveyProblem(Exception):
    """Why the survey cannot be shown or answered: an HTTP status and a reason to show."""

    def __init__(
        self,
        status: int,
        reason: Reason,
        locale: Locale | None = None,
        ticket: SurveyTicket | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.locale = locale
        self.ticket = ticket


@dataclass(frozen=True)
class Survey:
    """An open survey: the requester answering it and their ticket as it stands."""

    requester: User
    ticket: TicketRef

    @property
    def locale(self) -> Locale:
        return Locale(self.requester.locale)

    @property
    def shown(self) -> SurveyTicket:
        view = self.ticket.view
        return SurveyTicket(
            number=view.number,
            title=view.title,
            requester_name=self.requester.name,
            score=view.satisfaction_score,
            feedback=view.feedback,
        )


async def open_survey(
    session: AsyncSession, client: Client, settings: Settings, token: str
) -> Survey:
    """The survey `token` opens; `SurveyProblem` (404, 410) if it opens none."""
    try:
        claims = read_survey_token(settings.link_keys, token)
    except ExpiredSurveyToken as error:
        raise SurveyProblem(410, "expired") from error
    except InvalidSurveyToken as error:
        raise SurveyProblem(404, "invalid") from error
    requester = await users_repo.get(session, claims.requester_id)
    if requester is None or requester.deleted_at is not None:
        raise SurveyProblem(404, "invalid")
    locale = Locale(requester.locale)
    if requester.status is UserStatus.INACTIVE:
        raise SurveyProblem(404, "invalid", locale)
    try:
        found = await tickets_service.find_ticket(session, client, requester, str(claims.number))
    except NotFound as error:
        raise SurveyProblem(404, "invalid", locale) from error
    if found.view.requester_id != requester.id:
        raise SurveyProblem(404, "invalid", locale)
    return Survey(requester, found)


def check_rateable(survey: Survey) -> None:
    """Only a resolved or closed ticket takes a rating (as the workflow's rule says): 409."""
    if survey.ticket.view.status.is_open:
        raise SurveyProblem(409, "not_rateable", survey.locale, survey.shown)


def _read_answer(survey: Survey, score: str, comment: str) -> RateRequest:
    """The form's fields as the rate route's body; a score outside 1–10 is a 422."""
    try:
        return RateRequest.model_validate({"score": score, "feedback": comment.strip() or None})
    except ValidationError as error:
        about_score = any(e["loc"][:1] == ("score",) for e in error.errors())
        reason: Reason = "bad_score" if about_score else "bad_comment"
        raise SurveyProblem(422, reason, survey.locale, survey.shown) from error


async def answer(client: Client, survey: Survey, score: str, comment: str) -> int:
    """Record the form's answer as the requester's rating; the score recorded."""
    body = _read_answer(survey, score, comment)
    try:
        await ratings.rate_found(client, survey.requester, survey.ticket, body.score, body.feedback)
    except WorkflowUpdateFailedError as failure:
        raise _problem(survey, error_from_update(failure)) from failure
    except RPCError as failure:
        raise _problem(survey, error_from_rpc(failure)) from failure
    except TicketflowError as error:
        raise _problem(survey, error) from error
    return body.score


def _problem(survey: Survey, error: TicketflowError) -> SurveyProblem:
    reasons: dict[int, Reason] = {
        409: "not_rateable",
        422: "bad_score",
        403: "invalid",
        404: "invalid",
    }
    reason = reasons.get(error.status, "unavailable")
    return SurveyProblem(error.status, reason, survey.locale, survey.shown)
