"""Configuration: every key read, defaults < preset < file < flags, and every mistake is exit 2
with one sentence naming the file, the key, what is allowed and the closest valid key.

`smo-audit config --show` runs as a real subprocess in a temporary project; the merge itself is a
pure function and is called directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smo_audit.config import (
    FIELDS,
    PRESETS,
    AuditConfig,
    Settings,
    build_settings,
    check_rules,
    key_name,
    load_settings,
)
from smo_audit.engine.registry import load_rules
from smo_audit.engine.runner import RuleSet
from smo_audit.engine.scoring import ScoringProfile
from smo_audit.errors import UsageError

# A value different from the default for every key: the test below fails when a key is added to
# AuditConfig without being readable from a file.
EVERY_KEY = """
extends = "smo:strict"
max-pages = 7
max-depth = 3
scope = "domain"
include = ["/blog/*"]
exclude = ["/tmp/*"]
concurrency = 3
per-host = 2
ignore-robots = true
use-sitemaps = false
user-agent = "team-bot/1.0"
timeout = 12.5
max-body-bytes = 2048
max-redirects = 4
retries = 1
base-url = "https://www.example.com"
render = "all"
chromium = "/usr/bin/chromium"
viewports = ["mobile"]
render-concurrency = 3
render-samples = 4
render-timeout = 9.0
screenshots = "shots"
check-profiles = true
private-addresses = "block"
workers = 0
page-budget = 5.0
select = ["og-", "share-buttons"]
ignore = ["og-locale"]
rules-dirs = []
skip-broken-plugins = true
networks = ["facebook", "linkedin", "x"]
fail-under = 85
fail-on = "score<90, category.preview-image<80, severity>=error, rule.og-image>0, errors>0"
baseline = "previous.json"
tolerance = 1.5
format = ["json"]
output = "report.json"
output-dir = "out"
show = "all"
quiet = true
debug = true

[rules]
og-title-length = ["warning", {max_length = 70}]
og-description-length = {min_length = 40}
og-type = "off"
og-image = "info"

[category-fail-under]
preview-image = 80

[max-failures]
og-image = 0

[[overrides]]
paths = ["/legal/*"]
ignore = ["share-buttons"]

[[overrides]]
paths = ["/docs/*"]
base-url = "https://docs.example.com"
rules = {og-image = "off"}
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "-m", "smo_audit", *args], capture_output=True, text=True, timeout=60,
                          check=False, cwd=cwd, env=env)


def _rules() -> list:
    return load_rules().rules


def _checked(settings: Settings) -> Settings:
    check_rules(settings, _rules(), ScoringProfile.load().categories)
    return settings


def test_every_key_is_read_from_a_file_with_its_source(tmp_path: Path) -> None:
    (tmp_path / "smo-audit.toml").write_text(EVERY_KEY)
    result = _cli("config", "--show", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["file"] == str(tmp_path / "smo-audit.toml")
    settings = shown["settings"]
    defaults = AuditConfig()
    for name in FIELDS:
        entries = {k: v for k, v in settings.items() if k == key_name(name) or k.startswith((f"{key_name(name)}.",
                                                                                                f"{name}.", f"{name}["))}
        assert entries, f"{name} is not shown"
        assert any(v["source"] == str(tmp_path / "smo-audit.toml") for v in entries.values()), (name, entries)
        if name not in ("rules_dirs",):
            assert getattr(AuditConfig.model_validate(_values(settings)), name) != getattr(defaults, name), name
    assert settings["rules.og-title-length"]["value"] == ["warning", {"max_length": 70}]
    assert settings["rules.og-type"]["value"] == "off"
    assert settings["overrides[1]"]["value"]["base-url"] == "https://docs.example.com"


def _values(settings: dict) -> dict:
    """Rebuild a config from `config --show --json` (tables from their dotted entries)."""
    values: dict = {}
    for key, entry in settings.items():
        if key.startswith("overrides["):
            values.setdefault("overrides", []).append(entry["value"])
        elif "." in key:
            table, _, name = key.partition(".")
            values.setdefault(table.replace("-", "_"), {})[name.strip('"')] = entry["value"]
        else:
            values[key.replace("-", "_")] = entry["value"]
    values["overrides"] = [{k.replace("-", "_"): v for k, v in o.items()} for o in values.get("overrides", [])]
    return values


def test_precedence_defaults_preset_file_flags(tmp_path: Path) -> None:
    file_values = {"extends": "smo:strict", "max-pages": 40, "category-fail-under": {"open-graph": 60}}
    settings = build_settings(file_values, {"max_pages": 9, "timeout": None}, tmp_path / "smo-audit.toml")
    cfg = settings.config
    assert cfg.max_pages == 9 and settings.source("max_pages") == "--max-pages"  # flag beats file
    assert cfg.timeout == 30.0 and settings.source("timeout") == "default"  # an unset flag is no value
    assert cfg.fail_under == PRESETS["smo:strict"]["fail_under"] and settings.source("fail_under") == "preset smo:strict"
    # Tables merge entry by entry: the file's category floor joins the preset's "*".
    assert cfg.category_fail_under == {"*": 75.0, "open-graph": 60}
    assert settings.source("category_fail_under.open-graph") == str(tmp_path / "smo-audit.toml")
    assert settings.source("category_fail_under.*") == "preset smo:strict"
    file_wins = build_settings({"fail-under": 50}, {}, None).config
    assert file_wins.fail_under == 50
    flag_wins = build_settings({"extends": "smo:strict", "fail-under": 50}, {"fail_under": 20.0}).config
    assert flag_wins.fail_under == 20.0
    recommended = build_settings({}, {}).config
    assert recommended.extends == "smo:recommended" and not recommended.gated


def test_config_is_found_walking_up_and_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "site"\n\n[tool.smo-audit]\nmax-pages = 11\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    settings = load_settings(deep, None, {})
    assert settings.path == tmp_path / "pyproject.toml" and settings.config.max_pages == 11
    # A nearer smo-audit.toml wins over the pyproject.toml further up.
    (tmp_path / "a" / "smo-audit.toml").write_text("max-pages = 12\n")
    assert load_settings(deep, None, {}).config.max_pages == 12
    # A pyproject.toml without the table is not a config.
    (tmp_path / "a" / "smo-audit.toml").unlink()
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert load_settings(deep, None, {}).config.max_pages == 11
    # --config names one explicitly.
    other = tmp_path / "ci.toml"
    other.write_text("max-pages = 13\n")
    assert load_settings(deep, other, {}).config.max_pages == 13


def test_rule_levels_selection_prefixes_and_networks_reach_the_rule_set() -> None:
    from smo_audit.config import rule_set_arguments

    rules = _rules()
    cfg = _checked(build_settings({
        "select": ["og-image*", "share-buttons"], "ignore": ["share-js-only"], "networks": ["facebook", "x"],
        "rules": {"og-image-alt": "off", "og-image": "info", "og-title-length": ["error", {"max_length": 60}]},
    }, {})).config
    rule_set = RuleSet.build(rules, ScoringProfile.load(), **rule_set_arguments(cfg, rules))
    chosen = {r.id: r for r in (*rule_set.page_rules, *rule_set.site_rules)}
    assert "og-image" in chosen and "og-image-size" in chosen  # the glob
    assert "og-image-alt" not in chosen  # level off
    assert "share-coverage" in chosen and "share-js-only" not in chosen  # category, then ignore
    assert "og-title" not in chosen and "og-title-length" not in chosen  # not selected
    assert chosen["og-image"].severity.value == "info"  # level replaces the declared severity
    assert rule_set.options["share-coverage"]["networks"] == ["facebook", "x"]
    # The prefix form: "og-" selects every og-* rule and nothing else.
    prefixed = RuleSet.build(rules, ScoringProfile.load(), select=["og-"])
    ids = {r.id for r in (*prefixed.page_rules, *prefixed.site_rules)}
    assert ids and all(i.startswith("og-") for i in ids) and "og-title" in ids
    # An explicit option beats `networks`.
    both = build_settings({"networks": ["facebook"], "rules": {"share-coverage": {"networks": ["email"]}}}, {}).config
    assert rule_set_arguments(both, rules)["rule_options"]["share-coverage"]["networks"] == ["email"]
    # One network that matters: "at least 2 of them" becomes "at least 1".
    single = rule_set_arguments(build_settings({"networks": ["linkedin"]}, {}).config, rules)["rule_options"]
    assert single["profile-links-present"] == {"networks": ["linkedin"], "min_networks": 1}


BAD = [
    ("fail-undr = 80", ["unknown key 'fail-undr'", "[tool.smo-audit]", "fail-under", "did you mean 'fail-under'?"]),
    ('max-pages = "ten"', ["max-pages", "valid integer", "'ten'"]),
    ("max-pages = 0", ["max-pages", "greater than or equal to 1"]),
    ('scope = "site"', ["scope", "'host', 'domain' or 'prefix'"]),
    ('scope = "hots"', ["scope", "'host', 'domain' or 'prefix'", "did you mean 'host'?"]),
    ('extends = "smo:strct"', ["extends", "smo:recommended, smo:strict", "did you mean 'smo:strict'?"]),
    ('[rules]\nog-imag = "error"', ["rules", "unknown rule 'og-imag'", "smo-audit rules", "did you mean 'og-image'?"]),
    ('[rules]\nog-image = "loud"', ["rules.og-image.level", "'off', 'info', 'warning' or 'error'", "'loud'"]),
    ('[rules]\nog-image = "eror"', ["rules.og-image.level", "did you mean 'error'?"]),
    ('[rules]\nog-title-length = ["warning", {max_lenght = 70}]',
     ["rules.og-title-length", "unknown option 'max_lenght'", "min_length, max_length", "did you mean 'max_length'?"]),
    ('[rules]\nog-title-length = {max_length = "long"}', ["rules.og-title-length.max_length", "a whole number", "'long'"]),
    ('[rules]\nog-title-length = ["warning", 3]', ["rules.og-title-length", "[level, {options}]"]),
    ('select = ["og-imgae"]', ["select", "unknown rule or category 'og-imgae'", "preview-image", "did you mean 'og-image'?"]),
    ('ignore = ["sharebuttons"]', ["ignore", "'sharebuttons'", "did you mean 'share-buttons'?"]),
    ('fail-on = "score<<90"', ["fail-on", "cannot read condition 'score<<90'", "category.<id>"]),
    ('fail-on = "scor<90"', ["fail-on", "unknown subject 'scor'", "score"]),
    ('fail-on = "severity>=fatal"', ["fail-on", "info, warning, error"]),
    ('fail-on = "score<90,,errors>0"', ["fail-on", "empty condition"]),
    ('fail-on = "category.preview-imag<80"', ["fail-on", "unknown category 'preview-imag'", "did you mean 'preview-image'?"]),
    ('fail-on = "rule.og-imag>0"', ["fail-on", "unknown rule 'og-imag'", "did you mean 'og-image'?"]),
    ('networks = ["facebok"]', ["networks", "unknown network 'facebok'", "linkedin", "did you mean 'facebook'?"]),
    ("[category-fail-under]\npreview-imag = 80", ["category-fail-under", "'preview-imag'", "did you mean 'preview-image'?"]),
    ("[category-fail-under]\npreview-image = 180", ["category-fail-under", "between 0 and 100"]),
    ("[max-failures]\nog-imag = 0", ["max-failures", "unknown rule 'og-imag'", "did you mean 'og-image'?"]),
    ("[max-failures]\nog-image = -1", ["max-failures", "0 or more"]),
    ('[[overrides]]\npaths = ["/legal/*"]\nignor = ["share-buttons"]',
     ["unknown key 'ignor' in overrides[0]", "paths, select, ignore, rules, base-url", "did you mean 'ignore'?"]),
    ('[[overrides]]\npaths = ["/legal/*"]\nignore = ["sharebuttons"]', ["overrides[0].ignore", "'sharebuttons'"]),
    ('[[overrides]]\nignore = ["share-buttons"]', ["overrides[0].paths", "Field required"]),
    ('[[overrides]]\npaths = ["/docs/*"]\nbase-url = "docs.example.com"', ["base-url", "absolute http(s) URL"]),
    ("overrides = 3", ["overrides", "array of tables"]),
    ("tolerance = -1", ["tolerance", "greater than or equal to 0"]),
    ("max-pages = [", ["is not valid TOML"]),
]


@pytest.mark.parametrize(("body", "needles"), BAD, ids=[b for b, _ in BAD])
def test_bad_config_names_file_key_allowed_and_closest(tmp_path: Path, body: str, needles: list[str]) -> None:
    path = tmp_path / "smo-audit.toml"
    path.write_text(body + "\n")
    with pytest.raises(UsageError) as caught:
        _checked(load_settings(tmp_path, None, {}))
    message = str(caught.value)
    assert str(path) in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    assert "\n" not in message


def test_bad_config_exits_2_with_one_sentence_from_every_command(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.smo-audit]\nfail-undr = 80\n')
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for args in (("config", "--show"), ("audit", "site", "--quiet")):
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert str(tmp_path / "pyproject.toml") in result.stderr and "did you mean 'fail-under'?" in result.stderr
    # A bad flag value is named by its flag.
    (tmp_path / "pyproject.toml").write_text('[tool.smo-audit]\nmax-pages = 3\n')
    result = _cli("audit", "site", "--select", "og-imgae", "--quiet", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("smo-audit: error: --select: unknown rule or category")


IMPOSSIBLE_OPTIONS = [
    ("og-title-length = {max_length = inf}", "rules.og-title-length.max_length: must be a whole number of 0 or more", "inf"),
    ("og-title-length = {max_length = nan}", "rules.og-title-length.max_length: must be a whole number of 0 or more", "nan"),
    ("og-title-length = {max_length = 70.5}", "rules.og-title-length.max_length: must be a whole number", "70.5"),
    ("og-title-length = {max_length = 70.0}", "rules.og-title-length.max_length: must be a whole number", "70.0"),
    ("site-same-preview = {min_pages = -1}", "rules.site-same-preview.min_pages: must be a whole number of 0 or more", "-1"),
    ("site-same-preview = {share = nan}", "rules.site-same-preview.share: must be a finite number", "nan"),
    ("site-same-preview = {share = -inf}", "rules.site-same-preview.share: must be a finite number", "-inf"),
]


@pytest.mark.parametrize(("entry", "needle", "value"), IMPOSSIBLE_OPTIONS, ids=[e for e, _, _ in IMPOSSIBLE_OPTIONS])
def test_an_impossible_rule_option_exits_2_naming_it(tmp_path: Path, entry: str, needle: str, value: str) -> None:
    """A number of the right type but an impossible value (inf, nan, a negative count, a fraction of
    a count) would make the rule fail on every page as a rule error, out of the score: exit 2."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for where in ("[rules]\n", '[[overrides]]\npaths = ["/*"]\n[overrides.rules]\n'):
        (tmp_path / "smo-audit.toml").write_text(where + entry + "\n")
        for args in (("config", "--show"), ("audit", "site", "--quiet", "-f", "json", "-o", "r.json")):
            result = _cli(*args, cwd=tmp_path)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
            assert str(tmp_path / "smo-audit.toml") in result.stderr and needle.split(": ")[1] in result.stderr
            assert needle.split(": ")[0].split(".", 1)[1] in result.stderr and f"got {value}" in result.stderr
        assert not (tmp_path / "r.json").exists()


def test_possible_rule_options_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    (tmp_path / "smo-audit.toml").write_text("[rules]\nog-title-length = {max_length = 70, min_length = 0}\n"
                                             "site-same-preview = {min_pages = 0, share = 1}\n")
    result = _cli("audit", "site", "--quiet", "-f", "json", "-o", "r.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    findings = [f for page in report["pages"] for f in page["findings"]] + report.get("site_findings", [])
    assert not [f for f in findings if f.get("status") == "error"], findings


BOOLEAN_NUMBERS = [
    ("fail-under = true", "fail-under: must be a number, not true or false"),
    ("max-pages = true", "max-pages: must be a number, not true or false"),
    ("timeout = false", "timeout: must be a number, not true or false"),
    ("[category-fail-under]\npreview-image = true", "category-fail-under: preview-image = true must be a number"),
    ("[max-failures]\nog-image = true", "max-failures: og-image = true must be a number"),
]


@pytest.mark.parametrize(("body", "needle"), BOOLEAN_NUMBERS, ids=[b for b, _ in BOOLEAN_NUMBERS])
def test_a_boolean_for_a_number_exits_2(tmp_path: Path, body: str, needle: str) -> None:
    """TOML's `true` is not 1 (pydantic's lax mode read `fail-under = true` as a threshold of 1)."""
    (tmp_path / "smo-audit.toml").write_text(body + "\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for args in (("config", "--show"), ("audit", "site", "--quiet", "-f", "json", "-o", "r.json")):
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"{tmp_path / 'smo-audit.toml'}: {needle}" in result.stderr, result.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("expression", ["score<nan", "score<inf", "score<1e400", "category.preview-image<NaN"])
def test_fail_on_a_number_that_is_not_finite_exits_2(tmp_path: Path, expression: str) -> None:
    """`score<nan` never holds: it passed every run (exit 0, passed true) instead of being refused."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    result = _cli("audit", "site", "--fail-on", expression, "--quiet", "-f", "json", "-o", "r.json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("smo-audit: error: --fail-on: ") and "is not a finite number" in result.stderr
    (tmp_path / "smo-audit.toml").write_text(f'fail-on = "{expression}"\n')
    result = _cli("config", "--show", cwd=tmp_path)
    assert result.returncode == 2 and "fail-on" in result.stderr and "is not a finite number" in result.stderr


SHAPES = [
    ("pyproject.toml", 'tool = "x"', ["tool must be a table", "not a string"]),
    ("pyproject.toml", "[[tool]]\nname = 1", ["tool must be a table", "not an array"]),
    ("smo-audit.toml", 'extends = ["smo:strict"]', ["extends must be the name of a preset", "smo:strict", "not an array"]),
    ("smo-audit.toml", "extends = {a = 1}", ["extends must be the name of a preset", "not a table"]),
]


@pytest.mark.parametrize(("name", "body", "needles"), SHAPES, ids=[f"{n}: {b}" for n, b, _ in SHAPES])
def test_a_config_of_the_wrong_shape_exits_2_naming_the_key(tmp_path: Path, name: str, body: str,
                                                              needles: list[str]) -> None:
    """A key that should be a table or a name holds something else: exit 2 naming it, not exit 4."""
    (tmp_path / name).write_text(body + "\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for args in (("config", "--show"), ("audit", "site", "--quiet"), ("config", "--show", "--config", name)):
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"{name}: " in result.stderr, result.stderr
        for needle in needles:
            assert needle in result.stderr, (needle, result.stderr)


BAD_FLAGS = [
    (["--base-url", "https://[::1"], "--base-url: is not a valid URL"),
    (["--base-url", "http://x:99999/"], "--base-url: is not a valid URL (Port out of range"),
    (["--base-url", "https://"], "--base-url: must name a host"),
    (["--base-url", "https://exa mple.com"], "--base-url: must name a host without spaces"),
    (["--base-url", "https://exa\tmple.com"], "--base-url: must be an absolute http(s) URL"),
    (["--user-agent", "smo-audit ✓"], "--user-agent: must be one line of printable ASCII text"),
    (["--user-agent", "smo-audit\r\nX-Evil: 1"], "--user-agent: must be one line of printable ASCII text"),
    # a space at either end: httpx refuses the header, and every fetch failed (exit 3)
    (["--user-agent", "Bot/1.0 "], "--user-agent: must be one line of printable ASCII text, with no space"),
    (["--user-agent", " Bot/1.0"], "--user-agent: must be one line of printable ASCII text, with no space"),
    # a quote or backslash went into the pages' JSON (exit 3: "processing failed"); a space in the path
    (["--base-url", 'https://ex"ample.com/'], "--base-url: must not contain '\"'"),
    (["--base-url", "https://example.com\\@evil.com"], "--base-url: must not contain '\\\\'"),
    (["--base-url", "https://example.com/a b"], "--base-url: must not contain ' '"),
]


@pytest.mark.parametrize(("flags", "needle"), BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_a_bad_flag_value_exits_2_naming_the_flag(tmp_path: Path, flags: list[str], needle: str) -> None:
    """A value the audit could not use is refused before it starts: exit 2 naming the flag, not an
    internal error (exit 4) or a run where every fetch fails (exit 3); a good value is accepted."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    result = _cli("audit", "site", *flags, "--quiet", "-f", "json", "-o", "r.json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"smo-audit: error: {needle}"), result.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_config_base_url_with_a_control_character_exits_2(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for body in ('base-url = "https://exa\\u001bmple.com"\n',
                 '[[overrides]]\npaths = ["/docs/*"]\nbase-url = "https://docs.exa\\u001bmple.com"\n'):
        (tmp_path / "smo-audit.toml").write_text(body)
        result = _cli("audit", "site", "--quiet", "-f", "json", "-o", "r.json", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert str(tmp_path / "smo-audit.toml") in result.stderr and "base-url" in result.stderr
        assert "control characters" in result.stderr and "\x1b" not in result.stderr


def test_good_base_urls_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>x</title>")
    for url in ("https://example.com:8443/docs/", "http://[::1]:8080/", "https://acme.dev"):
        result = _cli("audit", "site", "--base-url", url, "--quiet", "-f", "json", "-o", "r.json", cwd=tmp_path)
        assert result.returncode == 0, (url, result.stderr)
        assert json.loads((tmp_path / "r.json").read_text())["settings"]["base_url"] == url


def test_config_show_prints_values_and_sources(tmp_path: Path) -> None:
    (tmp_path / "smo-audit.toml").write_text('extends = "smo:strict"\nmax-pages = 25\n[rules]\nog-type = "off"\n')
    result = _cli("config", "--show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines() if " = " in line}
    assert lines["max-pages"].split("#")[1].strip() == str(tmp_path / "smo-audit.toml")
    assert "= 25" in lines["max-pages"]
    assert lines["fail-under"].endswith("# preset smo:strict") and "= 90.0" in lines["fail-under"]
    assert lines["timeout"].endswith("# default")
    assert lines["rules.og-type"].startswith('rules.og-type = "off"')
    assert lines['category-fail-under."*"'].endswith("# preset smo:strict")
