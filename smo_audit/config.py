"""Configuration: defaults < `[tool.smo-audit]` in pyproject.toml or smo-audit.toml < CLI flags.

One flat, documented model (like Scrapy's default settings): every knob has its default and its
reason here, and a bad value becomes one clear sentence with exit code 2.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from smo_audit.errors import UsageError

CONFIG_FILES = ("smo-audit.toml", "pyproject.toml")


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # what to audit and how
    max_pages: int = Field(500, ge=1, description="Stop after this many pages (the report is marked partial).")
    max_depth: int = Field(10, ge=0, description="Links followed from the start page at most.")
    scope: Literal["host", "domain", "prefix"] = Field("host", description="Which URLs belong to the site.")
    include: list[str] = Field(default_factory=list, description="Glob patterns of paths to crawl (all when empty).")
    exclude: list[str] = Field(default_factory=list, description="Glob patterns of paths never to crawl.")
    concurrency: int = Field(8, ge=1, le=64, description="Requests in flight at once.")
    per_host: int | None = Field(None, ge=1, le=64, description="Requests in flight per host (default: concurrency).")
    ignore_robots: bool = Field(False, description="Crawl pages robots.txt disallows for smo-audit.")
    use_sitemaps: bool = Field(True, description="Seed the crawl from robots.txt Sitemap: lines and /sitemap.xml.")
    user_agent: str | None = Field(None, description="User-Agent header; default names smo-audit and its URL.")
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds one fetch may take in total.")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest page or image read, after decompression.")
    max_redirects: int = Field(10, ge=0, le=50, description="Redirects followed per URL.")
    retries: int = Field(2, ge=0, le=10, description="Retries on 429/5xx and connection errors.")
    base_url: str | None = Field(None, description="The production URL; og:url/canonical must live under it.")
    # rendered mode (smo_audit/render/): `render = true` means "auto"
    render: Literal["off", "auto", "all"] = Field(
        "off", description="Render pages in headless Chromium: off, auto (a few pages per template) or all.")
    chromium: str | None = Field(None, description="Path to Chromium for rendered mode.")
    viewports: list[str] = Field(default_factory=lambda: ["desktop", "mobile"],
                                 description="Viewports rendered pages are measured in: desktop, mobile.")
    render_concurrency: int = Field(2, ge=1, le=16, description="Browser contexts (page x viewport) open at once.")
    render_samples: int = Field(2, ge=1, le=50, description="--render auto: pages rendered per template and set of controls.")
    render_timeout: float = Field(30.0, gt=0, le=600, description="Seconds one page may take to render, every viewport included.")
    screenshots: Path | None = Field(None, description="Folder for one JPEG per rendered page and viewport.")
    check_profiles: bool = Field(False, description="Request each social profile URL once to verify it exists.")
    private_addresses: Literal["auto", "allow", "block"] = Field(
        "auto", description="Requests to loopback/private/link-local/metadata addresses: auto refuses them when "
        "the target is public and allows them when the target is itself private or a folder.")
    workers: int = Field(2, ge=0, le=32, description="Worker processes that parse pages (0: parse in-process).")
    page_budget: float = Field(20.0, gt=0, le=600, description="Seconds of parsing one page may cost before it is "
                               "skipped as processing-timeout.")

    # rules and scoring
    select: list[str] = Field(default_factory=list, description="Only these rules or categories.")
    ignore: list[str] = Field(default_factory=list, description="Never these rules or categories.")
    rules_dirs: list[Path] = Field(default_factory=list, description="Folders of local rule modules.")
    skip_broken_plugins: bool = Field(False, description="Report rule plugins or --rules-dir modules that fail to load and audit without them (default: exit 2).")
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per-rule options: {rule-id: {option: value}}.")
    fail_under: float | None = Field(None, ge=0, le=100, description="Exit 1 when the site score is below this.")

    # output
    format: list[str] = Field(default_factory=lambda: ["terminal"],
                              description="Report formats (terminal, json, html, markdown, sarif, junit, csv, ndjson).")
    output: Path | None = Field(None, description="Write the report here instead of stdout (one format).")
    output_dir: Path | None = Field(None, description="Write every format there, as report.<ext>.")
    show: Literal["summary", "pages", "rules", "all"] = Field("summary", description="Terminal report detail.")
    quiet: bool = Field(False, description="No progress or summary on stderr.")
    debug: bool = Field(False, description="Re-raise rule errors instead of reporting them.")

    @field_validator("format", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> list[str]:
        from smo_audit.report.formats import parse_formats

        if not isinstance(value, str | list | tuple):
            raise ValueError("must be a format name or a list of them")
        return parse_formats(value)

    @field_validator("user_agent")
    @classmethod
    def _printable_user_agent(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not value.isprintable()):
            raise ValueError("must be one line of printable text (it is sent as an HTTP header)")
        return value

    @field_validator("render", mode="before")
    @classmethod
    def _render_flag(cls, value: Any) -> Any:
        if isinstance(value, bool):  # `render = true` (and the older boolean setting)
            return "auto" if value else "off"
        return value.lower() if isinstance(value, str) else value

    @field_validator("viewports", mode="before")
    @classmethod
    def _known_viewports(cls, value: Any) -> Any:
        from smo_audit.render.settings import parse_viewports

        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple):
            return value
        return list(parse_viewports([str(v) for v in values]))

    @field_validator("base_url")
    @classmethod
    def _absolute_base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL such as https://example.com")
        return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None


def find_config(start: Path, explicit: Path | None = None) -> tuple[Path | None, dict[str, Any]]:
    """The config table and where it came from: an explicit file, else the nearest one upward."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("smo-audit", data) if explicit.name == "pyproject.toml" else data
        return explicit, dict(table)
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            data = _read_toml(path)
            if name == "pyproject.toml":
                table = data.get("tool", {}).get("smo-audit")
                if table is None:
                    continue
                return path, dict(table)
            return path, data
    return None, {}


def build_config(file_values: dict[str, Any], cli_values: dict[str, Any], source: Path | None = None) -> AuditConfig:
    """Merge file values and CLI flags (flags win) and validate once."""
    merged = {key.replace("-", "_"): value for key, value in file_values.items()}
    merged.update({k: v for k, v in cli_values.items() if v is not None})
    try:
        return AuditConfig.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "config"
        origin = f" (in {source})" if source and where.split(".")[0] in file_values else ""
        raise UsageError(f"invalid setting {where}{origin}: {error['msg']}") from None
