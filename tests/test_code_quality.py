"""The code stays lint-clean and type-checks: ruff (including S307, no eval) over the package,
tests and benchmarks, and mypy over the package, with the settings in pyproject.toml."""

import subprocess
import sys

from .conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    r = _run("ruff", "check", "--no-cache", "src", "tests", "benchmarks", "model")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_finds_nothing():
    r = _run("mypy", "--no-incremental", "src")
    assert r.returncode == 0, r.stdout + r.stderr
