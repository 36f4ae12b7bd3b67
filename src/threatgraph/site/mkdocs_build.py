"""mkdocs, run for threatgraph: `build --strict` in a child process (a warning fails it),
started early so its imports overlap threatgraph's own work, or the preview server in this
process (so stopping threatgraph stops it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from threatgraph.errors import EnvironmentProblem


class Mkdocs:
    """One `mkdocs build --strict` in a child process (site/mkdocs_worker.py), started when
    made: `run` says what to build and returns at once, `wait` waits for it and raises on
    failure. Left without `run` (an error earlier on), the child ends with nothing done; an
    exception inside the `with` stops it. Its output goes to a file, never to a pipe nobody
    reads while the diagrams are drawn."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.out: Path | None = None
        self.proc = subprocess.Popen([sys.executable, "-m", "threatgraph.site.mkdocs_worker", str(os.getpid())],  # noqa: S603 - our own worker
                                     stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     env=_env())

    def run(self, src: Path, out: Path) -> None:
        self.out = out
        if self.proc.stdin is not None:  # always: the child was made with a pipe
            self.proc.stdin.write(json.dumps({"config": str(src / "mkdocs.yml"), "site": str(out.resolve())}) + "\n")
            self.proc.stdin.close()

    def wait(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        code = self.proc.wait()
        if code != 0:
            self.log.seek(0)
            _failed(self.log.read().strip(), self.out)

    def __enter__(self) -> Mkdocs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is not None and self.proc.poll() is None:
                self.proc.kill()
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()
            self.proc.wait()
        finally:
            self.log.close()


def build(src: Path, out: Path) -> None:
    """`mkdocs build --strict`; a warning (a broken link, say) fails the build."""
    with Mkdocs() as mkdocs:
        mkdocs.run(src, out)
        mkdocs.wait()


def _failed(output: str, out: Path | None) -> None:
    for reason in ("No space left on device", "Read-only file system", "Disk quota exceeded", "Permission denied"):
        if reason in output:  # the machine, not the site: say so without mkdocs' traceback
            raise EnvironmentProblem(f"cannot write the site to {out}: {reason}")
    message = [line for line in output.splitlines() if not line.startswith(("Traceback", "  File ", "    "))]
    raise EnvironmentProblem("mkdocs build --strict failed: " + " | ".join(message[-8:]))


def serve(src: Path, dev_addr: str) -> int:
    """Run mkdocs' preview server in this process, so stopping threatgraph stops the server
    (a child process would outlive a terminated parent)."""
    from mkdocs.commands import serve as mkdocs_serve

    os.environ.update({k: v for k, v in _env().items() if k in ("NO_MKDOCS_2_WARNING", "SOURCE_DATE_EPOCH")})
    try:
        mkdocs_serve.serve(config_file=str(src / "mkdocs.yml"), dev_addr=dev_addr, livereload=True)
    except KeyboardInterrupt:
        pass
    return 0


def _env() -> dict[str, str]:
    # No wall-clock time in the output (sitemap dates, gzip headers) unless the user asks for one.
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
