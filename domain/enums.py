"""Closed vocabularies of the ticket model, spelled as the API spells them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    USER = "user"
    VIP_USER = "vip_user"

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.AGENT)


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ON_LEAVE = "on_leave"


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Locale(StrEnum):
    ES = "es"
    EN = "en"


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Urgency(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Impact(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Source(StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"
    CHAT = "chat"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    SLACK = "slack"


class Metric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"


class SlaEventKind(StrEnum):
    APPLIED = "applied"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNED = "warned"
    BREACHED = "breached"
    FULFILLED = "fulfilled"
    RETARGETED = "retargeted"
