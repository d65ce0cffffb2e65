"""Typed access to what `create_app` keeps on `app.state`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from api.errors import EngineUnavailableError

if TYPE_CHECKING:
    from api.app import Resources
    from api.services.live import LiveNotifications


def resources_of(connection: HTTPConnection) -> Resources:
    resources: Resources | None = connection.app.state.resources
    if resources is None:
        raise EngineUnavailableError("the API is still starting")
    return resources


def live_of(connection: HTTPConnection) -> LiveNotifications:
    """The live-notification hub, running between the app's startup and shutdown."""
    live: LiveNotifications | None = connection.app.state.live
    if live is None:
        raise EngineUnavailableError("the API is still starting")
    return live
