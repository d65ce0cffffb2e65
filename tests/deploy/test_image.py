"""The Dockerfile and .dockerignore, checked without building: pinned base, unprivileged user,
no secrets, and every package of the project in the build context and in the image."""

from __future__ import annotations

import re
import tomllib

from tests.deploy.compose import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()
DOCKERIGNORE = (REPO / ".dockerignore").read_text().splitlines()


def _packages() -> set[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*") for pattern in include}


def test_the_base_image_is_pinned_to_a_python_release() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base, "the base image is named once, in ARG PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base[1]), base[1]
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert froms and all(image == "${PYTHON_IMAGE}" for image in froms)


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] == "10001:10001"
    assert "--uid 10001" in DOCKERFILE


def test_no_secret_is_baked_in() -> None:
    settings = re.findall(r"^(?:ENV|ARG)\s+(.*?)(?=^\S|\Z)", DOCKERFILE, re.MULTILINE | re.DOTALL)
    names = set(re.findall(r"([A-Z_]+)=", " ".join(settings)))
    assert not {n for n in names if re.search(r"SECRET|PASSWORD|KEY|TOKEN", n)}, names


def test_the_build_context_holds_only_what_the_image_needs() -> None:
    rules = [line for line in DOCKERIGNORE if line and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore starts by leaving everything out"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    needed = _packages() | {"pyproject.toml", "README.md", "temporal-config"}
    assert allowed == needed, "let in exactly the packages, pyproject.toml, README.md (its readme)"


def test_every_package_is_copied_into_the_image() -> None:
    copied = set(re.findall(r"^COPY (\S+) ", DOCKERFILE, re.MULTILINE))
    assert _packages() | {"temporal-config"} <= copied
