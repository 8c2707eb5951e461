"""Rule discovery and validation: built-ins, entry-point plugins and --rules-dir, one code path.

Built-in rules are just the `builtin` entry point of the `smo_audit.rules` group, so they are
loaded and validated exactly like a third-party plugin. Malformed metadata or a duplicate id fails
loudly and names the culprit. A plugin or --rules-dir module that cannot even be imported stops
the run too (exit 2, naming the file): an audit that silently lost the team's own rules would
report a score they did not ask for. With `skip_broken` (--skip-broken-plugins) it is reported in
the report's errors[] and skipped instead; the built-ins are never skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from smo_audit.engine.api import Rule
from smo_audit.errors import RuleLoadError

ENTRY_POINT_GROUP = "smo_audit.rules"
BUILTIN_ENTRY_POINT = "builtin"
BUILTIN_SOURCE = "builtin"  # Rule.source of the built-in rules
RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
RESERVED_IDS = frozenset({"rule-error"})


@dataclass
class LoadedRules:
    rules: list[Rule] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (source, sentence): skipped plugins
    # How to load the same rules again in another process (a parse worker): the --rules-dir
    # folders, with the entry points; None when some rules were given as objects.
    rules_dirs: tuple[Path, ...] | None = None

    def by_id(self) -> dict[str, Rule]:
        table: dict[str, Rule] = {}
        for rule in self.rules:
            table[rule.id] = rule
            for alias in rule.aliases:
                table[alias] = rule
        return table


def _rules_in(module: ModuleType) -> Iterator[Rule]:
    """Rules defined in a module and, for a package, in all of its submodules."""
    seen: set[int] = set()
    modules = [module]
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    for mod in modules:
        for value in vars(mod).values():
            if isinstance(value, Rule) and id(value) not in seen:
                seen.add(id(value))
                yield value


def _from_object(obj: object, source: str) -> list[Rule]:
    if isinstance(obj, ModuleType):
        found = list(_rules_in(obj))
    elif isinstance(obj, Rule):
        found = [obj]
    elif isinstance(obj, list | tuple):
        found = [r for r in obj if isinstance(r, Rule)]
    else:
        raise RuleLoadError(f"rule source {source} is not a module, a rule or a list of rules")
    return [replace(rule, source=source) for rule in found]


def _load_rules_dir(directory: Path) -> Iterator[tuple[str, ModuleType | Exception]]:
    if not directory.is_dir():
        raise RuleLoadError(f"--rules-dir {directory} is not a directory")
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"smo_audit_local_rules.{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"
        source = str(path)
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            yield source, exc
            continue
        yield source, module


def _where_it_broke(exc: BaseException) -> str:
    """The file (and line) where an import failed: the plugin's own code, not importlib's."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}" if exc.lineno else exc.filename
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")
              and "/importlib/" not in f.filename.replace("\\", "/")]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _broken(loaded: LoadedRules, source: str, sentence: str, exc: BaseException, skip_broken: bool) -> None:
    where = _where_it_broke(exc)
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    message = f"{sentence} ({detail}{', at ' + where if where and where not in sentence else ''})"
    if not skip_broken:
        raise RuleLoadError(f"{message}; fix it, or pass --skip-broken-plugins to audit without it")
    loaded.problems.append((source, message))


def validate(rules: Iterable[Rule]) -> None:
    """Fail loudly on malformed metadata or duplicate ids, naming the rule and where it came from."""
    seen: dict[str, str] = {}
    for rule in rules:
        where = f"rule {rule.id!r} from {rule.source or rule.module}"
        if not isinstance(rule.id, str) or not RULE_ID.match(rule.id):
            raise RuleLoadError(f"{where}: id must be a lower-case slug like 'og-image-size'")
        if rule.id in RESERVED_IDS:
            raise RuleLoadError(f"{where}: the id {rule.id!r} is reserved")
        if rule.docs_problems:
            raise RuleLoadError(f"{where}: {'; '.join(rule.docs_problems)}")
        if not rule.title.strip():
            raise RuleLoadError(f"{where}: title is empty")
        if not RULE_ID.match(rule.category):
            raise RuleLoadError(f"{where}: category must be a lower-case slug")
        if not rule.weight >= 0:
            raise RuleLoadError(f"{where}: weight must be a number >= 0")
        if rule.scope not in ("page", "site") or rule.needs not in ("static", "rendered"):
            raise RuleLoadError(f"{where}: scope must be page|site and needs static|rendered")
        for name, option in rule.options.items():
            if not option.description.strip():
                raise RuleLoadError(f"{where}: option {name!r} has no description")
        for key in (rule.id, *rule.aliases):
            if key in seen:
                raise RuleLoadError(f"{where}: id {key!r} is already used by {seen[key]}")
            seen[key] = where


def load_rules(
    *,
    rules_dirs: Iterable[Path] = (),
    include_entry_points: bool = True,
    extra_sources: Iterable[tuple[str, object]] = (),
    skip_broken: bool = False,
    metadata_only: bool = False,
) -> LoadedRules:
    """Discover every rule: entry points (built-ins first), --rules-dir files, extra objects.

    A plugin or rules-dir module that fails to import raises RuleLoadError, or with `skip_broken`
    lands in `problems` and is left out. `metadata_only` (listing and explaining rules, never
    running them): the built-ins come from rules/metadata.json when it is current, without
    importing their modules (see engine/metadata.py); their checks cannot be called.
    """
    rules_dirs = tuple(Path(d) for d in rules_dirs)
    extra_sources = list(extra_sources)
    loaded = LoadedRules(rules_dirs=rules_dirs if include_entry_points and not extra_sources else None)
    if include_entry_points:
        points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name != BUILTIN_ENTRY_POINT)
        if not any(ep.name == BUILTIN_ENTRY_POINT for ep in points):
            raise RuleLoadError("the built-in rules are not installed (entry point 'smo_audit.rules: builtin' missing); reinstall smo-audit")
        builtin = _builtin_metadata() if metadata_only else None
        for point in points:
            source = BUILTIN_SOURCE if point.name == BUILTIN_ENTRY_POINT else f"entry point {point.name} ({point.value})"
            if builtin is not None and point.name == BUILTIN_ENTRY_POINT:
                loaded.rules.extend(builtin)
                continue
            try:
                found = _from_object(point.load(), source)
            except RuleLoadError:
                raise
            except Exception as exc:
                if point.name == BUILTIN_ENTRY_POINT:
                    raise RuleLoadError(f"the built-in rules failed to load: {exc}") from exc
                _broken(loaded, source, f"rule plugin {source} failed to load", exc, skip_broken)
                continue
            loaded.rules.extend(found)
    for directory in rules_dirs:
        for source, result in _load_rules_dir(Path(directory)):
            if isinstance(result, Exception):
                _broken(loaded, source, f"rule file {source} failed to load", result, skip_broken)
            else:
                loaded.rules.extend(_from_object(result, source))
    for source, obj in extra_sources:
        loaded.rules.extend(_from_object(obj, source))
    validate(loaded.rules)
    return loaded


def _builtin_metadata() -> list[Rule] | None:
    from smo_audit.engine.metadata import builtin_rules_from_metadata

    return builtin_rules_from_metadata()
