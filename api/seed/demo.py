"""Demo data for `ticketflow dev`, on top of what `ticketflow init` makes: two departments
with staff, a VIP policy, requesters, articles and three real tickets (workflows).

Every step is recorded in the seed ledger, so running it again creates nothing new, and
what an admin deleted (a demo user, say) stays deleted.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.schemas.tickets import TicketCreate
from api.security import hash_password, verify_password
from api.seed.admins import create_admin
from api.seed.articles import DEFAULT_ARTICLES, store_article
from api.seed.bootstrap import FIRST_ADMIN, DeskNames, DeskSeeder, initialise_desk, seed_templates
from api.services import tickets as tickets_service
from domain.enums import Impact, Locale, Priority, Role, Urgency
from domain.sla import MetricTargets
from persistence.models import User
from persistence.repositories import departments as departments_repo
from persistence.repositories import seeded as seeded_repo
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
# The demo's IT Support is the desk's default department.
DEMO_NAMES = DeskNames("IT Support", DEPARTMENTS["IT Support"], "Standard")
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


async def _dev_admin(seeder: DeskSeeder, settings: Settings) -> tuple[User, str | None]:
    """The configured admin, made or made true again, whose password the banner can show.

    Unlike `ticketflow init`, a generated password here is the account's own (a development
    desk prints it at every start it knows it), and TICKETFLOW_ADMIN_PASSWORD always wins.
    """
    session = seeder.session
    wanted = settings.admin_password
    given = wanted.get_secret_value() if wanted else None
    user = await users_repo.get_by_email(session, settings.admin_email)
    if user is not None and user.role is Role.ADMIN:
        if given is not None and not await verify_password(given, user.password_hash):
            await users_repo.set_password(session, user.id, await hash_password(given))
            log.info("admin password reset to TICKETFLOW_ADMIN_PASSWORD")
        return user, given
    password = given or secrets.token_urlsafe(12)
    account = await create_admin(session, settings.admin_email, password=password)
    seeder.report.created["admin"] = seeder.report.created.get("admin", 0) + 1
    # The desk now has its first admin: `initialise_desk` must not make another.
    await seeded_repo.record(session, FIRST_ADMIN)
    return account.user, password


class _Demo:
    """The demo's own steps, each once per database (the seed ledger)."""

    def __init__(self, seeder: DeskSeeder) -> None:
        self.seeder = seeder
        self.session = seeder.session
        self.password: str | None = None

    async def departments(self) -> dict[str, UUID]:
        for name, description in DEPARTMENTS.items():
            await self.seeder.once(
                f"demo:department:{name}",
                "departments",
                partial(self._department, name, description),
            )
        found = {
            name: await departments_repo.get_by_name(self.session, name) for name in DEPARTMENTS
        }
        return {name: row.id for name, row in found.items() if row is not None}

    async def _department(self, name: str, description: str) -> bool:
        if await departments_repo.get_by_name(self.session, name) is not None:
            return False
        await departments_repo.create(
            self.session, name=name, description=description, auto_close_after=timedelta(days=3)
        )
        return True

    async def people(self, departments: dict[str, UUID], password: str) -> dict[str, User]:
        for person in PEOPLE:
            make = partial(self._person, person, departments, password)
            await self.seeder.once(f"demo:user:{person.key}", "users", make)
        users = {}
        for person in PEOPLE:
            user = await users_repo.get_by_email(self.session, f"{person.key}@{DEMO_DOMAIN}")
            if user is not None:  # an admin may have deleted a demo user
                users[person.key] = user
        for department, key in MANAGERS.items():
            if department in departments and key in users:
                make = partial(self._manager, departments[department], users[key].id)
                await self.seeder.once(f"demo:manager:{department}", "managers", make)
        return users

    async def _person(self, person: Person, departments: dict[str, UUID], password: str) -> bool:
        email = f"{person.key}@{DEMO_DOMAIN}"
        if await users_repo.find_any_by_email(self.session, email) is not None:
            return False
        await users_repo.create(
            self.session,
            email=email,
            password_hash=await hash_password(password),
            name=person.name,
            role=person.role,
            department_id=departments.get(person.department) if person.department else None,
        )
        self.password = password
        return True

    async def _manager(self, department_id: UUID, manager_id: UUID) -> bool:
        changes = departments_repo.DepartmentChanges(manager_id=manager_id)
        await departments_repo.update_department(self.session, department_id, changes)
        return False  # not a thing of its own: the banner counts departments and people

    async def policies(self) -> None:
        await self.seeder.once("demo:policy:critical_fast", "SLA policies", self._critical_fast)

    async def _critical_fast(self) -> bool:
        if await policies_repo.get_by_name(self.session, CRITICAL_FAST.name) is not None:
            return False
        await policies_repo.create(self.session, CRITICAL_FAST)
        return True

    async def content(self, author: UUID) -> None:
        """The Spanish templates too (init adds the desk's language), and the articles."""
        await seed_templates(self.seeder, author, Locale.ES)
        for index, article in enumerate(DEFAULT_ARTICLES, start=1):
            make = partial(store_article, self.session, article, author)
            await self.seeder.once(f"demo:article:{index}", "knowledge-base articles", make)


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings
) -> DemoSeed:
    """Make the demo helpdesk on top of `ticketflow init`'s; a second run makes nothing."""
    async with session_factory() as session:
        await seeded_repo.lock(session)
        seeder = DeskSeeder(session)
        admin, admin_password = await _dev_admin(seeder, settings)
        demo = _Demo(seeder)
        departments = await demo.departments()
        people = await demo.people(departments, admin_password or secrets.token_urlsafe(12))
        await initialise_desk(session, settings, Locale.EN, names=DEMO_NAMES, seeder=seeder)
        await demo.policies()
        await demo.content(admin.id)
        await session.commit()
        await _tickets(session, temporal, settings, seeder, people, departments)
    seeded = DemoSeed(
        admin_email=admin.email,
        admin_password=admin_password,
        demo_password=demo.password,
        created=seeder.report.created,
    )
    log.info("demo seed: %s", seeded.summary)
    return seeded


async def _tickets(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    seeder: DeskSeeder,
    people: dict[str, User],
    departments: dict[str, UUID],
) -> None:
    """The demo tickets, through the same service as `POST /tickets` (so real workflows)."""
    for demo in TICKETS:
        requester = people.get(demo.requester)
        # A ticket with an assignee is opened by that agent on the requester's behalf, as a
        # phone call would be; the Idempotency-Key is the opener's.
        opener = people.get(demo.assignee) if demo.assignee else requester
        if requester is None or opener is None or demo.department not in departments:
            continue  # an admin deleted who or where it was for
        make = partial(_ticket, session, temporal, settings, demo, requester, opener, departments)
        await seeder.once(f"demo:ticket:{demo.key}", "tickets", make)
        await session.commit()


async def _ticket(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    demo: DemoTicket,
    requester: User,
    opener: User,
    departments: dict[str, UUID],
) -> bool:
    if await tickets_repo.ticket_number_for_key(session, opener.id, demo.key) is not None:
        return False
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
    return opened.created
