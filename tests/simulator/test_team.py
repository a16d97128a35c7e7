"""The simulator's own config writer and its independence from zsc."""

import ast
import pathlib
import tomllib

import pytest

import zsc.simulator
from zsc.simulator.team import to_toml


def test_to_toml_round_trips_flat_sections():
    sections = {"slack": {"token": 'x"b\\n', "channel": "C1", "n": 3, "f": 0.5, "on": True, "scopes": ["a", "b"]},
                "zendesk": {"group_id": 360000000}}
    assert tomllib.loads(to_toml(sections)) == sections


def test_to_toml_refuses_what_it_cannot_write():
    with pytest.raises(TypeError):
        to_toml({"s": {"nested": {"a": 1}}})


def test_the_simulator_imports_nothing_of_zsc_outside_itself():
    package = pathlib.Path(zsc.simulator.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not (name.startswith("zsc") and not name.startswith("zsc.simulator")), f"{path.name}: {name}"


def test_the_standalone_config_uses_a_throw_away_database(tmp_path):
    import tempfile

    from zsc.simulator import Simulator
    from zsc.simulator.__main__ import config_for, seed

    with Simulator() as sim:
        config = tomllib.loads(config_for(sim, seed(sim), tmp_path))
    assert config["database"]["url"] == f"sqlite:///{tmp_path / 'zsc.db'}"
    assert str(tmp_path).startswith(tempfile.gettempdir())


def test_python_m_zsc_simulator_prints_a_config_with_a_temporary_database():
    import subprocess
    import sys
    import tempfile
    import time

    proc = subprocess.Popen([sys.executable, "-m", "zsc.simulator"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)
    try:
        lines, deadline = [], time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("# Type `help`"):
                break
        config = tomllib.loads("".join(lines))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    url = config["database"]["url"]
    assert url.startswith(f"sqlite:///{tempfile.gettempdir()}/zsc-simulator-")
    assert not pathlib.Path(url.removeprefix("sqlite:///")).parent.exists()  # removed on exit
