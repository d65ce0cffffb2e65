"""Whether an inbound e-mail's `From:` is vouched for by its own domain (DMARC-style alignment).

Anyone can write any address in `From:`. What they cannot fake is what SendGrid's receiving
server checked: a DKIM signature that verified for a domain (only that domain's DNS holds
the key), or an SPF pass for the envelope sender's domain (only that domain's DNS lists
the servers allowed to send for it). An e-mail is **aligned** when either vouches for the
`From:` domain, as DMARC decides it:

- a DKIM signature that passed, for the `From:` domain or a parent or child of it
  (`example.com` for `help.example.com`, or the other way round); or
- SPF `pass` for the envelope sender (`MAIL FROM`), whose domain is the `From:` domain or a
  parent or child of it.

A parent must have at least two labels, so no signature for a bare top-level domain counts.
Only aligned mail may act as its sender (reply, reopen, open tickets in their name);
`api.services.inbound.held` keeps the rest for an admin to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.services.inbound.mail import InboundEmail, SenderChecks

MAX_SIGNATURES = 20
# One `dkim` entry as SendGrid writes it: `@example.com : pass` (the `@` is usually there).
_DKIM_ENTRY = re.compile(r"^\s*@?(?P<domain>[^\s:@{}]+)\s*:\s*(?P<result>[A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Signature:
    domain: str
    result: str  # `pass`, `fail`, `neutral`, `temperror`, …, lower-case


@dataclass(frozen=True)
class Verdict:
    """Whether the sender's domain vouches for the e-mail, and what decided it."""

    aligned: bool
    reason: str


def _domain(value: str) -> str:
    return value.strip().strip(".").lower()


def domain_of(address: str | None) -> str | None:
    """The domain of an e-mail address, lower-case; None when there is none."""
    if not address or "@" not in address:
        return None
    return _domain(address.rpartition("@")[2]) or None


def dkim_signatures(raw: str | None) -> list[Signature]:
    """SendGrid's `dkim` field as signatures: `{@a.com : pass, @b.org : fail}`.

    `none`, an empty value or an unreadable entry yields nothing for it: only a readable
    `pass` can vouch for anyone.
    """
    if not raw:
        return []
    inner = raw.strip().removeprefix("{").removesuffix("}")
    found = []
    for entry in inner.split(",")[:MAX_SIGNATURES]:
        match = _DKIM_ENTRY.match(entry.replace('"', "").replace("'", ""))
        if match:
            found.append(Signature(_domain(match["domain"]), match["result"].lower()))
    return found


def spf_result(raw: str | None) -> str:
    """SendGrid's `SPF` field as one lower-case word (`pass`, `softfail`, …); `none` if absent."""
    words = (raw or "").split()
    return words[0].lower() if words else "none"


def aligned(one: str, other: str) -> bool:
    """Relaxed alignment: the same domain, or one a parent of the other below the top level."""
    one, other = _domain(one), _domain(other)
    if not one or not other:
        return False
    if one == other:
        return True
    parent, child = sorted((one, other), key=len)
    return "." in parent and child.endswith("." + parent)


def judge(mail: InboundEmail) -> Verdict:
    """Whether `mail`'s `From:` domain vouches for it, by DKIM or by SPF."""
    sender_domain = domain_of(mail.sender)
    checks = mail.checks
    if sender_domain is None:
        return Verdict(False, "the From address has no domain")
    for signature in dkim_signatures(checks.dkim):
        if signature.result == "pass" and aligned(signature.domain, sender_domain):
            return Verdict(True, f"DKIM signature of {signature.domain} verified")
    envelope_domain = domain_of(checks.envelope_from)
    spf = spf_result(checks.spf)
    if spf == "pass" and envelope_domain and aligned(envelope_domain, sender_domain):
        return Verdict(True, f"SPF pass for the envelope sender's domain {envelope_domain}")
    return Verdict(False, _why_not(sender_domain, checks))


def _why_not(sender_domain: str, checks: SenderChecks) -> str:
    if checks.spf is None and checks.dkim is None:
        return (
            f"nothing vouches for {sender_domain}: SendGrid reported no SPF or DKIM result "
            "(are the parse setting's checks on?)"
        )
    signatures = dkim_signatures(checks.dkim)
    dkim = ", ".join(f"{s.domain} {s.result}" for s in signatures) or "no signature"
    envelope = domain_of(checks.envelope_from) or "no envelope sender"
    return (
        f"nothing vouches for {sender_domain}: DKIM {dkim}; "
        f"SPF {spf_result(checks.spf)} for {envelope}"
    )


__all__ = ["Signature", "Verdict", "aligned", "dkim_signatures", "domain_of", "judge"]
