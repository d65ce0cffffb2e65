"""Response templates: canned replies with `{{ ticket.number }}`-style placeholders.

A template is user-written code, so it is held to a small, checked subset of Jinja before it
is ever compiled: text, placeholders from `PLACEHOLDERS`, `{% if %}`, comparisons, `~`
concatenation and a few harmless filters. No loops, calls, subscripts, arithmetic, variables
or includes, so a template cannot spin, allocate without bound or reach past plain data; the
`SandboxedEnvironment` and `StrictUndefined` stay underneath as a second fence. Values are
plain dicts of text built from the ticket, never live objects.

A rendered text whose first line is `Subject: …` (or `Asunto: …`) gets that line split off
as the subject, so one template can serve both a reply and an e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.environment import Template
from jinja2.sandbox import SandboxedEnvironment

from domain.enums import Locale, TicketStatus
from domain.errors import InvalidInput
from domain.views import TicketView

MAX_TEMPLATE_BYTES: Final = 20 * 1024
# A rendered reply becomes a comment, whose body is capped at this length.
MAX_OUTPUT_CHARS: Final = 65_536


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    description: str
    example: str


PLACEHOLDERS: Final[Mapping[str, Placeholder]] = {
    p.name: p
    for p in (
        Placeholder("ticket.number", "the ticket's number", "42"),
        Placeholder("ticket.title", "the ticket's title", "Printer on fire"),
        Placeholder("ticket.status", "status code: new, in_progress, on_hold, …", "in_progress"),
        Placeholder("ticket.status_label", "the status in the template's language", "In progress"),
        Placeholder("ticket.priority", "P1 (highest) to P4", "P2"),
        Placeholder("ticket.category", "the ticket's category", "hardware"),
        Placeholder("ticket.created_at", "when it was opened (UTC)", "2025-03-01 09:30 UTC"),
        Placeholder(
            "ticket.url", "link to the ticket", "https://help.example.com/api/v1/tickets/42"
        ),
        Placeholder(
            "ticket.survey_url",
            "where the requester rates the help (1–10)",
            "https://help.example.com/api/v1/tickets/42/rate",
        ),
        Placeholder("requester.name", "who opened the ticket", "Ana García"),
        Placeholder("requester.email", "their e-mail address", "ana@example.com"),
        Placeholder("agent.name", "the assigned agent (empty if none)", "Luis Pérez"),
        Placeholder("agent.email", "the agent's e-mail (empty if none)", "luis@example.com"),
        Placeholder("department.name", "the ticket's department", "IT Support"),
    )
}
AVAILABLE_VARIABLES: Final = sorted(PLACEHOLDERS)
NAMESPACES: Final = frozenset(name.partition(".")[0] for name in PLACEHOLDERS)

Values = Mapping[str, Mapping[str, str]]

STATUS_LABELS: Final[Mapping[Locale, Mapping[TicketStatus, str]]] = {
    Locale.EN: {
        TicketStatus.NEW: "New",
        TicketStatus.IN_PROGRESS: "In progress",
        TicketStatus.ON_HOLD: "On hold",
        TicketStatus.RESOLVED: "Resolved",
        TicketStatus.CLOSED: "Closed",
        TicketStatus.REOPENED: "Reopened",
    },
    Locale.ES: {
        TicketStatus.NEW: "Nuevo",
        TicketStatus.IN_PROGRESS: "En curso",
        TicketStatus.ON_HOLD: "En espera",
        TicketStatus.RESOLVED: "Resuelto",
        TicketStatus.CLOSED: "Cerrado",
        TicketStatus.REOPENED: "Reabierto",
    },
}

# Filters that only reshape or shorten text: none can be made to grow it without bound.
ALLOWED_FILTERS: Final = frozenset(
    {"default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate"}
)
ALLOWED_TESTS: Final = frozenset({"defined", "undefined", "none", "string", "number"})

_PLAIN_NODES: Final = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.Keyword,
)
_FORBIDDEN_KINDS: Final[Mapping[type[nodes.Node], str]] = {
    nodes.For: "loops",
    nodes.Call: "calling functions or methods",
    nodes.Assign: "setting variables",
    nodes.AssignBlock: "setting variables",
    nodes.With: "setting variables",
    nodes.Macro: "macros",
    nodes.CallBlock: "macros",
    nodes.Include: "including other templates",
    nodes.Import: "including other templates",
    nodes.FromImport: "including other templates",
    nodes.Extends: "including other templates",
    nodes.Block: "blocks",
    nodes.Getitem: "subscripts ([...])",
    nodes.Slice: "subscripts ([...])",
    nodes.BinExpr: "arithmetic",
    nodes.UnaryExpr: "arithmetic",
}

_SUBJECT_LINE = re.compile(r"\A[ \t]*(?:subject|asunto)[ \t]*:[ \t]*([^\n]*)(?:\n|\Z)", re.I)


class TemplateError(InvalidInput):
    """A template that cannot be saved or rendered; `line` is 1-based where known."""

    code = "invalid_template"

    def __init__(self, detail: str, line: int | None = None) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(detail + where)
        self.line = line


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class TicketLinks:
    url: str
    survey_url: str


def _blank_none(value: object) -> object:
    return "" if value is None else value


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        autoescape=False,  # plain text: a reply shows `<` as typed
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_blank_none,
    )
    env.globals.clear()  # no range, dict, lipsum, cycler, namespace…
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    return env


_ENV: Final = _environment()


# -- checking ------------------------------------------------------------------------------------


def _dotted(node: nodes.Getattr) -> str | None:
    """`a.b.c` for a chain of attributes on a name; None if rooted in anything else."""
    parts = [node.attr]
    target = node.node
    while isinstance(target, nodes.Getattr):
        parts.append(target.attr)
        target = target.node
    if not isinstance(target, nodes.Name):
        return None
    parts.append(target.name)
    return ".".join(reversed(parts))


def _placeholder(node: nodes.Getattr) -> str:
    name = _dotted(node)
    if name is None:
        raise TemplateError("attributes can only be read from placeholders", node.lineno)
    if name not in PLACEHOLDERS:
        raise TemplateError(f"unknown placeholder {name}", node.lineno)
    return name


def _all_const(values: Iterable[nodes.Node]) -> bool:
    return all(
        isinstance(v.value if isinstance(v, nodes.Keyword) else v, nodes.Const) for v in values
    )


def _check_call_like(node: nodes.Filter | nodes.Test, allowed: frozenset[str]) -> None:
    kind = "filter" if isinstance(node, nodes.Filter) else "test"
    if node.name not in allowed:
        names = ", ".join(sorted(allowed))
        raise TemplateError(f"the {kind} {node.name!r} is not allowed; use {names}", node.lineno)
    if node.dyn_args or node.dyn_kwargs or not _all_const([*node.args, *node.kwargs]):
        raise TemplateError(f"the {kind} {node.name!r} takes literal arguments only", node.lineno)


def _check_node(node: nodes.Node) -> None:
    if isinstance(node, nodes.Name):
        if node.name in NAMESPACES:
            fields = ", ".join(p for p in AVAILABLE_VARIABLES if p.startswith(f"{node.name}."))
            raise TemplateError(
                f"{node.name} alone is not a placeholder; use {fields}", node.lineno
            )
        raise TemplateError(f"unknown placeholder {node.name}", node.lineno)
    if isinstance(node, nodes.Filter):
        _check_call_like(node, ALLOWED_FILTERS)
    elif isinstance(node, nodes.Test):
        _check_call_like(node, ALLOWED_TESTS)
    elif not isinstance(node, _PLAIN_NODES):
        kind = next(
            (text for cls, text in _FORBIDDEN_KINDS.items() if isinstance(node, cls)),
            f"{type(node).__name__} expressions",
        )
        raise TemplateError(f"{kind} cannot be used in a response template", node.lineno)


def _walk(tree: nodes.Template) -> set[str]:
    """The placeholders `tree` uses; `TemplateError` at the first construct outside the subset."""
    used: set[str] = set()
    pending: list[nodes.Node] = [tree]
    while pending:  # a loop, not recursion: nesting is bounded only by the body's size
        node = pending.pop()
        if isinstance(node, nodes.Getattr):
            used.add(_placeholder(node))
            continue
        _check_node(node)
        pending.extend(node.iter_child_nodes())
    return used


def _parse(source: str) -> nodes.Template:
    if len(source.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"a template may be at most {MAX_TEMPLATE_BYTES // 1024} KB")
    try:
        return _ENV.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateError(f"syntax error: {error.message}", error.lineno) from error
    except (RecursionError, ValueError) as error:  # absurd nesting, a 5,000-digit number
        raise TemplateError(f"the template cannot be read: {error}") from error


# Agents render the same few templates over and over; parsing and compiling is the dear part.
@lru_cache(maxsize=256)
def _compile(source: str) -> tuple[Template, tuple[str, ...]]:
    tree = _parse(source)
    used = _walk(tree)  # before anything compiles it: compiling folds constants like 9**9**9
    unknown = meta.find_undeclared_variables(tree) - NAMESPACES
    if unknown:
        raise TemplateError(f"unknown placeholder {', '.join(sorted(unknown))}")
    try:
        template = _ENV.from_string(tree)
    except (JinjaTemplateError, RecursionError) as error:
        raise TemplateError(f"the template cannot be compiled: {error}") from error
    return template, tuple(sorted(used))


def _bounded(chunks: Iterator[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateError(f"the rendered text is longer than {MAX_OUTPUT_CHARS} characters")
        out.append(chunk)
    return "".join(out)


def _run(template: Template, values: Values) -> str:
    try:
        return _bounded(template.generate({k: dict(v) for k, v in values.items()}))
    except TemplateError:
        raise
    # The template is the user's code: whatever it trips over (a filter given a wrong
    # argument, a sandbox refusal) is a fault of the template, not of the server.
    except Exception as error:
        raise TemplateError(f"the template cannot be rendered: {error}", _line_of(error)) from error


def _line_of(error: BaseException) -> int | None:
    """The template line an error was raised on (Jinja maps its frames back to the source)."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def split_subject(text: str) -> Rendered:
    """A leading `Subject: …` / `Asunto: …` line becomes the subject; the rest is the body."""
    match = _SUBJECT_LINE.match(text)
    if match is None:
        return Rendered(subject=None, body=text)
    body = text[match.end() :].lstrip("\n")
    return Rendered(subject=match.group(1).strip() or None, body=body)


def sample_values() -> dict[str, dict[str, str]]:
    """Every placeholder set to its example: what a template is tried on before it is saved."""
    values: dict[str, dict[str, str]] = {namespace: {} for namespace in NAMESPACES}
    for name, placeholder in PLACEHOLDERS.items():
        namespace, _, field = name.partition(".")
        values[namespace][field] = placeholder.example
    return values


def check_template(source: str) -> list[str]:
    """The placeholders `source` uses, sorted; `TemplateError` if it may not be saved.

    It is also rendered once with the example values, so a template that would fail on
    every ticket is refused now rather than when an agent needs it.
    """
    template, used = _compile(source)
    _run(template, sample_values())
    return list(used)


def render_template(source: str, values: Values) -> Rendered:
    """`source` filled in with `values` (see `placeholder_values`)."""
    template, _ = _compile(source)
    return split_subject(_run(template, values))


# -- values --------------------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _contact(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return {"name": "", "email": ""}
    return {"name": contact.name, "email": contact.email}


def placeholder_values(
    ticket: TicketView,
    *,
    locale: Locale,
    links: TicketLinks,
    requester: Contact | None,
    agent: Contact | None,
    department: str | None,
) -> dict[str, dict[str, str]]:
    """The plain data a template sees for `ticket`, in `locale` (text only, no live objects)."""
    return {
        "ticket": {
            "number": str(ticket.number),
            "title": " ".join(ticket.title.split()),  # one line, so it can sit in a subject
            "status": ticket.status.value,
            "status_label": STATUS_LABELS[locale][ticket.status],
            "priority": ticket.priority.value,
            "category": ticket.category,
            "created_at": _utc(ticket.created_at),
            "url": links.url,
            "survey_url": links.survey_url,
        },
        "requester": _contact(requester),
        "agent": _contact(agent),
        "department": {"name": department or ""},
    }
