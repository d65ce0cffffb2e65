"""Closed vocabularies only the stores use (the ticket model's live in `domain.enums`)."""

from __future__ import annotations

from enum import StrEnum


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"
    SLACK = "slack"
    TEAMS = "teams"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class RuleTrigger(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    COMMENT_ADDED = "comment_added"
    TIME = "time"


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    # Sets the first password of an account made from an inbound e-mail or SMS.
    INVITATION = "invitation"


class TokenChannel(StrEnum):
    """Where a single-use link went: using it proves that address (e-mail or phone)."""

    EMAIL = "email"
    SMS = "sms"
