"""Errors that end a run with a clear sentence and a documented exit code (see DESIGN.md)."""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_BELOW_THRESHOLD = 1
EXIT_USAGE = 2
EXIT_NOT_AUDITABLE = 3
EXIT_INTERNAL = 4  # a bug (ours or a plugin's): the pages audited so far are still written
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): the partial report is still written
EXIT_TERMINATED = 143  # SIGTERM (CI cancelled, docker stop): the partial report is still written


class SmoAuditError(Exception):
    """An error the user can act on: the CLI prints its message (one sentence) and exits."""

    exit_code = EXIT_USAGE


class UsageError(SmoAuditError):
    """Bad arguments, a bad config file, an unknown rule."""

    exit_code = EXIT_USAGE


class TargetError(SmoAuditError):
    """The target cannot be audited at all: unreachable, not HTML, an empty folder."""

    exit_code = EXIT_NOT_AUDITABLE


class InternalError(SmoAuditError):
    """Something broke inside smo-audit or a plugin: not the user's input, not the site's score."""

    exit_code = EXIT_INTERNAL


class RuleLoadError(SmoAuditError):
    """A rule or rule plugin is malformed: duplicate id, bad metadata, missing docs."""

    exit_code = EXIT_USAGE


def printable(text: str) -> str:
    """`text` with control and format characters (ANSI escapes, bells, newlines, bidi overrides)
    shown as escapes: messages quote servers (a Content-Type, a reason phrase), and nothing a
    server sends may drive the user's terminal or forge a second line of output."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
