"""The conformance kit runs offline: a check that tries the network fails at once, by name.

A check must hold on an air-gapped machine and in CI; a check that downloads would pass on the
author's laptop and hang elsewhere. Inside ``offline()`` huggingface_hub is in offline mode
(``HF_HUB_OFFLINE=1``, read from the cache only) and any other attempt to resolve a host name or
open a connection raises ``NetworkUsedError`` naming the address.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import AezooError


class NetworkUsedError(AezooError, AssertionError):
    """A conformance check tried to reach the network."""


def _refuse(what: str) -> NetworkUsedError:
    return NetworkUsedError(
        f"A conformance check tried to reach the network ({what}); the kit runs offline.",
        "Load weights from a local folder or mirror (AEZOO_MIRRORS), and keep downloads out of the model's code.",
    )


def _connect(self: socket.socket, address: Any) -> None:
    if self.family == getattr(socket, "AF_UNIX", None):
        return _REAL_CONNECT(self, address)
    raise _refuse(f"connect to {address!r}")


def _connect_ex(self: socket.socket, address: Any) -> int:
    if self.family == getattr(socket, "AF_UNIX", None):
        return _REAL_CONNECT_EX(self, address)
    raise _refuse(f"connect to {address!r}")


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    raise _refuse(f"look up {host}:{port}")


_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex


@contextmanager
def offline() -> Iterator[None]:
    """Run a block with huggingface_hub offline and every network connection refused; restores
    everything afterwards. Nested use is fine."""
    from huggingface_hub import constants

    saved_env = os.environ.get("HF_HUB_OFFLINE")
    saved = (constants.HF_HUB_OFFLINE, socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True
    socket.socket.connect, socket.socket.connect_ex = _connect, _connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _getaddrinfo
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved  # type: ignore[method-assign]
        if saved_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved_env
