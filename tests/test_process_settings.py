"""Collection paused for a burst of allocation (process.without_collection): in the console
script's own process what the burst left is frozen, never scanned again; a caller that lives on
(tests, an editor's language server, a library user) keeps ordinary collection of it."""

from __future__ import annotations

import json
import subprocess
import sys

from threatgraph.cli import build_parser
from threatgraph.commands import COMMANDS

PROBE = r"""
import gc, json, sys, weakref
from threatgraph import process
if sys.argv[1] == "short":
    process.short_lived()
class Node:
    pass
with process.without_collection():
    kept = [[i] for i in range(20_000)]
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made inside the burst, then dropped
    cycle = weakref.ref(a)
    del a, b
frozen = gc.get_freeze_count()
gc.collect()
print(json.dumps({"frozen": frozen, "enabled": gc.isenabled(), "cycle_freed": cycle() is None}))
"""


def _probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_a_short_lived_process_freezes_what_the_burst_left():
    doc = _probe("short")
    assert doc["enabled"] and doc["frozen"] >= 20_000
    assert not doc["cycle_freed"]  # frozen with the rest: never scanned (the process ends soon)


def test_a_process_that_lives_on_keeps_collecting_it():
    doc = _probe("library")
    assert doc["enabled"] and doc["frozen"] == 0
    assert doc["cycle_freed"]  # the cycle made inside the burst is found once collection resumes


def test_the_console_script_declares_itself_short_lived(tmp_path):
    probe = ("import atexit, sys; from threatgraph import cli, process; "
             "atexit.register(lambda: print('kept', process._survivors_kept, file=sys.stderr)); "
             "sys.argv = ['threatgraph', 'schema', '--out', sys.argv[1]]; cli.run()")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "schemas")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "kept True" in out.stderr, out.stderr


def test_a_caller_in_python_and_a_command_that_lives_on_keep_collection(tmp_path):
    probe = ("import sys; from threatgraph import cli, process; "
             "code = cli.main(['schema', '--out', sys.argv[1]]); print('kept', process._survivors_kept)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "schemas")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "kept False" in out.stdout, out.stderr
    for argv, lives in ((["check"], False), (["check", "--watch"], True), (["site"], False),
                        (["site", "--serve"], True), (["lsp"], True), (["build"], False)):
        args = build_parser(argv).parse_args(argv)
        assert COMMANDS[argv[0]].lives_on(args) is lives, argv
