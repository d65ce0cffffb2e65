"""The five automation rules every new desk starts with, in English and in Spanish.

They are the original specification's predefined rules. Positions put the rules that set a
priority before the one that reacts to P1, so a VIP's ticket (made P1 by a rule) also alerts
the manager; a VIP's password question ends up P1 (the VIP rule runs after the password one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.automation import validated
from domain.enums import Locale, Role
from domain.rules import Rule
from persistence.models import User
from persistence.repositories import automation_rules as rules_repo
from persistence.repositories.automation_rules import RuleFields

SENIOR_AGENT = "{senior_agent_id}"  # filled in when seeding; see `RuleSeed.rule`
MESSAGE = "{message}"  # the rule's notification text, in the desk's language


@dataclass(frozen=True)
class RuleText:
    name: str
    description: str
    message: str | None = None


@dataclass(frozen=True)
class RuleSeed:
    """One predefined rule: what it does, and how it reads in each language."""

    key: str
    trigger: str
    position: int
    conditions: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]
    text: Mapping[Locale, RuleText]

    def rule(self, locale: Locale, senior_agent_id: UUID | None) -> Rule:
        """The rule in `locale`, assigning `senior_agent_id` (without one, that action goes)."""
        text = self.text[locale]
        actions = []
        for action in self.actions:
            filled = {
                name: _fill(value, text.message, senior_agent_id) for name, value in action.items()
            }
            if filled.get("agent_id", "") is None:
                continue  # no agent to assign: the rule still does the rest
            actions.append(filled)
        data = {
            "name": text.name,
            "description": text.description,
            "trigger": self.trigger,
            "position": self.position,
            "conditions": self.conditions,
            "actions": actions,
        }
        return validated(data)

    def names(self) -> set[str]:
        return {text.name for text in self.text.values()}


def _fill(value: Any, message: str | None, senior_agent_id: UUID | None) -> Any:
    if value == MESSAGE:
        return message
    if value == SENIOR_AGENT:
        return None if senior_agent_id is None else str(senior_agent_id)
    return value


PREDEFINED_RULES: tuple[RuleSeed, ...] = (
    RuleSeed(
        key="password_reset",
        trigger="created",
        position=10,
        conditions={
            "any": [
                {"field": "description", "operator": "contains", "value": "contraseña"},
                {"field": "description", "operator": "contains", "value": "password"},
            ]
        },
        actions=(
            {"type": "set_priority", "priority": "P3"},
            {"type": "add_tag", "tag": "password_reset"},
        ),
        text={
            Locale.EN: RuleText(
                "Password reset: P3 and tag",
                'A description mentioning "contraseña" or "password" is a password reset: '
                "priority P3, tag password_reset.",
            ),
            Locale.ES: RuleText(
                "Contraseña: P3 y etiqueta",
                "Una descripción que menciona «contraseña» o «password» es un restablecimiento "
                "de contraseña: prioridad P3, etiqueta password_reset.",
            ),
        },
    ),
    RuleSeed(
        key="vip_requester",
        trigger="created",
        position=20,
        conditions={"field": "requester_vip", "operator": "equals", "value": True},
        actions=(
            {"type": "set_priority", "priority": "P1"},
            {"type": "assign_agent", "agent_id": SENIOR_AGENT},
        ),
        text={
            Locale.EN: RuleText(
                "VIP requester: P1 and a senior agent",
                "Tickets from VIP users become P1 and go to the senior agent (the first agent "
                "of the support department, chosen when the rule is seeded).",
            ),
            Locale.ES: RuleText(
                "Usuario VIP: P1 y un agente sénior",
                "Los tickets de usuarios VIP pasan a P1 y van al agente sénior (el primer "
                "agente del departamento de soporte, elegido al crear la regla).",
            ),
        },
    ),
    RuleSeed(
        key="p1_alert",
        trigger="created",
        position=30,
        conditions={"field": "priority", "operator": "equals", "value": "P1"},
        actions=(
            {"type": "send_notification", "target": "manager", "message": MESSAGE},
            {"type": "create_incident"},
        ),
        text={
            Locale.EN: RuleText(
                "P1: notify the manager and open an incident",
                "A new P1 ticket alerts the department manager at once and opens an incident.",
                "Critical ticket",
            ),
            Locale.ES: RuleText(
                "P1: avisar al responsable y abrir un incidente",
                "Un ticket P1 nuevo avisa en el acto al responsable del departamento y abre "
                "un incidente.",
                "Ticket crítico recibido",
            ),
        },
    ),
    RuleSeed(
        key="sla_warning",
        trigger="time",
        position=40,
        conditions={"field": "sla_minutes_remaining", "operator": "less_than", "value": 30},
        actions=({"type": "send_notification", "target": "assignee", "message": MESSAGE},),
        text={
            Locale.EN: RuleText(
                "SLA about to expire: alert the agent",
                "When less than 30 minutes are left on a running SLA clock, the assignee is "
                "warned, once per cycle.",
                "The SLA expires in under 30 minutes",
            ),
            Locale.ES: RuleText(
                "SLA a punto de vencer: avisar al agente",
                "Cuando a un reloj de SLA en marcha le quedan menos de 30 minutos, se avisa al "
                "agente asignado, una vez por ciclo.",
                "El SLA vence en menos de 30 minutos",
            ),
        },
    ),
    RuleSeed(
        key="inactivity_close",
        trigger="time",
        position=50,
        conditions={
            "all": [
                {"field": "hours_since_activity", "operator": "greater_than", "value": 24},
                {"field": "status", "operator": "in", "value": ["resolved", "on_hold"]},
            ]
        },
        actions=(
            {"type": "close", "for_inactivity": True},
            {"type": "send_notification", "target": "requester", "message": MESSAGE},
        ),
        text={
            Locale.EN: RuleText(
                "No activity for 24 h: close",
                "A ticket waiting on its requester (resolved or on hold) with no activity for "
                "24 hours is closed for inactivity, and the requester told. Tickets waiting on "
                "the helpdesk are never closed this way.",
                "Your ticket was closed for inactivity",
            ),
            Locale.ES: RuleText(
                "Sin actividad en 24 h: cerrar",
                "Un ticket que espera a su solicitante (resuelto o en espera) sin actividad "
                "durante 24 horas se cierra por inactividad y se avisa al solicitante. Los "
                "tickets que esperan al equipo de soporte nunca se cierran así.",
                "Su ticket se ha cerrado por inactividad",
            ),
        },
    ),
)


async def first_agent_of(session: AsyncSession, department_id: UUID) -> UUID | None:
    """The department's senior agent for the VIP rule: its longest-standing agent."""
    statement = (
        select(User.id)
        .where(
            User.department_id == department_id,
            User.role == Role.AGENT,
            User.deleted_at.is_(None),
        )
        .order_by(User.created_at, User.id)
        .limit(1)
    )
    return await session.scalar(statement)


async def store_rule(
    session: AsyncSession,
    seed: RuleSeed,
    locale: Locale,
    created_by: UUID,
    senior_agent_id: UUID | None,
) -> bool:
    """Store the rule unless one of its names (in any language) is taken; whether it was."""
    for name in seed.names():
        if await rules_repo.get_by_name(session, name) is not None:
            return False
    rule = seed.rule(locale, senior_agent_id)
    await rules_repo.create(session, RuleFields.of(rule), created_by)
    return True
