"""The configuration example in the README is a valid config (every key, rule and option in it)."""

from __future__ import annotations

import re
from pathlib import Path

from smo_audit.config import check_rules, load_settings
from smo_audit.engine.registry import load_rules
from smo_audit.engine.scoring import ScoringProfile

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    (tmp_path / "pyproject.toml").write_text(example.group(1))
    settings = load_settings(tmp_path, None, {})
    check_rules(settings, load_rules().rules, ScoringProfile.load().categories)
    cfg = settings.config
    assert cfg.fail_under == 80 and cfg.fail_on and cfg.networks
    assert cfg.rules["og-locale"].level == "off" and cfg.rules["og-title-length"].options == {"max_length": 70}
    assert [o.paths for o in cfg.overrides] == [["/legal/*"], ["/docs/*"]]
