"""The one way every composition root (API, worker, dev stack, bench, tests) gets a client."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect_temporal(address: str, namespace: str = "default") -> Client:
    """A client on `address` that (de)serialises pydantic models, as workflows expect."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )
