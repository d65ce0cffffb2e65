"""What proves an account's addresses, in PostgreSQL: verified phones (one account each,
however written), SMS codes and their tries, and taking an unproven account back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Role
from persistence.models import PhoneCode
from persistence.repositories import phone_codes, users
from persistence.repositories.users import ProfileChanges
from tests.persistence.factories import add_user

LATER = datetime.now(UTC) + timedelta(hours=1)


async def test_a_verified_number_belongs_to_one_account_however_written(
    db_session: AsyncSession,
) -> None:
    first, second = await add_user(db_session, Role.USER), await add_user(db_session, Role.USER)
    await users.mark_phone_verified(db_session, first.id, "+34 600 11 22 33")
    # Typed into a profile, unverified, the same number is anybody's.
    await users.update_profile(db_session, second.id, ProfileChanges(phone="+34600112233"))
    with pytest.raises(IntegrityError):
        async with db_session.begin_nested():
            await users.mark_phone_verified(db_session, second.id, "+34-600-112233")

    found = await users.by_verified_phone(db_session, "34600112233")
    assert found is not None and found.id == first.id
    # Deleted, the account lets the number go.
    await users.soft_delete(db_session, first.id)
    assert await users.mark_phone_verified(db_session, second.id, "+34600112233") is not None


async def test_another_number_in_the_profile_is_no_longer_verified(
    db_session: AsyncSession,
) -> None:
    user = await add_user(db_session, Role.USER)
    await users.mark_phone_verified(db_session, user.id, "+34600112233")
    same = await users.update_profile(db_session, user.id, ProfileChanges(phone="+34 600 112 233"))
    assert same is not None and same.phone_verified_at is not None
    renamed = await users.update_profile(db_session, user.id, ProfileChanges(name="Only a name"))
    assert renamed is not None and renamed.phone_verified_at is not None
    other = await users.update_profile(db_session, user.id, ProfileChanges(phone="+34600999999"))
    assert other is not None and other.phone_verified_at is None
    await users.mark_phone_verified(db_session, user.id, "+34600999999")
    cleared = await users.update_profile(db_session, user.id, ProfileChanges(phone=None))
    assert cleared is not None and (cleared.phone, cleared.phone_verified_at) == (None, None)


async def test_only_the_latest_code_counts_and_only_for_its_tries(db_session: AsyncSession) -> None:
    user = await add_user(db_session, Role.USER)
    old = await phone_codes.issue(
        db_session, user_id=user.id, phone="+1555", code_hash="old", expires_at=LATER
    )
    new = await phone_codes.issue(
        db_session, user_id=user.id, phone="+1555", code_hash="new", expires_at=LATER
    )
    tries = [await phone_codes.take_attempt(db_session, user.id, max_attempts=3) for _ in range(4)]
    assert [t.id if t else None for t in tries] == [new.id, new.id, new.id, None]
    assert tries[2] is not None and tries[2].attempts == 3
    await db_session.refresh(old)
    assert old.used_at is not None

    again = await phone_codes.issue(
        db_session, user_id=user.id, phone="+1555", code_hash="again", expires_at=LATER
    )
    assert await phone_codes.use(db_session, again.id)
    assert not await phone_codes.use(db_session, again.id)
    assert await phone_codes.take_attempt(db_session, user.id, max_attempts=3) is None
    assert await phone_codes.count_for_user(db_session, user.id, LATER - timedelta(days=1)) == 3
    assert await phone_codes.count_for_number(db_session, "+1 555", LATER - timedelta(days=1)) >= 3


async def test_parallel_guesses_never_share_a_try(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as session:
        user_id = (await add_user(session, Role.USER)).id
        await phone_codes.issue(
            session, user_id=user_id, phone="+1555", code_hash="h", expires_at=LATER
        )

    async def guess() -> PhoneCode | None:
        async with session_factory.begin() as session:
            return await phone_codes.take_attempt(session, user_id, max_attempts=5)

    taken = await asyncio.gather(*(guess() for _ in range(12)))
    counted = sorted(t.attempts for t in taken if t is not None)
    assert counted == [1, 2, 3, 4, 5]


async def test_taking_an_account_back_voids_what_its_claimant_set_up(
    db_session: AsyncSession,
) -> None:
    user = await add_user(db_session, Role.USER)
    await users.update_profile(
        db_session,
        user.id,
        ProfileChanges(
            phone="+34600000001",
            slack_user_id="U0SQUATTER",
            push_tokens=["device"],
            notification_preferences={"sms": True},
        ),
    )
    await users.mark_phone_verified(db_session, user.id, "+34600000001")

    taken = await users.take_back(db_session, user.id, keep_phone=False)
    assert taken is not None
    assert (taken.password_hash, taken.password_change_required) == (None, True)
    assert (taken.phone, taken.phone_verified_at, taken.slack_user_id) == (None, None, None)
    assert (taken.push_tokens, taken.notification_preferences) == ([], {})

    texted = await add_user(db_session, Role.USER)
    await users.update_profile(db_session, texted.id, ProfileChanges(phone="+34600000002"))
    kept = await users.take_back(db_session, texted.id, keep_phone=True)
    assert kept is not None and kept.phone == "+34600000002"
    found = await users.passwordless_by_phone(db_session, "34600000002")
    assert found is not None and found.id == texted.id
