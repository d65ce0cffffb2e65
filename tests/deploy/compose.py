"""Reading docker-compose files the way Compose does, as far as the deployment tests need.

No Docker engine is needed: the files are YAML, merged file over file (maps key by key),
with `${VAR...}` interpolation resolved to each variable's default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "docker-compose.yml"
MINIO = REPO / "docker-compose.minio.yml"
ENV_EXAMPLE = REPO / ".env.example"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; `$$` escapes.
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# A placeholder for a variable that has no default (a required secret, say).
REQUIRED = "set-in-env"

Service = dict[str, Any]


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict), f"{path.name} is not a mapping"
    return loaded


def merged(*paths: Path) -> dict[str, Any]:
    """The files merged as `docker compose -f a -f b` does for maps (lists are concatenated)."""
    result: dict[str, Any] = {}
    for path in paths:
        result = _merge(result, load(path))
    return result


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(over, list):
        return [*base, *over]
    return over


def services(compose: Mapping[str, Any]) -> dict[str, Service]:
    found = compose.get("services")
    assert isinstance(found, dict)
    return found


def strings(node: Any) -> Iterator[str]:
    """Every string in a YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def interpolated_names(path: Path) -> set[str]:
    """The variables a compose file interpolates (`${VAR...}`), from its text."""
    text = path.read_text().replace("$$", "")
    return {match["name"] for match in _VARIABLE.finditer(text)}


def resolve(value: str) -> str:
    """`value` with each `${VAR...}` replaced by its default (REQUIRED when it has none)."""

    def default(match: re.Match[str]) -> str:
        if match["op"] in (":-", "-"):
            return resolve(match["arg"])
        return REQUIRED

    return _VARIABLE.sub(default, value.replace("$$", "$"))


def environment(service: Service) -> dict[str, str | None]:
    """A service's environment as a map; None for a variable passed on from .env."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) == 2 else None for pair in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def env_example_names(path: Path = ENV_EXAMPLE) -> list[str]:
    """The variables .env.example lists, set (`NAME=`) or commented out (`# NAME=`)."""
    pattern = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=")
    return [m[1] for line in path.read_text().splitlines() if (m := pattern.match(line))]


def env_example_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The lines of .env.example that are on (not commented out), name → value."""
    pattern = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
    return {m[1]: m[2] for line in path.read_text().splitlines() if (m := pattern.match(line))}
