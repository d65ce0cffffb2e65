"""The tables, as typed declarative models; `Base.metadata` is what migrations target."""

from persistence.models.audit import AuditLog
from persistence.models.auth import (
    LoginThrottle,
    MfaRecoveryCode,
    PhoneCode,
    RateLimitCounter,
    RefreshToken,
    UserToken,
)
from persistence.models.base import Base, TextEnum, table_of
from persistence.models.calendars import Calendar
from persistence.models.content import (
    AutomationRule,
    KnowledgeBaseArticle,
    ResponseTemplate,
    kb_matches,
)
from persistence.models.inbound import HeldEmail, HeldEmailStatus
from persistence.models.integrations import DeliveryStatus, Integration, WebhookDelivery
from persistence.models.notifications import Notification
from persistence.models.people import Department, User
from persistence.models.seeding import SeededItem
from persistence.models.sla import SlaHistory, SlaPolicy
from persistence.models.tickets import (
    TICKET_NUMBER_SEQ,
    Attachment,
    Ticket,
    TicketComment,
    TicketIdempotencyKey,
)
from persistence.models.vocab import (
    ArticleStatus,
    AuditAction,
    NotificationChannel,
    NotificationStatus,
    RuleTrigger,
    TokenChannel,
    TokenPurpose,
)

__all__ = [
    "TICKET_NUMBER_SEQ",
    "ArticleStatus",
    "Attachment",
    "AuditAction",
    "AuditLog",
    "AutomationRule",
    "Base",
    "Calendar",
    "DeliveryStatus",
    "Department",
    "HeldEmail",
    "HeldEmailStatus",
    "Integration",
    "KnowledgeBaseArticle",
    "LoginThrottle",
    "MfaRecoveryCode",
    "Notification",
    "NotificationChannel",
    "NotificationStatus",
    "PhoneCode",
    "RateLimitCounter",
    "RefreshToken",
    "ResponseTemplate",
    "RuleTrigger",
    "SeededItem",
    "SlaHistory",
    "SlaPolicy",
    "TextEnum",
    "Ticket",
    "TicketComment",
    "TicketIdempotencyKey",
    "TokenChannel",
    "TokenPurpose",
    "User",
    "UserToken",
    "WebhookDelivery",
    "kb_matches",
    "table_of",
]
