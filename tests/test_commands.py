"""Commands are typed functions in their own modules, run without argv; the CLI only parses and
dispatches, and each subcommand's help offers only the flags it uses."""

from __future__ import annotations

import json
import subprocess
import sys

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


@pytest.mark.parametrize("command, absent", [
    ("list", {"--source", "--source-ref", "--no-evidence"}),  # ids from the model and catalogs: no evidence read
    ("validate", {"--model", "--model-timeout", "--source", "--source-ref", "--no-evidence"}),  # catalogs alone
    ("history", {"--no-evidence"}),  # replaying evidence is all it does
    ("diff", {"--fail-on", "--min-coverage"}),  # judged by no_new_unmitigated alone
])
def test_help_offers_no_flag_the_command_would_ignore(command, absent):
    assert not absent & _flags(command)
    assert "--threats" in _flags(command)


def test_commands_that_read_evidence_keep_the_source_flags():
    for command in ("check", "explain", "paths", "export", "report", "build", "site", "diff"):
        assert {"--source", "--source-ref", "--no-evidence"} <= _flags(command), command


def test_format_choices_come_from_the_registry():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command, table in (("check", formats.CHECK), ("paths", formats.PATHS), ("diff", formats.DIFF),
                           ("export", formats.EXPORT)):
        fmt = next(a for a in sub.choices[command]._actions if "--format" in a.option_strings)
        assert list(fmt.choices) == list(table)
        for f in table.values():
            assert callable(f.load())
    assert set(COMMANDS) == set(sub.choices)


def test_running_one_command_imports_no_other_command(project):
    """A command's module is imported when it runs; help lists every command, so imports all."""
    probe = ("import json, sys; from threatgraph.cli import main; code = main(sys.argv[1:]); "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('threatgraph.commands.'))), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", probe, "validate"], cwd=project.root, capture_output=True,
                         text=True, timeout=120)
    loaded = json.loads(run.stderr.strip().splitlines()[-1])
    assert run.returncode == 0 and "threatgraph.commands.validate" in loaded, run.stderr
    assert not {f"threatgraph.commands.{m}" for m in ("build", "site", "lsp", "check", "history")} & set(loaded)
    helped = subprocess.run([sys.executable, "-m", "threatgraph", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert helped.returncode == 0 and all(name in helped.stdout for name in COMMANDS)


def test_a_mistyped_command_is_refused_with_every_name(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser(["chek"]).parse_args(["chek"])
    assert exc.value.code == 2 and "'check'" in capsys.readouterr().err


def test_build_shows_its_stages_on_a_terminal_only(project, monkeypatch, tmp_path):
    """On a terminal one status line names each stage and is cleared at the end; not a
    terminal, or in CI, nothing is written; a non-empty NO_COLOR drops the dimming."""
    import io

    from threatgraph import build as builder
    from threatgraph.commands.build import terminal_progress
    from threatgraph.config import load_config

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = Tty()
    builder.build_all(load_config(project.root), tmp_path / "out", use_evidence=False, with_site=False,
                      progress=terminal_progress(tty))
    text = tty.getvalue()
    assert "threatgraph build: checking the model" in text and "drawing the diagrams" in text
    assert "\x1b[2m" in text and text.endswith("\r\x1b[2K")  # cleared at the end
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Tty()
    terminal_progress(plain)("writing the reports")
    assert "\x1b[2m" not in plain.getvalue()
    monkeypatch.setenv("NO_COLOR", "")  # empty: colour stays (no-color.org)
    dimmed = Tty()
    terminal_progress(dimmed)("writing the reports")
    assert "\x1b[2m" in dimmed.getvalue()
    monkeypatch.setenv("CI", "true")
    quiet = Tty()
    terminal_progress(quiet)("writing the reports")
    assert quiet.getvalue() == ""
    monkeypatch.delenv("CI")
    pipe = io.StringIO()  # not a terminal
    terminal_progress(pipe)("writing the reports")
    assert pipe.getvalue() == ""


def test_validate_reads_the_catalogs_without_running_the_model(project, run):
    """The pre-commit hook's command: a model that would fail to load is never run; a broken
    catalog is a located error, exit 2."""
    project.write("model.py", "raise SystemExit('the model must not run')\n")
    r = run("validate", cwd=project.root)
    assert r.code == 0 and "catalogs valid: 3 threats, 3 mitigations" in r.out
    project.write("mitigations/main.yaml", "mitigations:\n  - id: M-TLS\n    title: TLS\n    status: done\n")
    r = run("validate", cwd=project.root)
    assert r.code == 2 and "mitigations/main.yaml:4:" in r.err and "'done' is not a valid status" in r.err
    assert run("check", "--no-evidence", cwd=project.root).code == 2  # check still loads (and refuses) the model
