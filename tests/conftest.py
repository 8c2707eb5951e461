"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import settings

from tests.support.properties import CI_EXAMPLES, LONG_EXAMPLES, PROFILE_ENV
from tests.support.scripted_server import Route, ScriptedServer

# Every property test runs the loaded profile's examples: bounded in `make test`, longer on
# demand (SMO_AUDIT_HYPOTHESIS=long, see SECURITY.md); a test that weighs more or less than the
# default says so with tests.support.properties.examples(n), never with a literal max_examples.
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=None)
settings.register_profile("long", max_examples=LONG_EXAMPLES, deadline=None)
settings.load_profile(os.environ.get(PROFILE_ENV, "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every hypothesis test `property`, so one command runs all of them (`-m property`)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


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
