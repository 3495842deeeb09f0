"""Applies to every test in the repository, the plugins' included: each runs offline, with its
own caches and a fresh plugin registry (see tests/isolation.py)."""

from tests.isolation import isolated  # noqa: F401 - an autouse fixture
