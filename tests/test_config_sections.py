"""The hand-written dataclasses in zsc/config/sections.py against the SETTINGS table:
the loader fills one field per setting, so the two must never drift apart."""

from __future__ import annotations

import dataclasses

import pytest

from zsc.config import SECTIONS, Config
from zsc.config.sections import SECTION_CLASSES


def test_every_section_has_a_class():
    assert set(SECTION_CLASSES) == {sec.name for sec in SECTIONS}


@pytest.mark.parametrize("section", SECTIONS, ids=lambda sec: sec.name)
def test_class_has_one_field_per_setting(section):
    cls = SECTION_CLASSES[section.name]
    fields = dataclasses.fields(cls)
    # Same names in table order (the repr follows it), nothing extra, nothing missing.
    assert [f.name for f in fields] == [s.key for s in section.settings]
    for f, s in zip(fields, section.settings):
        assert f.type == s.type.pytype, f"{cls.__name__}.{f.name}: annotate as {s.type.pytype}"
        assert f.repr is not s.secret, f"{cls.__name__}.{f.name}: secrets need field(repr=False), others not"
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING  # the loader sets all
    assert cls.__dataclass_params__.frozen


def test_config_has_one_field_per_section():
    fields = {f.name: f for f in dataclasses.fields(Config)}
    assert list(fields) == [sec.name for sec in SECTIONS] + ["source", "state_dir", "env"]
    for sec in SECTIONS:
        cls = SECTION_CLASSES[sec.name]
        assert fields[sec.name].type == (tuple[cls, ...] if sec.array else cls), sec.name
    assert not fields["env"].repr and not fields["env"].compare  # may hold secrets; not part of equality
    assert Config.__dataclass_params__.frozen
