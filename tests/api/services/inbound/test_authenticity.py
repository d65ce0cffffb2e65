"""Who an inbound e-mail's domain vouches for, from what SendGrid's checks reported."""

from __future__ import annotations

import pytest

from api.services.inbound.authenticity import Signature, aligned, dkim_signatures, judge
from api.services.inbound.mail import InboundEmail, SenderChecks


def mail(sender: str, spf: str | None, dkim: str | None, envelope: str | None) -> InboundEmail:
    return InboundEmail(
        sender=sender,
        sender_name="",
        recipients=(),
        subject="s",
        body="b",
        message_id=None,
        references=(),
        auto_submitted=False,
        attachments=(),
        fingerprint="f",
        checks=SenderChecks(spf=spf, dkim=dkim, envelope_from=envelope),
    )


@pytest.mark.parametrize(
    ("raw", "signatures"),
    [
        ("{@example.com : pass}", [Signature("example.com", "pass")]),
        (
            "{@Mailer.Example. : pass, @example.com : fail}",
            [Signature("mailer.example", "pass"), Signature("example.com", "fail")],
        ),
        ("{example.com : neutral}", [Signature("example.com", "neutral")]),
        ('{"@example.com": "pass"}', [Signature("example.com", "pass")]),
        ("none", []),
        ("{}", []),
        ("", []),
        (None, []),
        ("{@example.com pass}", []),
        ("{@a@b.com : pass}", []),
    ],
)
def test_sendgrids_dkim_field_is_read(raw: str | None, signatures: list[Signature]) -> None:
    assert dkim_signatures(raw) == signatures


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("example.com", "example.com", True),
        ("example.com", "EXAMPLE.COM.", True),
        ("mail.example.com", "example.com", True),
        ("example.com", "help.example.com", True),
        ("evil-example.com", "example.com", False),
        ("example.com.evil.org", "example.com", False),
        ("com", "example.com", False),  # a top-level domain vouches for nobody
        ("a.example.com", "b.example.com", False),
        ("", "example.com", False),
    ],
)
def test_alignment_is_the_domain_or_a_parent_or_child(one: str, other: str, expected: bool) -> None:
    assert aligned(one, other) is expected


@pytest.mark.parametrize(
    ("spf", "dkim", "envelope", "expected"),
    [
        ("fail", "{@example.com : pass}", None, True),
        ("pass", "none", "bounce@example.com", True),
        ("pass", "none", "bounce@mail.example.com", True),
        ("Pass (sender SPF authorized)", None, "x@example.com", True),
        ("pass", "{@attacker.example : pass}", "x@attacker.example", False),
        ("softfail", "{@example.com : fail}", "x@example.com", False),
        ("pass", "none", None, False),  # a bounce: SPF vouched for the HELO name only
        ("neutral", "none", "x@example.com", False),
        (None, None, "x@example.com", False),
    ],
)
def test_the_from_domain_must_be_vouched_for(
    spf: str | None, dkim: str | None, envelope: str | None, expected: bool
) -> None:
    verdict = judge(mail("ana@example.com", spf, dkim, envelope))
    assert verdict.aligned is expected
    assert verdict.reason


def test_the_reason_says_what_was_seen() -> None:
    verdict = judge(mail("ana@example.com", "fail", "{@attacker.example : pass}", "x@evil.test"))
    assert verdict.reason == (
        "nothing vouches for example.com: DKIM attacker.example pass; SPF fail for evil.test"
    )
    unchecked = judge(mail("ana@example.com", None, None, None))
    assert "no SPF or DKIM result" in unchecked.reason
