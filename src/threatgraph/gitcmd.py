"""Running git: one place for how threatgraph calls it (git from PATH, arguments as a list and
never through a shell, no terminal prompt). Callers turn a failure into their own error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from threatgraph.errors import EnvironmentProblem


def run_git(repo: Path, *args: str, needed_by: str) -> subprocess.CompletedProcess[bytes]:
    """`git -C repo args...`; EnvironmentProblem, naming `needed_by`, when git is not installed."""
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False,  # noqa: S603,S607
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise EnvironmentProblem(f"git is not installed; {needed_by} needs it") from None
