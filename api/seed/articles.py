"""The demo desk's knowledge-base articles: they answer its demo tickets."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import ArticleStatus
from persistence.repositories import knowledge_base as kb_repo
from persistence.repositories.knowledge_base import ArticleFields

# Printer, VPN, password: what the demo tickets ask about.
DEFAULT_ARTICLES = (
    ArticleFields(
        title="Printer smoking or overheating",
        content=(
            "1. Switch the printer off at the wall and keep people away from it.\n"
            "2. Do not open the fuser cover while it is hot.\n"
            "3. Open a ticket with the printer's asset tag; IT replaces the fuser unit."
        ),
        category="hardware",
        tags=["printer", "safety"],
        status=ArticleStatus.PUBLISHED,
    ),
    ArticleFields(
        title="VPN keeps disconnecting from home",
        content=(
            "- Update the VPN client to the latest version.\n"
            "- Prefer a wired connection, or move closer to the Wi-Fi router.\n"
            "- Turn off the router's SIP ALG option if your provider allows it.\n"
            "If the VPN still drops, open a ticket with the times it disconnected."
        ),
        category="network",
        tags=["vpn", "remote work"],
        status=ArticleStatus.PUBLISHED,
    ),
    ArticleFields(
        title="Restablecer tu contraseña",
        content=(
            "Abre la página de inicio de sesión y pulsa «¿Olvidaste tu contraseña?». "
            "Recibirás un enlace válido durante una hora."
        ),
        category="accounts",
        tags=["password", "contraseña"],
        status=ArticleStatus.PUBLISHED,
    ),
)


async def store_article(session: AsyncSession, article: ArticleFields, author_id: UUID) -> bool:
    """Store the article unless its title is taken; whether it was stored."""
    if await kb_repo.find_by_title(session, article.title) is not None:
        return False
    await kb_repo.create(session, article, author_id)
    return True
