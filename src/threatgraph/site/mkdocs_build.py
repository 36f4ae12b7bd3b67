"""mkdocs, run for threatgraph: `build --strict` in a subprocess (a warning fails it), or the
preview server in this process (so stopping threatgraph stops it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from threatgraph.errors import EnvironmentProblem


def build(src: Path, out: Path) -> None:
    """`mkdocs build --strict`; a warning (a broken link, say) fails the build."""
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",  # noqa: S603 - our own mkdocs
                           "-f", str(src / "mkdocs.yml"), "-d", str(out.resolve())],
                          capture_output=True, text=True, check=False, env=_env())
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()
        for reason in ("No space left on device", "Read-only file system", "Disk quota exceeded", "Permission denied"):
            if reason in output:  # the machine, not the site: say so without mkdocs' traceback
                raise EnvironmentProblem(f"cannot write the site to {out}: {reason}")
        message = [line for line in output.splitlines() if not line.startswith(("Traceback", "  File ", "    "))]
        raise EnvironmentProblem("mkdocs build --strict failed: " + " | ".join(message[-8:]))


def serve(src: Path, dev_addr: str) -> int:
    """Run mkdocs' preview server in this process, so stopping threatgraph stops the server
    (a child process would outlive a terminated parent)."""
    import os

    from mkdocs.commands import serve as mkdocs_serve

    os.environ.update({k: v for k, v in _env().items() if k in ("NO_MKDOCS_2_WARNING", "SOURCE_DATE_EPOCH")})
    try:
        mkdocs_serve.serve(config_file=str(src / "mkdocs.yml"), dev_addr=dev_addr, livereload=True)
    except KeyboardInterrupt:
        pass
    return 0


def _env() -> dict[str, str]:
    import os

    # No wall-clock time in the output (sitemap dates, gzip headers) unless the user asks for one.
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
