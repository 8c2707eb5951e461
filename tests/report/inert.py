"""Checks that untrusted page text stayed text: shared by the Markdown, SARIF and HTML tests."""

from __future__ import annotations

from html.parser import HTMLParser

PAYLOAD_TAGS = frozenset({"script", "img", "iframe", "object", "embed", "svg", "b", "style"})


class TagCollector(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def collect(html: str) -> TagCollector:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser
