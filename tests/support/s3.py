"""A real S3-compatible server for tests: moto's, in this process, on a free port of 127.0.0.1.

boto3 is pointed at it the way an operator would point it at MinIO: through the standard
AWS variables (`aws_environment`), which the code under test reads like any other deployment.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

from moto.server import ThreadedMotoServer

from api.services.file_store.s3 import s3_client


@contextmanager
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the block."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_environment(endpoint: str, home: Path) -> dict[str, str]:
    """The AWS variables that send boto3 to `endpoint`, with no config file of the machine's."""
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "ticketflow-tests",
        "AWS_SECRET_ACCESS_KEY": "ticketflow-tests-secret",
        "AWS_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
    }


def unreachable_endpoint() -> str:
    """An endpoint URL on a port of 127.0.0.1 that nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def new_bucket() -> str:
    """A bucket of the caller's own on the server the environment names."""
    name = f"tf-{uuid4().hex[:16]}"
    s3_client().create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return name


def objects_in(bucket: str) -> dict[str, bytes]:
    """Every object of `bucket`, key → bytes."""
    client = s3_client()
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listed
    }


def unfinished_uploads(bucket: str) -> list[str]:
    """The keys of multipart uploads begun in `bucket` and neither completed nor aborted."""
    uploads = s3_client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [upload["Key"] for upload in uploads]
