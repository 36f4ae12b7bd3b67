"""Commands are typed functions in their own modules, run without argv; the CLI only parses and
dispatches, and each subcommand's help offers only the flags it uses."""

from __future__ import annotations

import json

import pytest

from threatgraph.cli import build_parser
from threatgraph.commands import COMMANDS, formats
from threatgraph.commands.check import check
from threatgraph.commands.listing import list_ids
from threatgraph.config import load_config


def test_check_runs_without_argv(project, capsys):
    config = load_config(project.root)
    code = check(config, fmt="json", use_evidence=False)
    doc = json.loads(capsys.readouterr().out)
    assert code == (0 if doc["policy"]["passed"] else 1) and doc["summary"]["pairs"] > 0
    assert list_ids(config, "flows", fmt="json") == 0
    assert {row["id"] for row in json.loads(capsys.readouterr().out)} >= {"login", "app_to_db"}


def _flags(command: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {opt for action in sub.choices[command]._actions for opt in action.option_strings}


@pytest.mark.parametrize("command", ["list", "explain", "export", "paths"])
def test_commands_that_do_not_judge_take_no_policy_flags(command):
    flags = _flags(command)
    assert "--fail-on" not in flags and "--min-coverage" not in flags and "--model" in flags


def test_format_choices_come_from_the_registry():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command, table in (("check", formats.CHECK), ("paths", formats.PATHS), ("diff", formats.DIFF),
                           ("export", formats.EXPORT)):
        fmt = next(a for a in sub.choices[command]._actions if "--format" in a.option_strings)
        assert list(fmt.choices) == list(table)
        for f in table.values():
            assert callable(f.load())
    assert set(COMMANDS) == set(sub.choices)
