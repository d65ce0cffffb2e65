"""A Temporal frontend behind TLS, for tests: certificates made here, and a terminating proxy.

The dev server (`temporal server start-dev`) speaks plaintext gRPC only, and CLI 1.9.1 has no
flag (nor variable) to turn TLS on. So a TLS-terminating TCP proxy stands in front of it, the
way a load balancer would stand in front of a cluster: it offers ALPN `h2`, can require a
client certificate signed by the test CA (mTLS), and forwards the decrypted HTTP/2 stream to
the dev server unchanged. It also reads the request headers out of that stream (HPACK), so a
test can see what metadata a client sent (an API key's `authorization`).

    pki = Certificates.create(tmp_path)
    async with TlsProxy(pki, upstream="127.0.0.1:7233", require_client_cert=True) as proxy:
        ...  # connect to proxy.address with pki.ca_path, pki.client_cert_path, pki.client_key_path
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from types import TracebackType
from typing import Self

import hpack
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADERS, _CONTINUATION = 0x1, 0x9
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20
_CHUNK = 64 * 1024
# Enough to see the headers of the first calls; the rest is only forwarded.
_RECORD_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Certificates:
    """A CA, a server certificate for 127.0.0.1 / localhost, a client certificate: PEM files."""

    ca_path: Path
    server_cert_path: Path
    server_key_path: Path
    client_cert_path: Path
    client_key_path: Path

    @classmethod
    def create(cls, directory: Path) -> Certificates:
        directory.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("ticketflow test CA")
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        paths = {"ca_path": _write_cert(directory / "ca.pem", ca)}
        for role, usage, names in (
            ("server", ExtendedKeyUsageOID.SERVER_AUTH, _server_names()),
            ("client", ExtendedKeyUsageOID.CLIENT_AUTH, None),
        ):
            key = ec.generate_private_key(ec.SECP256R1())
            builder = _builder(_name(f"ticketflow test {role}"), ca_name, key.public_key())
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            if names is not None:
                builder = builder.add_extension(names, critical=False)
            cert = builder.sign(ca_key, hashes.SHA256())
            paths[f"{role}_cert_path"] = _write_cert(directory / f"{role}.pem", cert)
            paths[f"{role}_key_path"] = _write_key(directory / f"{role}-key.pem", key)
        return cls(**paths)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _server_names() -> x509.SubjectAlternativeName:
    return x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


class TlsProxy:
    """Terminates TLS on 127.0.0.1:<free port> and forwards to `upstream` (host:port)."""

    def __init__(
        self, pki: Certificates, upstream: str, *, require_client_cert: bool = False
    ) -> None:
        self.pki = pki
        self.upstream_host, _, port = upstream.rpartition(":")
        self.upstream_port = int(port)
        self.require_client_cert = require_client_cert
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: list[bytearray] = []
        self.connections = 0

    @property
    def address(self) -> str:
        """Where clients connect, as TEMPORAL_ADDRESS spells it."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def request_headers(self) -> list[tuple[str, str]]:
        """Every request header the clients sent so far, decoded from their HTTP/2 streams."""
        headers: list[tuple[str, str]] = []
        for stream in self._streams:
            headers += _headers_in(bytes(stream))
        return headers

    def _context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki.server_cert_path, self.pki.server_key_path)
        context.set_alpn_protocols(["h2"])
        if self.require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.pki.ca_path)
        return context

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        recorded = bytearray()
        self._streams.append(recorded)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer, recorded), _pipe(up_reader, writer, None))
        finally:
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, recorded: bytearray | None
) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while chunk := await reader.read(_CHUNK):
            if recorded is not None and len(recorded) < _RECORD_LIMIT:
                recorded += chunk
            writer.write(chunk)
            await writer.drain()
    with contextlib.suppress(OSError, RuntimeError):
        writer.write_eof()


def _headers_in(stream: bytes) -> list[tuple[str, str]]:
    """The request headers in a client's HTTP/2 byte stream (complete frames only)."""
    if not stream.startswith(_PREFACE):
        return []
    decoder = hpack.Decoder()
    headers: list[tuple[str, str]] = []
    block = b""
    at = len(_PREFACE)
    while at + 9 <= len(stream):
        length = int.from_bytes(stream[at : at + 3], "big")
        kind, flags = stream[at + 3], stream[at + 4]
        payload = stream[at + 9 : at + 9 + length]
        if len(payload) < length:
            break
        at += 9 + length
        if kind == _HEADERS:
            block = _header_fragment(payload, flags)
        elif kind == _CONTINUATION:
            block += payload
        else:
            continue
        if flags & _END_HEADERS:
            headers += [(str(name), str(value)) for name, value in decoder.decode(block)]
            block = b""
    return headers


def _header_fragment(payload: bytes, flags: int) -> bytes:
    start, end = 0, len(payload)
    if flags & _PADDED:
        start, end = 1, len(payload) - payload[0]
    if flags & _PRIORITY:
        start += 5
    return payload[start:end]
