"""action.yml and the README's workflow validate against GitHub's published schemas
(check-jsonschema ships them: no network), and the action declares every input the docs promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
INPUTS = {"target", "base-url", "fail-under", "fail-on", "config", "render", "max-pages", "baseline", "formats",
          "comment", "python-version", "version"}


def _check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


def _readme_workflow() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("A complete workflow", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README's complete workflow is missing"
    return match.group(1)


def test_action_yml_validates_against_the_github_actions_schema() -> None:
    result = _check("vendor.github-actions", ROOT / "action.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_workflow_validates_and_uses_the_action(tmp_path: Path) -> None:
    text = _readme_workflow()
    workflow = tmp_path / "social-previews.yml"
    workflow.write_text(text)
    result = _check("vendor.github-workflows", workflow)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = YAML(typ="safe").load(text)["jobs"]["smo-audit"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    audit = next(s for s in steps if "smo-audit" in s.get("uses", ""))
    assert {"target", "baseline"} <= set(audit["with"])


def test_a_broken_action_is_refused_by_the_checker(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    broken.write_text((ROOT / "action.yml").read_text().replace("using: composite", "using: compost"))
    assert _check("vendor.github-actions", broken).returncode != 0


def test_the_action_declares_the_documented_inputs_and_outputs() -> None:
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) >= INPUTS
    assert action["inputs"]["target"]["required"] is True
    assert set(action["outputs"]) == {"score", "passed", "report-path", "sarif-path"}
    assert all("value" in spec for spec in action["outputs"].values())  # composite outputs need value:
    # Inputs reach the shell through env only: never `${{ inputs.x }}` pasted into a script.
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_readme_shard_matrix_validates_and_merges_every_shard(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text().split("### A site past one machine", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the README's sharded workflow is missing"
    workflow = tmp_path / "shards.yml"
    workflow.write_text(match.group(1))
    result = _check("vendor.github-workflows", workflow)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = YAML(typ="safe").load(match.group(1))["jobs"]
    shards = jobs["shard"]["strategy"]["matrix"]["k"]
    runs = " ".join(s.get("run", "") for s in jobs["shard"]["steps"])
    assert f"--shard ${{{{ matrix.k }}}}/{len(shards)}" in runs and shards == list(range(1, len(shards) + 1))
    assert jobs["merge"]["needs"] == "shard"
    assert any("report --merge part-*.ndjson" in s.get("run", "") for s in jobs["merge"]["steps"])
