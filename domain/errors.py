"""The one family of business errors every layer maps to its own failure shape."""

from __future__ import annotations

from collections.abc import Iterable


class TicketflowError(Exception):
    """Base of every business error; `code` names it across process boundaries."""

    code = "ticketflow_error"
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(TicketflowError):
    code = "invalid_input"
    status = 422


class NotFound(TicketflowError):
    code = "not_found"
    status = 404


class Forbidden(TicketflowError):
    code = "forbidden"
    status = 403


class Conflict(TicketflowError):
    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, current: str, requested: str, allowed: Iterable[str]) -> None:
        allowed_list = sorted(allowed)
        moves = ", ".join(allowed_list) if allowed_list else "none"
        super().__init__(f"cannot move a {current} ticket to {requested}; allowed: {moves}")
        self.current = current
        self.requested = requested
        self.allowed = allowed_list


ERRORS_BY_CODE: dict[str, type[TicketflowError]] = {
    cls.code: cls for cls in (TicketflowError, InvalidInput, NotFound, Forbidden, Conflict)
}
ERRORS_BY_CODE[IllegalTransition.code] = Conflict
