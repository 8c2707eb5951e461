"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import settings

from tests.support.scripted_server import Route, ScriptedServer

# Property tests without their own max_examples: bounded in `make test`, longer on demand
# (SMO_AUDIT_HYPOTHESIS=long, see SECURITY.md).
settings.register_profile("ci", max_examples=50, deadline=None)
settings.register_profile("long", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("SMO_AUDIT_HYPOTHESIS", "ci"))


@pytest.fixture
def scripted_server() -> Iterator[Callable[..., ScriptedServer]]:
    """Start real loopback HTTP servers from route dicts; all of them stop after the test.

        def test_x(scripted_server):
            server = scripted_server({"/": html("<p>hi</p>")})
            ... server.url("/") ...
    """
    servers: list[ScriptedServer] = []

    def start(routes: Mapping[str, Route] | None = None, **options: Any) -> ScriptedServer:
        server = ScriptedServer(routes, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
