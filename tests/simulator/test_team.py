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
