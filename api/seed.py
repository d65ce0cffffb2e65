"""Demo data for `ticketflow dev`: an admin, two departments with staff, SLA policies,
requesters and three real tickets (workflows). Running it again creates nothing new.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.schemas.tickets import TicketCreate
from api.security import hash_password, verify_password
from api.services import automation as automation_service
from api.services import knowledge_base as knowledge_base_service
from api.services import templates as templates_service
from api.services import tickets as tickets_service
from domain.enums import Impact, Priority, Role, Urgency
from domain.sla import MetricTargets
from persistence.models import User
from persistence.repositories import departments as departments_repo
from persistence.repositories import sla_policies as policies_repo
from persistence.repositories import tickets as tickets_repo
from persistence.repositories import users as users_repo
from persistence.repositories.sla_policies import PolicyFields
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

DEMO_DOMAIN = "ticketflow.local"


def _targets(*rows: tuple[Priority, str, str]) -> dict[Priority, MetricTargets]:
    return {
        priority: MetricTargets.model_validate({"first_response": first, "resolution": resolve})
        for priority, first, resolve in rows
    }


STANDARD = PolicyFields(
    name="Standard",
    position=100,
    targets=_targets(
        (Priority.P1, "PT15M", "PT4H"),
        (Priority.P2, "PT1H", "PT8H"),
        (Priority.P3, "PT4H", "P1D"),
        (Priority.P4, "P1D", "P3D"),
    ),
)
CRITICAL_FAST = PolicyFields(
    name="Critical fast",
    position=10,
    conditions={"priority": ["P1"], "requester_role": ["vip_user"]},
    targets=_targets((Priority.P1, "PT5M", "PT2H")),
    # A missed VIP target tells the assignee and the manager at once; half an hour later the
    # manager takes the ticket and the admins hear of it.
    escalation=[
        {"after": "PT0S", "notify": ["assignee", "manager"]},
        {"after": "PT30M", "assign_to": "manager", "notify": ["admins"]},
    ],
)


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: Role
    department: str | None = None


DEPARTMENTS = {
    "IT Support": "Laptops, accounts, network, printers",
    "Facilities": "Buildings, rooms, heating and cooling",
}
PEOPLE = (
    Person("it.manager", "Irene Torres", Role.AGENT, "IT Support"),
    Person("it.agent1", "Iván Ruiz", Role.AGENT, "IT Support"),
    Person("it.agent2", "Isla Grant", Role.AGENT, "IT Support"),
    Person("fac.manager", "Fabio Núñez", Role.AGENT, "Facilities"),
    Person("fac.agent1", "Fatima Khan", Role.AGENT, "Facilities"),
    Person("fac.agent2", "Felix Wagner", Role.AGENT, "Facilities"),
    Person("ana", "Ana Requester", Role.USER),
    Person("bruno", "Bruno VIP", Role.VIP_USER),
)
MANAGERS = {"IT Support": "it.manager", "Facilities": "fac.manager"}


@dataclass(frozen=True)
class DemoTicket:
    key: str
    requester: str
    department: str
    title: str
    description: str
    urgency: Urgency
    impact: Impact
    assignee: str | None = None


TICKETS = (
    DemoTicket(
        "demo-ticket-1",
        "ana",
        "IT Support",
        "Printer on fire",
        "The 3rd floor printer is smoking.",
        Urgency.HIGH,
        Impact.HIGH,
        "it.agent1",
    ),
    DemoTicket(
        "demo-ticket-2",
        "bruno",
        "IT Support",
        "VPN drops every few minutes",
        "Cannot stay connected to the VPN from home.",
        Urgency.CRITICAL,
        Impact.HIGH,
    ),
    DemoTicket(
        "demo-ticket-3",
        "ana",
        "Facilities",
        "Air conditioning broken in room 3B",
        "It is 30 °C in the meeting room.",
        Urgency.NORMAL,
        Impact.MEDIUM,
    ),
)


@dataclass
class DemoSeed:
    """What `ticketflow dev` shows: the admin login, and what this run created."""

    admin_email: str
    admin_password: str | None
    demo_password: str | None = None
    created: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        made = ", ".join(f"{n} {what}" for what, n in self.created.items() if n)
        return f"created {made}" if made else "demo data already present"


class _Seeder:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.created: dict[str, int] = {}
        self.password: str | None = None

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n

    async def admin(self) -> tuple[User, str | None]:
        email = self.settings.admin_email
        wanted = self.settings.admin_password
        given = wanted.get_secret_value() if wanted else None
        user = await users_repo.get_by_email(self.session, email)
        if user is not None:
            if given is not None and not await verify_password(given, user.password_hash):
                # The environment names the admin password: make it true again.
                await users_repo.set_password(self.session, user.id, await hash_password(given))
                log.info("admin password reset to TICKETFLOW_ADMIN_PASSWORD")
            return user, given
        password = given or secrets.token_urlsafe(12)
        user = await users_repo.create(
            self.session,
            email=email,
            password_hash=await hash_password(password),
            name="Administrator",
            role=Role.ADMIN,
        )
        self.count("admin")
        return user, password

    async def departments(self) -> dict[str, UUID]:
        ids = {}
        for name, description in DEPARTMENTS.items():
            found = await departments_repo.get_by_name(self.session, name)
            if found is None:
                found = await departments_repo.create(
                    self.session,
                    name=name,
                    description=description,
                    auto_close_after=timedelta(days=3),
                )
                self.count("departments")
            ids[name] = found.id
        return ids

    async def people(self, departments: dict[str, UUID], password: str) -> dict[str, User]:
        users = {}
        for person in PEOPLE:
            email = f"{person.key}@{DEMO_DOMAIN}"
            user = await users_repo.get_by_email(self.session, email)
            if user is None:
                user = await users_repo.create(
                    self.session,
                    email=email,
                    password_hash=await hash_password(password),
                    name=person.name,
                    role=person.role,
                    department_id=departments[person.department] if person.department else None,
                )
                self.count("users")
                self.password = password
            users[person.key] = user
        for department, key in MANAGERS.items():
            await departments_repo.update_department(
                self.session,
                departments[department],
                departments_repo.DepartmentChanges(manager_id=users[key].id),
            )
        return users

    async def policies(self) -> None:
        page = await policies_repo.list_policies(self.session, limit=200)
        names = {policy.name for policy in page.items}
        for policy in (STANDARD, CRITICAL_FAST):
            if policy.name not in names:
                await policies_repo.create(self.session, policy)
                self.count("SLA policies")


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings
) -> DemoSeed:
    """Make the demo helpdesk; idempotent (a second run creates nothing)."""
    async with session_factory() as session:
        seeder = _Seeder(session, settings)
        admin, admin_password = await seeder.admin()
        departments = await seeder.departments()
        demo_password = admin_password or secrets.token_urlsafe(12)
        people = await seeder.people(departments, demo_password)
        await seeder.policies()
        senior = await automation_service.first_agent_of(session, departments["IT Support"])
        seeder.count(
            "automation rules", await automation_service.seed_rules(session, admin.id, senior)
        )
        templates = await templates_service.seed_templates(session, admin.id)
        seeder.count("response templates", templates)
        articles = await knowledge_base_service.seed_articles(session, admin.id)
        seeder.count("knowledge-base articles", articles)
        await session.commit()
        await _tickets(session, temporal, settings, seeder, people, departments)
    seeded = DemoSeed(
        admin_email=admin.email,
        admin_password=admin_password,
        demo_password=seeder.password,
        created=seeder.created,
    )
    log.info("demo seed: %s", seeded.summary)
    return seeded


async def _tickets(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    seeder: _Seeder,
    people: dict[str, User],
    departments: dict[str, UUID],
) -> None:
    """The demo tickets, through the same service as `POST /tickets` (so real workflows)."""
    for demo in TICKETS:
        requester = people[demo.requester]
        # A ticket with an assignee is opened by that agent on the requester's behalf, as a
        # phone call would be; the Idempotency-Key is the opener's.
        opener = people[demo.assignee] if demo.assignee else requester
        if await tickets_repo.ticket_number_for_key(session, opener.id, demo.key) is not None:
            continue
        body: dict[str, Any] = {
            "title": demo.title,
            "description": demo.description,
            "department_id": departments[demo.department],
            "urgency": demo.urgency,
            "impact": demo.impact,
            "requester_id": requester.id,
            "assignee_id": opener.id if demo.assignee else None,
        }
        opened = await tickets_service.open_new_ticket(
            session, temporal, settings, opener, TicketCreate.model_validate(body), demo.key
        )
        if opened.created:
            seeder.count("tickets")
