"""mkdocs, run for threatgraph: `build --strict` in a child process (a warning fails it),
started early so its imports overlap threatgraph's own work, or the preview server in this
process (so stopping threatgraph stops it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from threatgraph.errors import EnvironmentProblem

STOP_GRACE = 1.0  # seconds a worker told to stop has to end itself (and its helper) before it is killed


class _Worker:
    """One worker process (site/mkdocs_worker.py), its output kept in a file, never in a pipe
    nobody reads while the diagrams are drawn."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "threatgraph.site.mkdocs_worker", str(os.getpid())],  # noqa: S603 - our own worker
                                     stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     env=_env())

    def send(self, job: dict[str, object]) -> None:
        if self.proc.stdin is not None:  # always: the child was made with a pipe
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.close()

    def finish(self) -> int:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().strip()

    def stop(self) -> None:
        """Ended now: asked first (a lead sharing its build kills and reaps its forked helper
        before it goes, site/mkdocs_split.py), killed if it has not gone within a second."""
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            self.finish()
        finally:
            self.log.close()


def workers() -> int:
    """How many processes share a site build: two where a second core can take half of the
    pages (site/mkdocs_split.py) and the installed mkdocs is the one that module knows;
    THREATGRAPH_SITE_WORKERS=1 keeps it to one."""
    if os.environ.get("THREATGRAPH_SITE_WORKERS", "").strip() == "1":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2:
        return 1
    from threatgraph import installed

    mkdocs, material = installed.version("mkdocs") or "", installed.version("mkdocs-material") or ""
    return 2 if mkdocs.startswith("1.6.") and material.startswith("9.") else 1


def can_fork_helper() -> bool:
    """Whether a worker can fork the helper that shares its build (site/mkdocs_split.py): where
    the kernel ends a process with its parent, so the forked helper needs no watching thread."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class Mkdocs:
    """One `mkdocs build --strict`, in one worker process or shared by two (each renders half
    of the pages, site/mkdocs_split.py), started when made: `run` says what to build and
    returns at once, `wait` waits for it and raises on failure. Left without `run` (an error
    earlier on), the workers end with nothing done; an exception inside the `with` stops them.
    Shared by two on Linux, one worker is started and forks the other (`fork`) where their
    work parts; elsewhere both are started."""

    def __init__(self, processes: int | None = None, fork: bool | None = None) -> None:
        self.out: Path | None = None
        self.scratch: Path | None = None  # the helper's result (and its site, when not forked), beside the site
        count = processes if processes is not None else workers()
        self.shared = count > 1
        self.fork = self.shared and (can_fork_helper() if fork is None else fork)
        self.workers = [_Worker() for _ in range(1 if self.fork else count)]

    def run(self, src: Path, out: Path, share: bool = True) -> None:
        """Build `src` into `out`; `share=False` builds in the first worker alone and stops the
        second, when this process has more left to do than mkdocs and needs the core itself."""
        self.out = out
        job: dict[str, object] = {"config": str(src / "mkdocs.yml"), "site": str(out.resolve())}
        if not self.shared or not share:
            self.workers[0].send(job)
            for idle in self.workers[1:]:
                idle.stop()  # nothing for it to do
            self.workers = self.workers[:1]
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        self.scratch = Path(tempfile.mkdtemp(prefix=".tg-mkdocs-", dir=out.parent)).resolve()
        result, helper_site = str(self.scratch / "result.json"), str(self.scratch / "site")
        if self.fork:  # the helper is forked by the lead and writes into the site itself
            self.workers[0].send({**job, "split": {"role": "lead", "result": result, "fork": True}})
            return
        self.workers[0].send({**job, "split": {"role": "lead", "result": result, "helper_site": helper_site}})
        self.workers[1].send({**job, "site": helper_site, "split": {"role": "helper", "result": result}})

    def wait(self) -> None:
        """The helper first: if it failed, the lead (which waits for it) is stopped."""
        for worker in reversed(self.workers):
            code = worker.finish()
            if code != 0:
                output = worker.output()
                for other in self.workers:
                    other.stop()
                self._clean()
                _failed(output, self.out)
        self._clean()

    def _clean(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def __enter__(self) -> Mkdocs:
        return self

    def stop(self) -> None:
        """End the workers now (each killed and waited for) and remove the helper's folder:
        after this nothing of theirs writes into the output's staging folder."""
        try:
            for worker in self.workers:
                worker.stop()
        finally:
            self._clean()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.stop()
            return
        try:
            for worker in self.workers:
                worker.finish()
                worker.log.close()
        finally:
            self._clean()


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
