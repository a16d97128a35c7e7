"""`zsc config example|reference|readme PATH`: the generated files, through the real
CLI, with no config file anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from zsc.cli import main
from zsc.config import README_END, README_START, render_example, render_readme, render_reference_markdown


def zsc(tmp_path: Path, *args: str):
    # A config path that does not exist: these commands must not read one.
    return CliRunner().invoke(main, ["--config", str(tmp_path / "absent.toml"), "config", *args])


def test_example_prints_the_example_file(tmp_path):
    r = zsc(tmp_path, "example")
    assert (r.exit_code, r.output) == (0, render_example())


def test_reference_prints_the_reference(tmp_path):
    r = zsc(tmp_path, "reference")
    assert (r.exit_code, r.output) == (0, render_reference_markdown())


def test_readme_rewrites_the_section_in_place(tmp_path):
    readme = tmp_path / "README.md"
    stale = f"# Title\n\n## Configuration\n\n{README_START}\nold text\n{README_END}\n\n## Next\n"
    readme.write_text(stale)
    r = zsc(tmp_path, "readme", str(readme))
    assert (r.exit_code, r.output) == (0, "")
    assert readme.read_text() == render_readme(stale)
    assert "old text" not in readme.read_text() and readme.read_text().endswith("## Next\n")


def test_readme_without_markers_is_one_line(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    r = zsc(tmp_path, "readme", str(readme))
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and f"has no {README_START}" in r.output
    assert readme.read_text() == "# Title\n"


def test_readme_missing_file_is_one_line(tmp_path):
    r = zsc(tmp_path, "readme", str(tmp_path / "nope.md"))
    assert r.exit_code == 2
    assert r.output == f"zsc: PATH cannot read {tmp_path / 'nope.md'}: No such file or directory (see zsc config readme --help)\n"


def test_help_does_not_import_the_config_package():
    """`zsc --help` stays fast: the config group imports zsc.config only when it runs."""
    code = "import sys, zsc.cli; print('zsc.config' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
