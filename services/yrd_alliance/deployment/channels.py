"""Client channels to the services: TLS, the server verified against the deployment's CA; or
plaintext, for a service started with the development flag only."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import grpc


@dataclass(frozen=True)
class GrpcTarget:
    address: str  # host:port
    ca_file: Path | None = None  # None: plaintext (development only)

    @cached_property
    def credentials(self) -> grpc.ChannelCredentials | None:
        if self.ca_file is None:
            return None
        return grpc.ssl_channel_credentials(root_certificates=self.ca_file.read_bytes())

    def channel(self) -> grpc.Channel:
        if self.credentials is None:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, self.credentials)

    def aio_channel(self) -> grpc.aio.Channel:
        if self.credentials is None:
            return grpc.aio.insecure_channel(self.address)
        return grpc.aio.secure_channel(self.address, self.credentials)
