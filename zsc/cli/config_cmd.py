"""`zsc config example|reference|readme PATH`: the files generated from the settings
table. None of them reads a config file; zsc.config is imported only when a command
runs, so `zsc --help` stays fast."""

from __future__ import annotations

from pathlib import Path

import click

from zsc.cli import main


@main.group("config")
def config_group() -> None:
    """Print or refresh the documentation generated from the settings table
    (zsc/config/settings.py). Needs no config file."""


@config_group.command("example")
def example_cmd() -> None:
    """Print config.example.toml: every setting with its default and notes."""
    from zsc.config import render_example

    click.echo(render_example(), nl=False)


@config_group.command("reference")
def reference_cmd() -> None:
    """Print docs/config-reference.md."""
    from zsc.config import render_reference_markdown

    click.echo(render_reference_markdown(), nl=False)


@config_group.command("readme")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def readme_cmd(path: Path) -> None:
    """Rewrite the configuration section of the README at PATH in place (between its
    config-reference:start and :end markers)."""
    from zsc.config import README_END, README_START, render_readme

    try:  # not click.Path(exists=True): its message would name the argument "path"
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="PATH") from None
    _, start, rest = text.partition(README_START)
    if not start or README_END not in rest:
        # render_readme would fail with a bare ValueError: say what is missing instead.
        raise click.BadParameter(f"has no {README_START} … {README_END} markers; add them where the section goes",
                                 param_hint="PATH")
    try:
        path.write_text(render_readme(text), encoding="utf-8")
    except OSError as e:
        raise click.BadParameter(f"cannot write {path}: {e.strerror}", param_hint="PATH") from None
