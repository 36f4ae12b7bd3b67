"""What every command shares: the input flags, configuration from the command line, the one
place that runs the pipeline and prints its warnings, and writing a report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatgraph.errors import InputError, Problem
from threatgraph.vocabulary import SEVERITIES

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_INTERNAL, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Command:
    """One subcommand: its flags, and the function that runs it from parsed arguments (which
    calls the command's typed function)."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    inputs: bool = True  # takes --config, --model, --threats, --source ...
    policy_flags: bool = True  # takes --fail-on and --min-coverage (only commands that judge)
    writes: bool = False  # writes files (so an input error can say that nothing was written)
    skip: frozenset[str] = frozenset()  # input flags that would do nothing here (not offered in its help)
    # Whether a run with these arguments outlives its first result (a watch, a preview server, a
    # language server): such a process keeps ordinary collection (process.short_lived).
    lives_on: Callable[[argparse.Namespace], bool] = lambda _args: False


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("must be above 0 and at most 86400 seconds")
    return value


EVIDENCE_FLAGS = frozenset({"--source", "--source-ref", "--no-evidence"})  # for commands that read no evidence
MODEL_FLAGS = frozenset({"--model", "--model-timeout"})  # for commands that never load the model


def input_flags(p: argparse.ArgumentParser, policy: bool, skip: frozenset[str] = frozenset()) -> None:
    """The input flags a command takes: all of them but those it would ignore."""
    g = p.add_argument_group("inputs (override [tool.threatgraph])")
    flags: list[tuple[str, dict[str, Any]]] = [
        ("--config", {"type": Path, "help": "pyproject.toml to read (default: found walking up)"}),
        ("--model", {"help": "model file, or module:attribute"}),
        ("--threats", {"help": "threat catalog folder"}),
        ("--mitigations", {"help": "mitigation catalog folder"}),
        ("--source", {"help": "checkout of the target system, for evidence (env: THREATGRAPH_SOURCE)"}),
        ("--source-ref", {"help": "git revision of --source to read, without touching its work tree"}),
        ("--no-evidence", {"action": "store_true", "help": "skip evidence checks (fast pre-commit mode)"}),
        ("--model-timeout", {"type": seconds, "metavar": "SECONDS",
                             "help": "how long the model file may take to load (default 60; [tool.threatgraph] model_timeout)"}),
    ]
    if policy:
        flags += [("--fail-on", {"choices": [*SEVERITIES, "never"],
                                 "help": "lowest severity of an unmitigated pair that fails the policy"}),
                  ("--min-coverage", {"type": float, "help": "minimum coverage ratio, 0..1"})]
    for flag, options in flags:
        if flag not in skip:
            g.add_argument(flag, **options)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """What the command line sets over [tool.threatgraph]: passed on explicitly (to the preview
    server's rebuilds too), never through the environment."""
    policy: dict[str, Any] = {}
    if getattr(args, "fail_on", None):
        policy["fail_on"] = args.fail_on
    if getattr(args, "min_coverage", None) is not None:
        policy["min_coverage"] = args.min_coverage
    # A path given on the command line is relative to where the command runs, like --out.
    given = getattr(args, "source", None)
    source = str(Path(given).expanduser().absolute()) if given else None
    found: dict[str, Any] = {"model": getattr(args, "model", None), "threats": args.threats, "mitigations": args.mitigations,
                             "source": source, "source_ref": getattr(args, "source_ref", None),
                             "model_timeout": getattr(args, "model_timeout", None)}
    if policy:
        found["policy"] = policy
    return found


def config_of(args: argparse.Namespace) -> Any:
    from threatgraph.config import load_config

    config = load_config(Path.cwd(), overrides(args), explicit=args.config)
    if getattr(args, "source_ref", None) and not config.source:
        raise InputError([Problem("command line", 0, 0, "--source-ref needs --source (the repository to read)")])
    return config


def begin_model(config: Any) -> None:
    """Start the model's load (its child forked) before the pipeline is imported, with the
    arguments the pipeline will use: the model runs while this process imports the rest of
    threatgraph, a fifth of a second of a cold check. Collected by the pipeline's load_model."""
    from threatgraph.catalog.scan import uses_conditions
    from threatgraph.model.loader import begin

    facts = bool(config.packs) or uses_conditions(config.path(config.threats))
    begin(config.model, config.root, config.model_timeout, facts=facts, cache=config.model_cache)


def print_warnings(warnings: Any) -> None:
    for w in warnings:
        print(w.format(), file=sys.stderr)


def assessed(config: Any, use_evidence: bool) -> Any:
    """The one place a command runs the whole pipeline: the Assessment, warnings printed."""
    from threatgraph import pipeline

    a = pipeline.check(config, use_evidence=use_evidence)
    print_warnings(a.warnings)
    return a


def emit(text_out: str | bytes, output: Path | None) -> None:
    """A report to standard output, or to a file (atomically; a pipe or device as a stream)."""
    if output is None:
        if isinstance(text_out, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text_out)
        else:
            sys.stdout.write(text_out)
        return
    from threatgraph.fsutil import write_atomic

    write_atomic(output, text_out)
    print(f"wrote {output}", file=sys.stderr)


def summary(fmt: str, written: list[str], passed: bool, coverage: float, violations: list[str],
            **extra: object) -> None:
    """What `report` and `build` say when they are done."""
    import json

    if fmt == "json":
        sys.stdout.write(json.dumps({"written": written, "policy": {"passed": passed, "violations": violations},
                                     "coverage": coverage, **extra}, indent=2) + "\n")
        return
    for path in written:
        print(f"wrote {path}")
    print(f"policy: {'passed' if passed else 'FAILED'}; coverage {coverage:.1%}")
