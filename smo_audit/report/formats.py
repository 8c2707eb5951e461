"""Report format names and the file each writes in --output-dir (no heavy imports: config uses it).

| format   | file in --output-dir | for                                    |
|----------|----------------------|----------------------------------------|
| terminal | (stdout)             | people at a terminal                   |
| json     | report.json          | dashboards (the JSON contract)         |
| html     | report.html          | people: one self-contained file        |
| markdown | report.md            | GitHub job summaries and PR comments   |
| sarif    | report.sarif         | GitHub code scanning, SARIF viewers    |
| junit    | report.junit.xml     | CI test-result views                   |
| csv      | report.csv           | spreadsheets                           |
| ndjson   | report.ndjson        | streaming consumers, very large crawls |
"""

from __future__ import annotations

FILENAMES: dict[str, str] = {
    "json": "report.json",
    "html": "report.html",
    "markdown": "report.md",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "csv": "report.csv",
    "ndjson": "report.ndjson",
}
FILE_FORMATS = tuple(FILENAMES)
ALL_FORMATS = ("terminal", *FILE_FORMATS)


def parse_formats(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """`html,json` or ["html", "json"] -> ["html", "json"]; unknown names raise ValueError."""
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    names = list(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    unknown = [name for name in names if name not in ALL_FORMATS]
    if unknown or not names:
        shown = ", ".join(unknown) if unknown else repr(value)
        raise ValueError(f"unknown format {shown}: choose from {', '.join(ALL_FORMATS)}")
    return names
