"""An e-mail as SendGrid Inbound Parse posts it, read into what a ticket needs.

SendGrid sends `multipart/form-data`: `from`, `to`, `cc`, `subject`, `text`, `html`, `headers`
(the raw header block), `envelope` (JSON), the results of its sender checks (`SPF`, `dkim`),
and the files `attachment1..N` described by `attachment-info` (JSON). Threading uses the
Message-IDs ticketflow sends with (`<…ticket-123@{mail_domain}>`) and the `[#123]` tag in
subjects.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from typing import Any

from starlette.datastructures import FormData, UploadFile

from domain.errors import InvalidInput

MAX_TITLE = 500
MAX_BODY = 65_536
MAX_ATTACHMENTS = 20
# SendGrid's check results are a word (`SPF`) and a short list (`dkim`); more is not theirs.
MAX_CHECK_CHARS = 2048

_ATTACHMENT_FIELD = re.compile(r"^attachment(\d+)$")
_SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
# "On Mon, 2 Mar 2026 at 10:00, Support <support@…> wrote:" — mail clients wrap it onto a
# second line when it is long; Spanish clients write "El … escribió:".
_ATTRIBUTION = re.compile(r"^\s*(On|El)\s.*\s(wrote|escribió):\s*$", re.IGNORECASE | re.DOTALL)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Mensaje original)\s*-{2,}\s*$", re.IGNORECASE
)
_HTML_DROPPED = re.compile(
    r"<(style|script|head|blockquote)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_HTML_BREAK = re.compile(r"<br\s*/?>|</(p|div|li|tr|h\d)\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class SenderChecks:
    """What SendGrid's receiving server found out about who sent the e-mail.

    `spf` is the SPF result for the envelope sender's domain (`pass`, `softfail`, `fail`,
    `none`, …); `dkim` lists each DKIM signature's domain and result
    (`{@example.com : pass, @mailer.example : fail}`, or `none`); `envelope_from` is the SMTP
    `MAIL FROM` (the return path), lower-cased, None for a bounce. SendGrid leaves `SPF` and
    `dkim` out when its parse setting does not check: None here.
    """

    spf: str | None = None
    dkim: str | None = None
    envelope_from: str | None = None


@dataclass(frozen=True)
class InboundEmail:
    sender: str  # the From address, lower-cased
    sender_name: str
    recipients: tuple[str, ...]  # To, Cc and the envelope's recipients, lower-cased
    subject: str
    body: str  # the sender's own text: quoted lines and the "On … wrote:" line removed
    message_id: str | None  # as sent, angle brackets included
    references: tuple[str, ...]  # In-Reply-To first, then References newest first
    auto_submitted: bool
    attachments: tuple[MailFile, ...]
    fingerprint: str  # stands in for a missing Message-ID: the same e-mail, the same value
    checks: SenderChecks = SenderChecks()

    @property
    def key(self) -> str:
        """What identifies this e-mail across SendGrid's redeliveries."""
        return self.message_id or f"sha256:{self.fingerprint}"

    def thread_numbers(self, mail_domain: str) -> list[int]:
        """Tickets this e-mail answers, most reliable first (our Message-IDs, then the tag)."""
        ours = re.compile(rf"ticket-(\d{{1,18}})@{re.escape(mail_domain)}>$", re.IGNORECASE)
        numbers = [int(m[1]) for ref in self.references if (m := ours.search(ref))]
        numbers += [int(m) for m in _SUBJECT_TAG.findall(self.subject)]
        return [n for n in dict.fromkeys(numbers) if n > 0]

    def title(self) -> str:
        first_line = next((line for line in self.body.splitlines() if line.strip()), "")
        return (self.subject or first_line[:80] or f"E-mail from {self.sender}")[:MAX_TITLE]


def _clean(value: str) -> str:
    # PostgreSQL text cannot hold U+0000.
    return value.replace("\x00", "")


def _decoded(value: str) -> str:
    """A header value with its RFC 2047 encoded words (`=?utf-8?q?…?=`) decoded."""
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeDecodeError, ValueError):
        return value


def _ids(value: object) -> list[str]:
    return [f"<{m}>" for m in _MESSAGE_ID.findall(str(value or ""))]


def _envelope(raw: str | None) -> tuple[list[str], str | None]:
    """The SMTP envelope's recipients and sender (None: a bounce, or no envelope given)."""
    if not raw:
        return [], None
    try:
        envelope = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput("`envelope` is not valid JSON") from error
    if not isinstance(envelope, dict):
        raise InvalidInput("`envelope` must be a JSON object")
    to = envelope.get("to") or []
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise InvalidInput("`envelope.to` must be a list of addresses")
    sender = envelope.get("from")
    if sender is not None and not isinstance(sender, str):
        raise InvalidInput("`envelope.from` must be an address")
    return to, (parseaddr(sender)[1].strip().lower() or None) if sender else None


def _check_field(fields: dict[str, str], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if len(value) > MAX_CHECK_CHARS:
        raise InvalidInput(f"`{name}` is longer than SendGrid ever sends")
    return value.strip()


def _attachment_info(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        info = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput("`attachment-info` is not valid JSON") from error
    if not isinstance(info, dict):
        raise InvalidInput("`attachment-info` must be a JSON object")
    return info


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body (quoted blocks dropped), for e-mails without a text part."""
    text = _HTML_DROPPED.sub("", markup)
    text = _HTML_BREAK.sub("\n", text)
    return html.unescape(_HTML_TAG.sub("", text))


def _attribution_span(lines: list[str], at: int) -> int:
    """How many lines from `at` make an "On … wrote:" line (0 if none does)."""
    for span in (1, 2):
        if at + span <= len(lines) and _ATTRIBUTION.match(" ".join(lines[at : at + span])):
            return span
    return 0


def own_text(text: str) -> str:
    """The sender's own words: quoted lines, the "On … wrote:" line and forwarded originals go."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if _ORIGINAL_MESSAGE.match(line):
            break
        span = _attribution_span(lines, at) if line.lstrip()[:3].lower() in ("on ", "el ") else 0
        if not span and not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
        at += span or 1
    return "\n".join(kept).strip()


def _addresses(*values: str) -> tuple[str, ...]:
    found = [addr.strip().lower() for _, addr in getaddresses(list(values)) if "@" in addr]
    return tuple(dict.fromkeys(found))


async def _files(form: FormData, info: dict[str, Any]) -> tuple[MailFile, ...]:
    files: list[MailFile] = []
    for name, value in form.multi_items():
        if not isinstance(value, UploadFile) or not _ATTACHMENT_FIELD.match(name):
            continue
        if len(files) == MAX_ATTACHMENTS:
            raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments are taken per e-mail")
        described = info.get(name)
        if not isinstance(described, dict):
            described = {}
        filename = value.filename or str(described.get("filename") or name)
        content_type = value.content_type or described.get("type")
        files.append(MailFile(filename, content_type, await value.read()))
    return tuple(files)


def _fingerprint(fields: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in ("from", "to", "subject", "text", "html", "headers"):
        digest.update(fields.get(name, "").encode("utf-8", "replace") + b"\x00")
    return digest.hexdigest()


def _text_fields(form: FormData) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in fields:
            fields[name] = _clean(value)
    return fields


def _is_auto_submitted(headers: Any) -> bool:
    """An auto-reply or bulk mail: answering it could start a mail loop."""
    auto = str(headers.get("Auto-Submitted") or "no").strip().lower()
    precedence = str(headers.get("Precedence") or "").strip().lower()
    return auto != "no" or precedence in ("bulk", "junk", "auto_reply")


async def read_sendgrid_form(form: FormData) -> InboundEmail:
    """The e-mail in a SendGrid Inbound Parse post; invalid input if it is not a usable one."""
    fields = _text_fields(form)
    name, sender = parseaddr(fields.get("from", ""))
    if "@" not in sender:
        raise InvalidInput("the e-mail has no sender address (`from`)")
    envelope_to, envelope_from = _envelope(fields.get("envelope"))
    info = _attachment_info(fields.get("attachment-info"))
    headers = HeaderParser(policy=compat32).parsestr(fields.get("headers", ""))
    subject = " ".join(_decoded(fields.get("subject", "")).split())
    body = own_text(fields.get("text") or html_to_text(fields.get("html", "")))
    if not subject and not body:
        raise InvalidInput("the e-mail has neither a subject nor any text of its own")
    message_ids = _ids(headers.get("Message-ID"))
    references = _ids(headers.get("In-Reply-To")) + _ids(headers.get("References"))[::-1]
    return InboundEmail(
        sender=sender.strip().lower(),
        sender_name=_decoded(name).strip(),
        recipients=_addresses(fields.get("to", ""), fields.get("cc", ""), *envelope_to),
        subject=subject,
        body=body[:MAX_BODY],
        message_id=message_ids[0] if message_ids else None,
        references=tuple(dict.fromkeys(references)),
        auto_submitted=_is_auto_submitted(headers),
        attachments=await _files(form, info),
        fingerprint=_fingerprint(fields),
        checks=SenderChecks(
            spf=_check_field(fields, "SPF"),
            dkim=_check_field(fields, "dkim"),
            envelope_from=envelope_from,
        ),
    )
