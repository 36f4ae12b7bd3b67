"""The theme's templates compiled before the site's worker knows what to build: Jinja compiles
each template the first time a page uses it (0.11 s of each mkdocs process's build here, for
the 46 templates material reaches from its pages), so the worker compiles them while it waits
for its job (threatgraph is still checking the model), and the helper it forks inherits them.

What is kept is Jinja's own bytecode (a `BytecodeCache`, in memory, never written), each entry
checked by Jinja against its template's source as usual. It is only served to an environment
that would compile exactly what the warm-up compiled: the same Jinja settings, extensions,
policies and the very same filter and test functions (a plugin that adds or replaces a filter
in `on_env` turns it off for that build); otherwise templates compile as they always do. A
template that does not compile in the warm-up (one needing a plugin's filter) is skipped."""

from __future__ import annotations

from typing import Any

ROOTS = ("main.html", "404.html", "sitemap.xml")  # what mkdocs renders: pages, the 404 page, the sitemap
LIMIT = 200  # templates at most: a theme that reaches more is warmed only in part

_OPTIONS = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
            "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
            "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
            "newstyle_gettext")


def signature(env: Any) -> tuple[Any, ...]:
    """Everything of `env` that Jinja's compiler reads, by value or by the identity of its
    objects: two environments with equal signatures compile a template to the same code."""
    def ids(table: Any) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((name, id(obj)) for name, obj in table.items()))

    policies = tuple(sorted((k, id(v) if callable(v) else repr(v)) for k, v in env.policies.items()))
    return (tuple(getattr(env, name, None) for name in _OPTIONS), id(env.finalize), id(env.autoescape),
            id(env.code_generator_class), tuple(sorted((name, id(type(ext))) for name, ext in env.extensions.items())),
            ids(env.filters), ids(env.tests), policies)


class _Warm:
    """The bytecode of the templates compiled ahead, for environments of the same signature."""

    def __init__(self) -> None:
        import jinja2.bccache

        class Cache(jinja2.bccache.BytecodeCache):
            def load_bytecode(inner, bucket: Any) -> None:  # noqa: N805 - Jinja's bucket protocol
                code = self.code.get(bucket.key)
                if code is not None and self.signature is not None and signature(bucket.environment) == self.signature:
                    bucket.bytecode_from_string(code)

            def dump_bytecode(inner, bucket: Any) -> None:  # noqa: N805
                if self.collecting:
                    self.code[bucket.key] = bucket.bytecode_to_string()

        self.cache = Cache()
        self.code: dict[str, bytes] = {}
        self.signature: tuple[Any, ...] | None = None
        self.collecting = False
        self.keep: list[Any] = []  # the warm environment, alive while its objects' identities are compared

    def warm(self, env: Any) -> int:
        """Compile the templates reachable from ROOTS in `env`; how many were compiled."""
        import jinja2
        from jinja2 import meta

        self.keep.append(env)
        self.signature = signature(env)
        seen: set[str] = set()
        todo = list(ROOTS)
        self.collecting = True
        try:
            while todo and len(seen) < LIMIT:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                try:
                    source, filename, _uptodate = env.loader.get_source(env, name)
                    tree = env.parse(source, name, filename)
                    todo.extend(sorted(ref for ref in meta.find_referenced_templates(tree) if ref))
                    bucket = self.cache.get_bucket(env, name, filename, source)
                    bucket.code = env.compile(tree, name, filename)  # as Jinja's loader does, parsed once
                    self.cache.set_bucket(bucket)
                except (jinja2.TemplateError, OSError, UnicodeError, RecursionError):
                    continue  # not there, or needing what only the build adds: compiled by it, if used
        finally:
            self.collecting = False
        if self.signature != signature(env):  # compiling changed the environment: serve nothing
            self.signature = None
        return len(self.code)


_warm = _Warm()


def warm(theme: str = "material") -> int:
    """In the site's worker, before its job: `theme`'s templates compiled, and every theme
    environment mkdocs makes in this process from now on given them; how many templates."""
    try:
        from mkdocs.theme import Theme
    except ImportError:
        return 0
    real = Theme.get_env
    if getattr(real, "threatgraph_warm", False):
        return len(_warm.code)
    try:
        count = _warm.warm(Theme(name=theme).get_env())
    except Exception:  # noqa: BLE001 - an unknown theme or another mkdocs: the build compiles as usual
        return 0

    def get_env(self: Any) -> Any:
        env = real(self)
        if env.bytecode_cache is None:
            env.bytecode_cache = _warm.cache
        return env
    get_env.threatgraph_warm = True  # type: ignore[attr-defined]
    Theme.get_env = get_env  # type: ignore[method-assign]
    return count
