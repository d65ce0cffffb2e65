"""Business-hours calendars that SLA policies count their targets in."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Date, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasId, HasTimestamps


class Calendar(HasId, HasTimestamps, Base):
    """Working hours in a time zone; holidays are explicit dates plus a country's, if any.

    `hours` keeps the API's shape, `{"mon": [["09:00", "17:00"]], ...}`. Country holidays
    are not stored: they are resolved for the years a ticket needs when it opens.
    """

    __tablename__ = "calendars"
    __table_args__ = (
        # A subdivision only means something inside a country.
        CheckConstraint(
            "subdivision IS NULL OR country_code IS NOT NULL", name="subdivision_needs_country"
        ),
    )

    name: Mapped[str] = mapped_column(unique=True)
    timezone: Mapped[str]
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    holidays: Mapped[list[date]] = mapped_column(
        ARRAY(Date()), default=list, server_default=text("'{}'")
    )
    country_code: Mapped[str | None]
    subdivision: Mapped[str | None]
