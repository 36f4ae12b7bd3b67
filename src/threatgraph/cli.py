"""The command line: the only place that reads argv, prints, writes files and picks exit codes.

Exit codes: 0 success (policy holds), 1 policy failed, 2 invalid input or usage, 3 internal error,
4 a tool or the environment stopped the work (full disk, git missing, renderer or mkdocs failing), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from threatgraph import __version__, process
from threatgraph.errors import EnvironmentProblem, InputError, Problem, printable
from threatgraph.fsutil import ENVIRONMENT_ERRNOS

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_INTERNAL, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"threatgraph: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs (override [tool.threatgraph])")
    g.add_argument("--config", type=Path, help="pyproject.toml to read (default: found walking up)")
    g.add_argument("--model", help="model file, or module:attribute")
    g.add_argument("--threats", help="threat catalog folder")
    g.add_argument("--mitigations", help="mitigation catalog folder")
    g.add_argument("--source", help="checkout of the target system, for evidence (env: THREATGRAPH_SOURCE)")
    g.add_argument("--source-ref", help="git revision of --source to read, without touching its work tree")
    g.add_argument("--no-evidence", action="store_true", help="skip evidence checks (fast pre-commit mode)")
    g.add_argument("--fail-on", choices=["info", "low", "medium", "high", "critical", "never"],
                   help="lowest severity of an unmitigated pair that fails the policy")
    g.add_argument("--min-coverage", type=float, help="minimum coverage ratio, 0..1")
    g.add_argument("--model-timeout", type=_seconds, metavar="SECONDS",
                   help="how long the model file may take to load (default 60; [tool.threatgraph] model_timeout)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("must be above 0 and at most 86400 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="threatgraph", description="Threat models as code, with coverage gated in CI.")
    parser.add_argument("--version", action="version", version=f"threatgraph {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("check", help="assess coverage; exit 1 when the policy fails")
    _common(p)
    p.add_argument("--format", choices=["text", "json", "markdown", "sarif"], default="text")
    p.add_argument("--output", type=Path, help="write the report to this file instead of standard output")
    p.add_argument("--base", help="git revision of this project to compare with (policy no_new_unmitigated)")

    p = sub.add_parser("report", help="write coverage.md and coverage.json")
    _common(p)
    p.add_argument("--out", type=Path, help="output folder (default: <out>/reports)")
    p.add_argument("--gate", action="store_true", help="exit 1 when the policy fails")
    p.add_argument("--format", choices=["text", "json"], default="text", help="how to report what was written")

    p = sub.add_parser("build", help="the main job: check, reports, diagrams and site into build/")
    _common(p)
    p.add_argument("--out", type=Path, help="output folder (default: [tool.threatgraph] out, or build)")
    p.add_argument("--gate", action="store_true", help="exit 1 when the policy fails")
    p.add_argument("--renderer", choices=["auto", "dot", "wasm"], default="auto",
                   help="SVG renderer: system dot, embedded Graphviz (wasm), or auto (dot when installed)")
    p.add_argument("--no-site", action="store_true", help="reports and diagrams only")
    p.add_argument("--format", choices=["text", "json"], default="text", help="how to report what was written")

    p = sub.add_parser("site", help="generate the docs site and build it with mkdocs --strict")
    _common(p)
    p.add_argument("--out", type=Path, help="site folder (default: <out>/site)")
    p.add_argument("--renderer", choices=["auto", "dot", "wasm"], default="auto")
    p.add_argument("--serve", action="store_true", help="preview with live reload while you edit the model and catalogs")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address for --serve")

    p = sub.add_parser("list", help="list ids of threats, mitigations, elements, flows, boundaries or data")
    _common(p)
    p.add_argument("what", choices=["threats", "mitigations", "elements", "flows", "boundaries", "data"])
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("explain", help="explain a threat, mitigation, element or flow by id")
    _common(p)
    p.add_argument("id")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("paths", help="invariants, attack paths and single points of failure")
    _common(p)
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")

    p = sub.add_parser("export", help="export the model (graphml, json node-link, Open Threat Model)")
    _common(p)
    p.add_argument("--format", choices=["graphml", "json", "otm"], default="json")
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")

    p = sub.add_parser("diff", help="compare two revisions of this project (threats, coverage, evidence)")
    _common(p)
    p.add_argument("base", help="git revision to compare against (e.g. origin/main)")
    p.add_argument("head", nargs="?", help="git revision (default: the working tree)")
    p.add_argument("--source-base", help="revision of --source to read for the base side (default: as head)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--output", type=Path, help="write the report to this file")

    p = sub.add_parser("schema", help="write the catalogs' JSON Schemas")
    p.add_argument("--out", type=Path, default=Path("schemas"))
    p.add_argument("--check", action="store_true", help="exit 1 if the files on disk are out of date")
    return parser


def _config(args: argparse.Namespace) -> Any:
    from threatgraph.config import load_config

    overrides = _overrides(args)
    config = load_config(Path.cwd(), overrides, explicit=args.config)
    if args.source_ref and not config.source:
        raise InputError([Problem("command line", 1, 1, "--source-ref needs --source (the repository to read)")])
    return config


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """What the command line sets over [tool.threatgraph]: passed on explicitly (to the preview
    server's rebuilds too), never through the environment."""
    policy: dict[str, Any] = {}
    if getattr(args, "fail_on", None):
        policy["fail_on"] = args.fail_on
    if getattr(args, "min_coverage", None) is not None:
        policy["min_coverage"] = args.min_coverage
    # A path given on the command line is relative to where the command runs, like --out.
    source = str(Path(args.source).expanduser().absolute()) if args.source else None
    overrides = {"model": args.model, "threats": args.threats, "mitigations": args.mitigations,
                 "source": source, "source_ref": args.source_ref,
                 "model_timeout": getattr(args, "model_timeout", None)}
    if policy:
        overrides["policy"] = policy
    return overrides


def _print_warnings(warnings: Sequence[Problem]) -> None:
    for w in warnings:
        print(w.format(), file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from threatgraph import pipeline
    from threatgraph.render import json_report, markdown, sarif, text

    config = _config(args)
    a = pipeline.check(config, use_evidence=not args.no_evidence)
    if args.base:
        from threatgraph import diff

        change = diff.compare_revisions(config, args.base, None, use_evidence=not args.no_evidence)
        a = pipeline.judge(a, config.policy, change)
    _print_warnings(a.warnings)
    if args.format == "json":
        out = json_report.render(a)
    elif args.format == "markdown":
        out = markdown.render(a)
    elif args.format == "sarif":
        out = sarif.render(a)
    else:
        out = text.render(a, colour=args.output is None and text.use_colour(sys.stdout))
    _emit(out, args.output)
    return EXIT_OK if a.passed else EXIT_POLICY


def _emit(text_out: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text_out)
    else:
        from threatgraph.fsutil import write_atomic

        write_atomic(output, text_out)
        print(f"wrote {output}", file=sys.stderr)


def _write_reports(a: Any, folder: Path) -> list[Path]:
    from threatgraph.fsutil import StagedDir
    from threatgraph.render import json_report, markdown

    files = {"coverage.json": json_report.render(a), "coverage.md": markdown.render(a)}
    with StagedDir(folder) as stage:
        for name, content in files.items():
            (stage / name).write_text(content, encoding="utf-8")
    return [folder / name for name in files]


def cmd_report(args: argparse.Namespace) -> int:
    from threatgraph import pipeline

    config = _config(args)
    a = pipeline.check(config, use_evidence=not args.no_evidence)
    _print_warnings(a.warnings)
    out = args.out or (config.root / config.out / "reports")
    written = _write_reports(a, out)
    _summary(args.format, [str(p) for p in written], a.passed, float(a.summary["coverage"]), [str(v) for v in a.violations])
    return EXIT_POLICY if (args.gate and not a.passed) else EXIT_OK


def _summary(fmt: str, written: list[str], passed: bool, coverage: float, violations: list[str],
             **extra: object) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps({"written": written, "policy": {"passed": passed, "violations": violations},
                                     "coverage": coverage, **extra}, indent=2) + "\n")
        return
    for path in written:
        print(f"wrote {path}")
    print(f"policy: {'passed' if passed else 'FAILED'}; coverage {coverage:.1%}")


def cmd_build(args: argparse.Namespace) -> int:
    from threatgraph import build

    config = _config(args)
    out = args.out or (config.root / config.out)
    log = (lambda _msg: None) if args.format == "json" else print
    result = build.build_all(config, out, use_evidence=not args.no_evidence, renderer=args.renderer,
                             with_site=not args.no_site, log=log)
    _print_warnings(result.warnings)
    written = [str(out / "reports"), str(out / "diagrams")] + ([] if args.no_site else [str(out / "site")])
    _summary(args.format, written if args.format == "json" else [], result.passed, result.coverage,
             [str(v) for v in result.violations], diagrams=result.diagrams, timings=result.timings)
    return EXIT_POLICY if (args.gate and not result.passed) else EXIT_OK


def cmd_site(args: argparse.Namespace) -> int:
    import tempfile

    from threatgraph import pipeline, site
    from threatgraph.fsutil import StagedDir

    config = _config(args)
    if args.serve:
        from threatgraph import site_hook

        session = site_hook.ServeSession(start=str(Path.cwd()), explicit=str(args.config) if args.config else None,
                                         overrides=_overrides(args), use_evidence=not args.no_evidence,
                                         renderer=args.renderer)
        a = pipeline.check(config, use_evidence=session.use_evidence)
        with tempfile.TemporaryDirectory(prefix="threatgraph-serve-") as tmp:
            src = Path(tmp)
            site.write_sources(a, src, site.site_folder(config), args.renderer,
                               extra=site_hook.serve_extra(config, session))
            print(f"serving on http://{args.dev_addr}/ ; edits to the model and catalogs rebuild the pages")
            return site.serve(src, args.dev_addr)
    a = pipeline.check(config, use_evidence=not args.no_evidence)
    _print_warnings(a.warnings)
    out = args.out or (config.root / config.out / "site")
    with tempfile.TemporaryDirectory(prefix="threatgraph-site-") as tmp, StagedDir(out) as stage:
        site.write_sources(a, Path(tmp), site.site_folder(config), args.renderer)
        site.build(Path(tmp), stage)
    print(f"wrote {out} (open {out}/index.html)")
    return EXIT_OK


def cmd_paths(args: argparse.Namespace) -> int:
    from threatgraph import pipeline
    from threatgraph.render import paths

    a = pipeline.check(_config(args), use_evidence=not args.no_evidence)
    _print_warnings(a.warnings)
    render = {"json": paths.render_json, "markdown": paths.render_markdown, "text": paths.render_text}[args.format]
    sys.stdout.write(render(a))
    broken = a.analysis is not None and any(not i.holds for i in a.analysis.invariants)
    return EXIT_POLICY if broken else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from threatgraph import pipeline
    from threatgraph.render import export, otm

    config = _config(args)
    if args.format == "otm":
        text_out = otm.render(pipeline.check(config, use_evidence=not args.no_evidence))
    else:
        text_out = export.render(pipeline.load_inputs(config).model, args.format)
    if args.out:
        _emit(text_out, args.out)
    else:
        sys.stdout.write(text_out)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from threatgraph import diff

    config = _config(args)
    change = diff.compare_revisions(config, args.base, args.head, use_evidence=not args.no_evidence,
                                    source_base=args.source_base)
    render = {"json": diff.render_json, "markdown": diff.render_markdown, "text": diff.render_text}[args.format]
    _emit(render(change), args.output)
    return EXIT_POLICY if diff.fails(change, config.policy) else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from threatgraph import pipeline
    from threatgraph.render import listing

    config = _config(args)
    inputs = pipeline.load_inputs(config)
    items = listing.rows(args.what, inputs.model, inputs.catalog)
    if args.format == "json":
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(listing.render_text(items))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from threatgraph import pipeline
    from threatgraph.render import explain

    config = _config(args)
    a = pipeline.check(config, use_evidence=not args.no_evidence)
    data = explain.explain_data(a, args.id)
    if data is None:
        raise InputError([Problem("command line", 1, 1, f"no threat, mitigation, element or flow '{args.id}'",
                                  explain.suggestion(a, args.id))])
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(explain.render_text(data))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from threatgraph.fsutil import write_atomic
    from threatgraph.schemas import render_schemas

    stale = []
    for name, content in render_schemas().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                stale.append(path)
        else:
            write_atomic(path, content)
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} is out of date; run `threatgraph schema`", file=sys.stderr)
    return EXIT_POLICY if stale else EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check, "report": cmd_report, "build": cmd_build, "site": cmd_site, "paths": cmd_paths, "diff": cmd_diff,
    "export": cmd_export, "list": cmd_list,
    "explain": cmd_explain, "schema": cmd_schema,
}


def main(argv: Sequence[str] | None = None) -> int:
    process.configure()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"threatgraph: {errors} error(s) in the inputs; nothing was written", file=sys.stderr)
        return EXIT_INPUT
    except EnvironmentProblem as exc:
        print(f"threatgraph: {printable(exc)}; previous outputs are unchanged", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        print("threatgraph: interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.errno in ENVIRONMENT_ERRNOS:
            print(f"threatgraph: {printable(exc.strerror)}: {printable(exc.filename or '')}; "
                  "previous outputs are unchanged", file=sys.stderr)
            return EXIT_ENVIRONMENT
        return _internal(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in threatgraph, not bad input
        return _internal(exc)


def _internal(exc: Exception) -> int:
    if os.environ.get("THREATGRAPH_DEBUG"):
        raise exc
    print(f"threatgraph: internal error: {type(exc).__name__}: {printable(exc)}\n"
          "  set THREATGRAPH_DEBUG=1 for a traceback, and please report it", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
