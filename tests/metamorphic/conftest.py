from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.metamorphic.sites import Auditor


@pytest.fixture(scope="session")
def auditor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Auditor]:
    instance = Auditor(Path(tmp_path_factory.mktemp("metamorphic")))
    try:
        yield instance
    finally:
        instance.close()
