"""Reading a saved report back (JSON, or NDJSON from --format ndjson) for `smo-audit report`
and `smo-audit compare`: anything else is refused with one sentence, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from smo_audit.errors import UsageError
from smo_audit.report.model import SCHEMA_VERSION, Report

SUPPORTED_MAJOR = SCHEMA_VERSION.split(".", 1)[0]
MAX_REPORT_BYTES = 2 * 1024 * 1024 * 1024


def _check_header(data: Any, path: Path) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("tool"), dict) or data["tool"].get("name") != "smo-audit":
        raise UsageError(f"{path} is not a smo-audit report (no \"tool\": {{\"name\": \"smo-audit\"}})")
    version = data.get("schema_version")
    if not isinstance(version, str):
        raise UsageError(f"{path} is not a valid smo-audit report (schema_version is {version!r}, "
                         f"not a version string such as \"{SCHEMA_VERSION}\")")
    if version.split(".", 1)[0] != SUPPORTED_MAJOR:
        raise UsageError(f"{path} has schema_version {version!r}, which this smo-audit cannot read "
                         f"(it reads {SUPPORTED_MAJOR}.x; its own is {SCHEMA_VERSION})")


def _known_fields_only(data: dict[str, Any]) -> dict[str, Any]:
    """A report of a newer minor version may carry fields this version does not know: drop them
    at the top level (minor versions only add fields), so it still renders."""
    known = set(Report.model_fields)
    return {key: value for key, value in data.items() if key in known}


def load_report(path: Path) -> Report:
    """The Report saved at `path`, or UsageError with one sentence saying why it cannot be read."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise UsageError(f"{path} is larger than 2 GB: not a report this command reads")
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not a report file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a smo-audit report (not UTF-8 text)") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    stripped = text.lstrip()
    if stripped.startswith("{") and '"type"' in stripped[:40]:
        return _load_ndjson(text, path)
    from smo_audit.report.ndjson import NonFiniteNumber, loads_finite

    try:
        data = loads_finite(text)
    except NonFiniteNumber as exc:
        raise UsageError(f"{path} is not a valid smo-audit report ({exc})") from None
    except json.JSONDecodeError:
        raise UsageError(f"{path} is not a smo-audit report (not JSON)") from None
    except RecursionError:  # JSON nested thousands deep: nothing this tool wrote
        raise UsageError(f"{path} is not a smo-audit report (JSON nested too deep)") from None
    _check_header(data, path)
    try:
        return Report.model_validate(_known_fields_only(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise UsageError(f"{path} is not a valid smo-audit report ({where}: {error['msg']})") from None


def _load_ndjson(text: str, path: Path) -> Report:
    from smo_audit.report.ndjson import NotNdjsonReport, read_ndjson

    lines = text.splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else None
    except (ValueError, RecursionError):
        summary = None
    if isinstance(summary, dict):
        _check_header(summary, path)
    try:
        return read_ndjson(lines)
    except NotNdjsonReport as exc:
        raise UsageError(f"{path} is not a complete smo-audit NDJSON report: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise UsageError(f"{path} is not a valid smo-audit report ({where}: {error['msg']})") from None
