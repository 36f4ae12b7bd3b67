"""Load a model from a process that runs threads (the language server): through a fresh
interpreter, never by forking the threaded process, and never with the model's output on the
caller's standard output, which there is the protocol stream.

The fresh interpreter runs the ordinary load (a forked child with the time limit, whatever the
model prints sent to standard error) and sends the snapshot back as the snapshot cache's
tagged JSON: no pickle crosses from a process that ran the model's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from threatgraph.errors import InputError, Problem
from threatgraph.model import cache as model_cache
from threatgraph.model.loader import load_model
from threatgraph.model.snapshot import LoadedModel

_STARTUP = 30.0  # seconds an interpreter may take to start and import, beyond the model's own limit


def load_model_out_of_process(spec: str, root: Path, timeout: float, facts: bool, cache: bool | None) -> LoadedModel:
    """load_model(...) in a fresh interpreter; its result, or InputError with its problems."""
    request = json.dumps({"spec": spec, "root": str(root), "timeout": timeout, "facts": facts, "cache": cache})
    try:
        done = subprocess.run([sys.executable, "-m", "threatgraph.model.out_of_process"], input=request.encode(),
                              capture_output=True, timeout=timeout + _STARTUP, cwd=root, check=False,
                              env={**os.environ, "PYTHONSAFEPATH": "1"})
    except subprocess.TimeoutExpired:
        raise InputError([Problem(spec.partition(":")[0], 1, 1, f"the model did not finish loading within {timeout:g} s",
                                  "raise model_timeout in [tool.threatgraph] if it really needs longer")]) from None
    sys.stderr.buffer.write(done.stderr[-65536:])  # what the model printed, for the editor's log
    try:
        answer = json.loads(done.stdout)
        if "problems" in answer:
            raise InputError([Problem(*p) for p in answer["problems"]])
        loaded: LoadedModel = model_cache.decode(answer["loaded"])
        return loaded
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError([Problem(spec.partition(":")[0], 1, 1, f"the model's loader stopped without a snapshot "
                                  f"(exit status {done.returncode}: {type(exc).__name__})",
                                  "run `threatgraph check` in a terminal to see what the model does")]) from None


def _serve() -> int:
    request: dict[str, Any] = json.loads(sys.stdin.read())
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but the answer reaches the caller's pipe
    try:
        loaded = load_model(request["spec"], Path(request["root"]), request["timeout"], facts=request["facts"],
                            cache=request["cache"])
        answer: dict[str, Any] = {"loaded": model_cache.encode(loaded)}
    except InputError as exc:
        answer = {"problems": [[p.file, p.line, p.col, p.message, p.hint, p.severity] for p in exc.problems]}
    except model_cache.Uncacheable as exc:
        answer = {"problems": [[request["spec"], 1, 1, f"the model's snapshot holds a value threatgraph cannot send: {exc}",
                                "", "error"]]}
    out.write(json.dumps(answer, allow_nan=False))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
