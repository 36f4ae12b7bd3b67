"""Run the model file in a forked child process and bring back only its snapshot.

A model file is code, and it runs as code; what it may not do is corrupt threatgraph's own
contract. In the child, whatever the model prints goes to standard error (so `--format json`
stays parseable), `sys.argv` holds only the model's path (so pytm's own command line, which
`tm.process()` parses, sees no threatgraph flags), standard input is empty, and the load has
a time limit. A model that calls `os._exit(0)` ends the child, not threatgraph: the parent sees
no snapshot and reports an input error, so a gate never passes by silence.

Where `fork` is missing, or other threads are running (the preview server), the model is
loaded in this process with standard output redirected to standard error.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

from threatgraph import process
from threatgraph.errors import InputError, Problem, safe_str
from threatgraph.process import without_collection

DEFAULT_TIMEOUT = 60.0
_HEADER = struct.Struct("!Q")


def _proxy(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(items)


def _dumps(value: object) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    table = copyreg.dispatch_table.copy()
    table[MappingProxyType] = lambda m: (_proxy, (dict(m),))
    pickler.dispatch_table = table
    pickler.dump(value)
    return buf.getvalue()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 and sys.stdout at standard error for the duration."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _child(load: Callable[[], Any], write_fd: int, argv0: str) -> None:
    """In the forked child: load, send ("ok", value) / ("input", error) / ("bug", text)."""
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        sys.argv = [argv0]
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            result: tuple[str, Any] = ("ok", load())
        except InputError as exc:
            result = ("input", exc)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as a bug
            result = ("bug", f"{type(exc).__name__}: {safe_str(exc)}")
        try:
            payload = _dumps(result)
        except Exception as exc:  # noqa: BLE001
            payload = _dumps(("bug", f"the model's snapshot could not be sent: {safe_str(exc)}"))
        data = _HEADER.pack(len(payload)) + payload
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(0)


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything the child sends, or None when the deadline passes first. A long wait lets
    the work registered with `process.while_waiting` begin."""
    chunks: list[bytes] = []
    started = time.monotonic()
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            return None
        wake = process.next_idle(now - started)
        ready, _, _ = select.select([fd], [], [], left if wake is None else min(left, wake))
        if not ready:
            process.waited(time.monotonic() - started)
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def run_isolated(load: Callable[[], Any], shown: str, argv0: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """`load()` in a child process (see the module docstring); its result, or InputError."""
    return start_isolated(load, shown, argv0, timeout).result()


class Running:
    """A load under way in its child: `result()` waits for it (within the time limit counted
    from the fork), `cancel()` stops it. Where no child can be forked, the load runs in this
    process when the result is asked for."""

    def __init__(self, load: Callable[[], Any], shown: str, timeout: float, pid: int | None = None,
                 read_fd: int | None = None) -> None:
        self.load, self.shown, self.pid, self.read_fd = load, shown, pid, read_fd
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout

    def result(self) -> Any:
        if self.pid is None or self.read_fd is None:
            with stdout_to_stderr():
                return self.load()
        pid, read_fd = self.pid, self.read_fd
        self.pid = self.read_fd = None
        status = None
        try:
            data = _read_all(read_fd, self.deadline)
            if data is None:
                os.kill(pid, signal.SIGKILL)
                raise InputError([Problem(self.shown, 1, 1, f"the model did not finish loading within {self.timeout:g} s",
                                          "a model file only declares elements; if it really needs longer, raise "
                                          "--model-timeout or model_timeout in [tool.threatgraph]")])
        except BaseException:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            raise
        finally:
            os.close(read_fd)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(pid, 0)
        return _received(data, status, self.shown)

    def cancel(self) -> None:
        """Stop a load whose result is no longer wanted (the child killed and reaped)."""
        if self.pid is None or self.read_fd is None:
            return
        pid, read_fd = self.pid, self.read_fd
        self.pid = self.read_fd = None
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.close(read_fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def start_isolated(load: Callable[[], Any], shown: str, argv0: str, timeout: float = DEFAULT_TIMEOUT) -> Running:
    """Fork the child that runs `load()` and return at once, so this process can go on with
    other work while the model runs."""
    process.settle()
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return Running(load, shown, timeout)
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns (coverage cannot see it)
        os.close(read_fd)
        _child(load, write_fd, argv0)
    os.close(write_fd)
    return Running(load, shown, timeout, pid, read_fd)


def _received(data: bytes, status: int | None, shown: str) -> Any:
    """The child's message: its value, or the InputError or bug it reported."""
    if len(data) < _HEADER.size or len(data) != _HEADER.size + _HEADER.unpack_from(data)[0]:
        how = _status_text(status)
        raise InputError([Problem(shown, 1, 1, f"the model ended the process ({how}) before threatgraph could "
                                  "read it; nothing was assessed",
                                  "a model must not exit the interpreter: remove os._exit(), os.kill() or "
                                  "similar calls from the model file")])
    with without_collection():  # millions of acyclic values: a collection pass would find nothing
        kind, value = pickle.loads(data[_HEADER.size:])  # noqa: S301 - written by our own child, from trusted code
    if kind == "input":
        raise value
    if kind == "bug":
        raise RuntimeError(value)
    return value


def _status_text(status: int | None) -> str:
    if status is None:
        return "unknown status"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def model_argv0(spec: str, root: Path) -> str:
    file_part = spec.partition(":")[0]
    return str(root / file_part) if file_part.endswith(".py") else file_part
