"""What `ticketflow init` and the demo seed have already made, so no later run makes it again."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, HasCreatedAt


class SeededItem(HasCreatedAt, Base):
    """One thing a seed made (or found already there), by a stable key such as `rule:vip`.

    Kept after the thing itself is deleted: an admin who removes a default rule or a demo user
    does not see it come back on the next deploy or the next `ticketflow dev`.
    """

    __tablename__ = "seeded_items"

    key: Mapped[str] = mapped_column(primary_key=True)
