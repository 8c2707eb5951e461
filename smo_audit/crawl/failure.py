"""The one exception a failed fetch raises, on its own so that code which only handles failures
(robots.txt parsing, the page workers' rules) does not import the HTTP client to name it."""

from __future__ import annotations


class FetchFailure(Exception):
    """A URL that could not be fetched; `kind` is one of the report's error kinds."""

    def __init__(self, url: str, kind: str, message: str, status: int | None = None, *,
                 final_url: str | None = None, content_type: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.kind = kind
        self.message = message
        self.status = status
        self.final_url = final_url  # not-html: where the redirects ended, and what was served there
        self.content_type = content_type
