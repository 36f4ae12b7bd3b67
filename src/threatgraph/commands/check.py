"""`threatgraph check`: assess coverage; exit 1 when the policy fails."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from threatgraph.commands import formats
from threatgraph.commands.base import EXIT_INPUT, EXIT_OK, EXIT_POLICY, Command, assessed, begin_model, config_of, emit


def check(config: Any, *, fmt: str = "text", output: Path | None = None, base: str | None = None,
          use_evidence: bool = True, since: str | None = None, attribution: bool = True) -> int:
    from threatgraph import pipeline

    a = assessed(config, use_evidence)
    if since and a.drift:
        a = attribute_drift(config, a, since)
    elif a.drift and config.source_ref and attribution:
        from threatgraph import pipeline
        from threatgraph.history import attribute

        src = pipeline.source_path(config)
        if src is not None:  # a git source: name the commit that broke each control, by bisection
            a = attribute(a, src, config.source_ref)
    if base:
        from threatgraph import diff

        change = diff.compare_revisions(config, base, None, use_evidence=use_evidence)
        a = pipeline.judge(a, config.policy, change)
    if fmt == "text":
        from threatgraph.render import text

        out = text.render(a, colour=output is None and text.use_colour(sys.stdout))
    else:
        out = formats.render(formats.CHECK, fmt, a)
    emit(out, output)
    return EXIT_OK if a.passed else EXIT_POLICY


def watch(args: argparse.Namespace) -> int:
    """`check --watch`: the whole report once, then only what changed in the verdict on every
    save; exits on Ctrl-C with the last run's code."""
    from threatgraph import pipeline, watch
    from threatgraph.errors import InputError, Problem
    from threatgraph.render import text

    if args.format != "text" or args.output or args.base or args.since:
        raise InputError([Problem("command line", 0, 0, "--watch prints what changes as text",
                                  "drop --format, --output, --base and --since, or run without --watch")])

    def say(line: str) -> None:
        print(line, flush=True)

    def first(a: Any) -> None:
        sys.stdout.write(text.render(a, colour=text.use_colour(sys.stdout)))
        sys.stdout.flush()

    w = watch.loop(lambda: config_of(args), lambda c: pipeline.check(c, use_evidence=not args.no_evidence),
                   say, first, lambda line: print(line, file=sys.stderr, flush=True))
    if w.broken or w.last is None:
        return EXIT_INPUT
    return EXIT_OK if w.last.passed else EXIT_POLICY


def attribute_drift(config: Any, a: Any, since: str) -> Any:
    """Name the commit at which each drifted control stopped holding, by replaying the target's
    history from `since` to the checked revision."""
    from threatgraph import pipeline
    from threatgraph.errors import InputError, Problem
    from threatgraph.history import attach

    src = pipeline.source_path(config)
    if src is None:
        raise InputError([Problem("command line", 0, 0, "--since needs --source (a git repository of the target)")])
    return attach(a, src, since, config.source_ref)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=list(formats.CHECK), default="text")
    p.add_argument("--output", type=Path, help="write the report to this file instead of standard output")
    p.add_argument("--base", help="git revision of this project to compare with (policy no_new_unmitigated)")
    p.add_argument("--no-attribution", action="store_true",
                   help="with a git source, do not bisect the commit where each drifted control stopped holding")
    p.add_argument("--watch", action="store_true", help="re-run on every change to the model, catalogs or "
                   "configuration and print only what changed in the verdict (Ctrl-C to stop)")
    p.add_argument("--since", metavar="REV", help="name the commit where each drifted control stopped holding, "
                   "replaying the target's git history from REV (see `threatgraph history`)")


def _run(args: argparse.Namespace) -> int:
    from threatgraph.errors import InputError

    if args.watch:
        return watch(args)
    try:
        config = config_of(args)
        use_evidence = not args.no_evidence

        def run() -> int:
            begin_model(config)  # the model runs while check() imports the pipeline
            return check(config, fmt=args.format, output=args.output, base=args.base,
                         use_evidence=use_evidence, since=args.since, attribution=not args.no_attribution)

        from threatgraph import verdict_cache

        k = verdict_cache.key(config, args, use_evidence)
        replayed = verdict_cache.replay(k, config) if k is not None else None
        if replayed is not None:
            return replayed
        return run() if k is None else verdict_cache.record(k, config, run)
    except InputError as exc:
        if args.format.startswith("sarif") and args.output is not None:  # code scanning still gets an explanation
            from threatgraph.render import sarif

            emit(sarif.failure(list(exc.problems), "target" if args.format == "sarif-target" else "model"), args.output)
        raise
    finally:
        loader = sys.modules.get("threatgraph.model.loader")  # a verdict repeated never imported it (12 ms)
        if loader is not None:
            loader.abandon()


COMMAND = Command("check", "assess coverage; exit 1 when the policy fails", _arguments, _run,
                  lives_on=lambda args: bool(args.watch))
