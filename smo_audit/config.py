"""Configuration: defaults < preset (`extends`) < `[tool.smo-audit]` / smo-audit.toml < CLI flags.

One flat, documented model (like Scrapy's default settings): every knob has its default and its
reason here. A config is checked twice: its shape by pydantic as soon as it is read, and its rule
ids, categories, options and networks against the rules actually loaded (plugins included). Every
mistake becomes one sentence with exit code 2 that names the file, the key, what is allowed and
the closest valid key, because a CI gate that silently ignores a typo is worse than none.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from smo_audit.errors import UsageError

if TYPE_CHECKING:
    from smo_audit.engine.api import Rule

CONFIG_FILES = ("smo-audit.toml", "pyproject.toml")
TABLE = "[tool.smo-audit]"
Level = Literal["off", "info", "warning", "error"]
LEVELS = ("off", "info", "warning", "error")

# Presets are plain config tables: `extends` picks one, the file and the flags then override it.
PRESETS: dict[str, dict[str, Any]] = {
    # The rules at the levels their authors chose; no gate until you set a threshold.
    "smo:recommended": {},
    # For sites that already do well and want to stay there: a high score, no weak category and
    # no failing error-level rule.
    "smo:strict": {
        "fail_under": 90.0,
        "category_fail_under": {"*": 75.0},
        "fail_on": "severity>=error",
    },
}


class RuleSetting(BaseModel):
    """One entry of `[rules]`: a level, options, or both (`["warning", {max_length = 70}]`)."""

    model_config = ConfigDict(extra="forbid")

    level: Level | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"level": value.lower()}
        if isinstance(value, list | tuple):
            if not 1 <= len(value) <= 2 or not isinstance(value[0], str) or (
                    len(value) == 2 and not isinstance(value[1], dict)):
                raise ValueError('must be a level ("off", "info", "warning", "error"), a table of options, '
                                 'or [level, {options}]')
            return {"level": value[0].lower(), "options": value[1] if len(value) == 2 else {}}
        if isinstance(value, dict) and set(value) - {"level", "options"}:
            return {"options": value}  # `og-title-length = {max_length = 70}`: options only
        return value

    def shown(self) -> Any:
        if not self.options:
            return self.level
        return self.options if self.level is None else [self.level, self.options]


class Override(BaseModel):
    """Settings for the pages whose URL path (or source file) matches one of `paths`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    paths: list[str] = Field(min_length=1, description="Globs matched against the URL path (/legal/*) or the "
                             "source file of a folder audit (legal/*.html).")
    select: list[str] = Field(default_factory=list, description="Only these rules here.")
    ignore: list[str] = Field(default_factory=list, description="Also skip these rules here.")
    rules: dict[str, RuleSetting] = Field(default_factory=dict, description="Levels and options here.")
    base_url: str | None = Field(None, description="The production URL these pages live under.")

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        return _absolute_url(value)

    def applies_to(self, path: str, source_path: str | None = None) -> bool:
        return any(fnmatch.fnmatchcase(path, p) or (source_path is not None and fnmatch.fnmatchcase(source_path, p))
                   for p in self.paths)


def _numeric(annotation: Any) -> bool:
    """A field holding numbers: int, float, `int | None`, `dict[str, float]` (bool is not int here)."""
    if annotation in (int, float):
        return True
    return any(_numeric(arg) for arg in get_args(annotation))


def _absolute_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host (no whitespace or control characters) and a valid port."""
    from urllib.parse import urlsplit

    if value is None:
        return value
    example = "such as https://example.com"
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an absolute http(s) URL {example}")
    if any(not ch.isprintable() for ch in value):
        raise ValueError(f"must be an absolute http(s) URL {example}, without control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc}): give one {example}") from None
    if not parts.hostname or any(ch.isspace() for ch in parts.netloc):
        raise ValueError(f"must name a host without spaces, {example}")
    unsafe = sorted({ch for ch in value if ch.isspace() or ch in '"<>\\^`{|}'})
    if unsafe:  # characters a URL never holds unescaped (RFC 3986)
        raise ValueError(f"must not contain {' '.join(repr(ch) for ch in unsafe)}: percent-encode them, {example}")
    return value


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    extends: str = Field("smo:recommended", description="Preset this config starts from: smo:recommended or "
                         "smo:strict.")
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
    select: list[str] = Field(default_factory=list, description="Only these rules: ids, id prefixes (og- or og-*) "
                              "or categories.")
    ignore: list[str] = Field(default_factory=list, description="Never these rules: ids, id prefixes or categories.")
    rules_dirs: list[Path] = Field(default_factory=list, description="Folders of local rule modules.")
    skip_broken_plugins: bool = Field(False, description="Report rule plugins or --rules-dir modules that fail to load and audit without them (default: exit 2).")
    rules: dict[str, RuleSetting] = Field(default_factory=dict, description="Per rule: off | info | warning | error, "
                                          "a table of its options, or [level, {options}].")
    networks: list[str] | None = Field(None, description="The networks that matter to this site (share buttons "
                                       "and profiles are judged against them); default: each rule's own list.")
    overrides: list[Override] = Field(default_factory=list, description="Per-URL-pattern settings: "
                                      "[[overrides]] paths = [\"/legal/*\"], ignore, select, rules, base-url.")

    # the gate
    fail_under: float | None = Field(None, ge=0, le=100, description="Exit 1 when the site score is below this.")
    category_fail_under: dict[str, float] = Field(default_factory=dict, description="Exit 1 when a category scores "
                                                  "below its number ({\"preview-image\" = 80}; \"*\": every category).")
    max_failures: dict[str, int] = Field(default_factory=dict, description="Exit 1 when a rule fails or warns more "
                                         "often than this ({og-image = 0}).")
    fail_on: str | None = Field(None, description="Exit 1 when any condition holds: "
                                "\"score<90, category.preview-image<80, rule.og-image>0, severity>=error, errors>0\".")
    baseline: Path | None = Field(None, description="An earlier JSON report: exit 1 only on new failures or a score "
                                  "drop beyond `tolerance`.")
    tolerance: float = Field(0.0, ge=0, le=100, description="Score points (site and category) a baseline "
                             "comparison forgives.")

    # output
    format: list[str] = Field(default_factory=lambda: ["terminal"],
                              description="Report formats (terminal, json, html, markdown, sarif, junit, csv, ndjson).")
    output: Path | None = Field(None, description="Write the report here instead of stdout (one format).")
    output_dir: Path | None = Field(None, description="Write every format there, as report.<ext>.")
    show: Literal["summary", "pages", "rules", "all"] = Field("summary", description="Terminal report detail.")
    quiet: bool = Field(False, description="No progress or summary on stderr.")
    debug: bool = Field(False, description="Re-raise rule errors instead of reporting them.")

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """TOML's `true` is not a number: pydantic's lax mode would read `fail-under = true` as 1."""
        if info.field_name is None or not _numeric(cls.model_fields[info.field_name].annotation):
            return value
        if isinstance(value, bool):
            raise ValueError("must be a number, not true or false")
        if isinstance(value, dict):
            for key, entry in value.items():
                if isinstance(entry, bool):
                    raise ValueError(f"{key} = {str(entry).lower()} must be a number, not true or false")
        return value

    @field_validator("extends")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(f"must be one of {', '.join(PRESETS)}{_did_you_mean(value, PRESETS)}")
        return value

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
        if value is not None and (not value.strip() or not value.isprintable() or not value.isascii()
                                  or value != value.strip()):
            raise ValueError("must be one line of printable ASCII text, with no space at either end (it is sent "
                             "as an HTTP header)")
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
        return _absolute_url(value)

    @field_validator("category_fail_under")
    @classmethod
    def _percentages(cls, value: dict[str, float]) -> dict[str, float]:
        for key, number in value.items():
            if not 0 <= number <= 100:
                raise ValueError(f"{key} = {number:g} is not a score between 0 and 100")
        return value

    @field_validator("max_failures")
    @classmethod
    def _counts(cls, value: dict[str, int]) -> dict[str, int]:
        for key, number in value.items():
            if number < 0:
                raise ValueError(f"{key} = {number} must be 0 or more")
        return value

    @field_validator("fail_on")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        from smo_audit.gate.failon import FailOnError, parse_fail_on

        if value is not None:
            try:
                parse_fail_on(value)
            except FailOnError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def gated(self) -> bool:
        """Whether any threshold is set (without one, `passed` is null: nothing was judged)."""
        return bool(self.fail_under is not None or self.category_fail_under or self.max_failures
                    or self.fail_on or self.baseline is not None)


FIELDS = tuple(AuditConfig.model_fields)
OVERRIDE_FIELDS = tuple(Override.model_fields)
_TABLES = ("rules", "category_fail_under", "max_failures")  # merged entry by entry across layers
_FLAG_NAMES = {"rules_dirs": "--rules-dir", "private_addresses": "--allow-private/--block-private"}


def key_name(field_name: str) -> str:
    """How a setting is spelled in TOML: `fail_under` -> `fail-under`."""
    return field_name.replace("_", "-")


def flag_name(field_name: str) -> str:
    return _FLAG_NAMES.get(field_name, "--" + key_name(field_name))


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


@dataclass
class Settings:
    """The effective config, where each value came from, and the file that was read."""

    config: AuditConfig
    sources: dict[str, str] = field(default_factory=dict)  # field (or "rules.<id>") -> default/preset/file/flag
    path: Path | None = None

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")


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
        if explicit.is_dir():
            raise UsageError(f"config file {explicit} is a folder: --config names a TOML file")
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist")
        data = _read_toml(explicit)
        table = _tool_table(explicit, data).get("smo-audit", data) if explicit.name == "pyproject.toml" else data
        return explicit, _table(explicit, table)
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            data = _read_toml(path)
            if name == "pyproject.toml":
                table = _tool_table(path, data).get("smo-audit")
                if table is None:
                    continue
                return path, _table(path, table)
            return path, _table(path, data)
    return None, {}


def _table(path: Path, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UsageError(f"{path}: {TABLE} must be a table of settings, not {_toml_type(table)}")
    return dict(table)


def _tool_table(path: Path, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """pyproject.toml's `tool`, which must be a table (`tool = "x"` or `[[tool]]` is not one)."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{path}: tool must be a table ([tool.smo-audit] holds the settings), not {_toml_type(tool)}")
    return tool


def _toml_type(value: Any) -> str:
    """How TOML calls a value's type, for messages: `tool = "x"` is a string, `[[tool]]` an array."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _normalise(table: Mapping[str, Any], allowed: Sequence[str], source: str | None, where: str) -> dict[str, Any]:
    """Keys to field names (`fail-under` and `fail_under` both work); an unknown key stops here."""
    result: dict[str, Any] = {}
    for key, value in table.items():
        name = str(key).replace("-", "_")
        if name not in allowed:
            spelled = [key_name(a) for a in allowed]
            raise UsageError(f"{_where(source)}unknown key {key!r} in {where} (allowed: {', '.join(spelled)})"
                             f"{_did_you_mean(key_name(name), spelled)}")
        if name == "overrides":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise UsageError(f"{_where(source)}overrides must be an array of tables ([[tool.smo-audit.overrides]] "
                                 "with paths = [...] and the settings for those pages)")
            value = [_normalise(v, OVERRIDE_FIELDS, source, f"overrides[{i}]") for i, v in enumerate(value)]
        result[name] = value
    return result


def load_settings(start: Path, explicit: Path | None, flags: Mapping[str, Any], *, use_files: bool = True) -> Settings:
    """Find and read the config file, merge the layers and validate the shape (exit 2 on any mistake)."""
    path, table = find_config(start, explicit) if use_files else (None, {})
    file_values = _normalise(table, FIELDS, str(path) if path else None, TABLE)
    return build_settings(file_values, flags, path)


def build_settings(file_values: Mapping[str, Any], flags: Mapping[str, Any], path: Path | None = None) -> Settings:
    file_values = _normalise(file_values, FIELDS, str(path) if path else None, TABLE)
    flag_values = {k: v for k, v in flags.items() if v is not None}
    preset_name = flag_values.get("extends", file_values.get("extends", "smo:recommended"))
    if not isinstance(preset_name, str):
        origin = flag_name("extends") if "extends" in flag_values else str(path) if path else None
        raise UsageError(f"{_where(origin)}extends must be the name of a preset ({', '.join(PRESETS)}), "
                         f"not {_toml_type(preset_name)}")
    if preset_name not in PRESETS:
        origin = flag_name("extends") if "extends" in flag_values else str(path) if path else None
        raise UsageError(f"{_where(origin)}extends = {preset_name!r} is not a preset (allowed: {', '.join(PRESETS)})"
                         f"{_did_you_mean(str(preset_name), PRESETS)}")
    layers = ((f"preset {preset_name}", PRESETS[preset_name]), (str(path) if path else "file", file_values),
              ("flag", flag_values))
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for label, values in layers:
        for name, value in values.items():
            origin = flag_name(name) if label == "flag" else label
            if name in _TABLES and isinstance(value, dict) and isinstance(merged.get(name), dict):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value
            sources[name] = origin
            if name in _TABLES and isinstance(value, dict):
                for key in value:
                    sources[f"{name}.{key}"] = origin
    try:
        config = AuditConfig.model_validate(merged)
    except ValidationError as exc:
        raise UsageError(_explain(exc, sources)) from None
    return Settings(config, sources, path)


def _dotted(loc: Sequence[str]) -> str:
    """A pydantic location as the user wrote it: `overrides[0].base-url`, `rules.og-image.level`."""
    text = ""
    for index, part in enumerate(loc):
        if part.isdigit():
            text += f"[{part}]"
        elif index == 0 or part in OVERRIDE_FIELDS:
            text += ("." if text else "") + key_name(part)
        else:
            text += "." + part
    return text


def _explain(exc: ValidationError, sources: Mapping[str, str]) -> str:
    """The first pydantic error as one sentence: where, which key, what is allowed."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    field_name = loc[0] if loc else ""
    origin = sources.get(f"{field_name}.{loc[1]}" if len(loc) > 1 else field_name) or sources.get(field_name)
    key = _dotted(loc) or "config"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" (got {value!r})"
    if shown and repr(value) in message:
        shown = ""  # the message names the value already ("unknown viewport 'tablet'")
    if error["type"] == "extra_forbidden" and len(loc) >= 1:
        # An unknown key inside a nested table (an override's or a rule's)
        allowed = OVERRIDE_FIELDS if loc[0] == "overrides" else ("level", "options")
        spelled = [key_name(a) for a in allowed]
        return (f"{_where(origin)}unknown key {key_name(loc[-1])!r} in {key.rsplit('.', 1)[0]} (allowed: "
                f"{', '.join(spelled)}){_did_you_mean(key_name(loc[-1]), spelled)}")
    if error["type"] == "literal_error" and isinstance(value, str):
        # A misspelt choice: suggest the closest allowed value, as for keys.
        shown += _did_you_mean(value, re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", ""))))
    if origin and origin.startswith("--"):
        return f"{origin}: {message}{shown}"
    return f"{_where(origin)}{key}: {message}{shown}"


# -- checks against the loaded rules ---------------------------------------------------------------


def check_rules(settings: Settings, rules: Sequence[Rule], categories: Iterable[str] = ()) -> None:
    """Rule ids, options, categories and networks in the config exist (exit 2 naming the closest)."""
    from smo_audit.engine.runner import same_kind, selects

    cfg = settings.config
    by_key = {key: r for r in rules for key in (r.id, *r.aliases)}
    ids = sorted(r.id for r in rules)
    known_categories = sorted({*categories, *(r.category for r in rules)})

    def origin(name: str) -> str:
        return _where(settings.sources.get(name) or settings.sources.get(name.split(".")[0].split("[")[0]))

    def label(name: str) -> str:
        """`FILE: key` for a value from a file, `--flag` for one from the command line."""
        source = settings.sources.get(name) or settings.sources.get(name.split(".")[0].split("[")[0]) or ""
        return source if source.startswith("--") else f"{_where(source)}{key_name(name)}"

    def check_selection(name: str, values: Sequence[str]) -> None:
        for pattern in values:
            if not any(selects(pattern, r) for r in rules):
                raise UsageError(f"{label(name)}: unknown rule or category {pattern!r} (allowed: "
                                 f"rule ids, id prefixes such as og- or og-*, or categories: "
                                 f"{', '.join(known_categories)}){_did_you_mean(pattern, [*ids, *known_categories])}")

    def check_rule_settings(name: str, table: Mapping[str, RuleSetting]) -> None:
        for rule_id, setting in table.items():
            rule = by_key.get(rule_id)
            if rule is None:
                raise UsageError(f"{origin(f'{name}.{rule_id}')}{name}: unknown rule {rule_id!r} "
                                 f"(see `smo-audit rules`){_did_you_mean(rule_id, ids)}")
            for option, value in setting.options.items():
                declared = rule.options.get(option)
                if declared is None:
                    allowed = ", ".join(rule.options) or "none"
                    raise UsageError(f"{origin(f'{name}.{rule_id}')}{name}.{rule_id}: unknown option {option!r} "
                                     f"(allowed: {allowed}){_did_you_mean(option, rule.options)}")
                if declared.default is not None and not same_kind(declared.default, value):
                    raise UsageError(f"{origin(f'{name}.{rule_id}')}{name}.{rule_id}.{option}: must be "
                                     f"{_kind(declared.default)} like {declared.default!r}, got {value!r}")

    check_selection("select", cfg.select)
    check_selection("ignore", cfg.ignore)
    check_rule_settings("rules", cfg.rules)
    for index, override in enumerate(cfg.overrides):
        check_selection(f"overrides[{index}].select", override.select)
        check_selection(f"overrides[{index}].ignore", override.ignore)
        check_rule_settings(f"overrides[{index}].rules", override.rules)
    for key in cfg.category_fail_under:
        if key != "*" and key not in known_categories:
            raise UsageError(f"{origin(f'category_fail_under.{key}')}category-fail-under: unknown category {key!r} "
                             f"(allowed: {', '.join(known_categories)}, or \"*\" for every category)"
                             f"{_did_you_mean(key, known_categories)}")
    for key in cfg.max_failures:
        if key not in by_key:
            raise UsageError(f"{origin(f'max_failures.{key}')}max-failures: unknown rule {key!r} (see `smo-audit rules`)"
                             f"{_did_you_mean(key, ids)}")
    if cfg.fail_on:
        from smo_audit.gate.failon import parse_fail_on

        for condition in parse_fail_on(cfg.fail_on):
            if condition.subject == "category" and condition.name not in known_categories:
                raise UsageError(f"{origin('fail_on')}fail-on: unknown category {condition.name!r} in {str(condition)!r} "
                                 f"(allowed: {', '.join(known_categories)}){_did_you_mean(condition.name or '', known_categories)}")
            if condition.subject == "rule" and condition.name not in by_key:
                raise UsageError(f"{origin('fail_on')}fail-on: unknown rule {condition.name!r} in {str(condition)!r} "
                                 f"(see `smo-audit rules`){_did_you_mean(condition.name or '', ids)}")
    if cfg.networks is not None:
        networks, aliases = known_networks()
        for network in cfg.networks:
            if network not in networks | aliases:
                raise UsageError(f"{origin('networks')}networks: unknown network {network!r} (allowed: "
                                 f"{', '.join(sorted(networks))}){_did_you_mean(network, networks)}")


def known_networks() -> tuple[set[str], set[str]]:
    """Network ids, and their aliases, that the catalogue knows (share endpoints, profile URL shapes)."""
    from smo_audit.catalogue import section

    share, profiles = section("share"), section("profiles")
    return {*share.get("networks", {}), *profiles.get("network", {})}, set(share.get("aliases", {}))


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number of 0 or more" if default >= 0 else "a whole number"
    if isinstance(default, float):
        return "a finite number"
    if isinstance(default, list | tuple):
        return "a list"
    return f"a {type(default).__name__}"


# -- what the engine receives ----------------------------------------------------------------------


def rule_set_arguments(config: AuditConfig, rules: Sequence[Rule], override: Override | None = None) -> dict[str, Any]:
    """select/ignore/levels/options for `RuleSet.build`, with `networks` handed to the rules that read it.

    An override narrows `select` when it has one, adds to `ignore`, and its rule entries win.
    """
    select = list(override.select) if override is not None and override.select else list(config.select)
    ignore = [*config.ignore, *(override.ignore if override is not None else ())]
    table: dict[str, RuleSetting] = dict(config.rules)
    if override is not None:
        for key, setting in override.rules.items():
            base = table.get(key)
            table[key] = RuleSetting(level=setting.level or (base.level if base else None),
                                     options={**(base.options if base else {}), **setting.options})
    by_key = {key: r for r in rules for key in (r.id, *r.aliases)}
    options: dict[str, dict[str, Any]] = {}
    levels: dict[str, str] = {}
    if config.networks is not None:
        for reader in rules:
            if "networks" in reader.options:
                options[reader.id] = {"networks": list(config.networks)}
                # "at least N of the networks that matter" cannot ask for more than were named
                minimum = reader.options.get("min_networks")
                if minimum is not None and isinstance(minimum.default, int) and minimum.default > len(config.networks):
                    options[reader.id]["min_networks"] = len(config.networks)
    for key, setting in table.items():
        rule = by_key.get(key)
        rule_id = rule.id if rule is not None else key
        if setting.options:
            options.setdefault(rule_id, {}).update(setting.options)
        if setting.level is not None:
            levels[rule_id] = setting.level
    return {"select": select, "ignore": ignore, "rule_options": options, "levels": levels}


def build_config(file_values: dict[str, Any], cli_values: dict[str, Any], source: Path | None = None) -> AuditConfig:
    """Merge file values and CLI flags (flags win) and validate once."""
    return build_settings(file_values, cli_values, source).config


def effective_values(settings: Settings) -> list[tuple[str, Any, str]]:
    """(key, value, source) for every setting, tables entry by entry: what `config --show` prints."""
    dumped = settings.config.model_dump(mode="json", exclude={"rules", "overrides"})
    rows: list[tuple[str, Any, str]] = []
    for name in FIELDS:
        if name == "rules":
            for rule_id, setting in settings.config.rules.items():
                rows.append((f"rules.{rule_id}", setting.shown(), settings.source(f"rules.{rule_id}")))
            continue
        if name == "overrides":
            for index, override in enumerate(settings.config.overrides):
                shown = override.model_dump(mode="json", exclude_defaults=True)
                shown["rules"] = {k: v.shown() for k, v in override.rules.items()} if override.rules else None
                rows.append((f"overrides[{index}]", {key_name(k): v for k, v in shown.items() if v is not None},
                             settings.source("overrides")))
            continue
        value = dumped[name]
        if name in _TABLES and isinstance(value, dict) and value:
            for key, entry in value.items():
                rows.append((f"{key_name(name)}.{_toml_key(key)}", entry, settings.source(f"{name}.{key}")))
            continue
        rows.append((key_name(name), value, settings.source(name)))
    return rows


def toml_value(value: Any) -> str:
    """A value as TOML would spell it (None, which TOML lacks, as `unset`)."""
    import json

    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else f'"{key}"'
