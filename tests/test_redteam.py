"""Regression tests for the outside red team's breaks (issue 13), one or more per break, each
on the reproduction the review gave: a 3-element project (user -> web -> db), one threat on
every flow, one mitigation whose regex evidence passes on src/conf/a.conf."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from threatgraph.evidence.glob import compile_glob, glob_problem
from threatgraph.evidence.redact import redact
from threatgraph.evidence.source import DirSource, SourceError
from threatgraph.render.escape import md, visible
from threatgraph.render.pages import page, slug

from .conftest import REPO

MODEL = '''
from pytm import TM, Boundary, Process, Datastore, ExternalEntity, Dataflow
tm = TM("three")
net = Boundary("Internet")
user = ExternalEntity("User", inBoundary=net)
web = Process("Web")
db = Datastore("DB")
user_to_web = Dataflow(user, web, "request", protocol="HTTPS", dstPort=443)
web_to_db = Dataflow(web, db, "query", protocol="SQL", dstPort=5432)
'''
THREATS = '''
threats:
  - id: T-ALL
    title: Tampering with any flow
    stride: [tampering]
    severity: high
    applies_to: [{flows: {id: "*"}}]
    mitigations: [M-CONF]
'''
MITIGATIONS = '''
mitigations:
  - id: M-CONF
    title: Configured
    status: implemented
    evidence:
      - kind: regex
        proves: the configuration enables it
        path: {path}
        pattern: {pattern}
'''
PYPROJECT = '''
[tool.threatgraph]
model = "model.py"
threats = "threats"
mitigations = "mitigations"
source = "src"

[tool.threatgraph.policy]
fail_on = "critical"
'''


def mkproj(root: Path, path: str = "conf/a.conf", pattern: str = "enabled", model: str = MODEL,
           threats: str = THREATS) -> Path:
    files = {"pyproject.toml": PYPROJECT, "model.py": model, "threats/t.yaml": threats,
             "mitigations/m.yaml": MITIGATIONS.format(path=json.dumps(path), pattern=json.dumps(pattern)),
             "src/conf/a.conf": "feature enabled\n"}
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def one_item(root: Path, item: str) -> None:
    """Replace the project's mitigation with one implemented mitigation holding this evidence item."""
    (root / "mitigations/m.yaml").write_text("mitigations:\n  - {id: M-CONF, title: c, status: implemented, "
                                             f"evidence: [{item}]}}\n")


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
        stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """threatgraph in a fresh process, as CI runs it (real stdout, real exit code)."""
    return subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=stdin)


def evidence_of(doc: dict) -> dict:
    return next(m for m in doc["mitigations"] if m["id"] == "M-CONF")["evidence"][0]


# 1. VCS metadata and secrets ----------------------------------------------------------------

TOKEN_CONFIG = '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA==\n'


def test_explicit_git_path_is_refused_at_load(tmp_path, run):
    root = mkproj(tmp_path / "p", path=".git/config", pattern="basic \\\\S+")
    (root / "src/.git").mkdir()
    (root / "src/.git/config").write_text(TOKEN_CONFIG)
    r = run("check", cwd=root)
    assert r.code == 2 and "mitigations/m.yaml:" in r.err and "version-control metadata" in r.err
    assert "eC1hY2Nl" not in r.out + r.err


@pytest.mark.parametrize("path", [".GIT/config", "sub/.hg/hgrc", ".svn/entries"])
def test_every_vcs_folder_in_any_case_is_refused(tmp_path, run, path):
    root = mkproj(tmp_path / "p", path=path)
    r = run("check", cwd=root)
    assert r.code == 2 and "version-control metadata" in r.err


def test_symlink_into_git_and_globs_never_read_it(tmp_path):
    src = tmp_path / "src"
    (src / ".git").mkdir(parents=True)
    (src / ".git/config").write_text(TOKEN_CONFIG)
    (src / "innocent.conf").symlink_to(".git/config")
    tree = DirSource(src)
    assert tree.select("**") == ["innocent.conf"]  # listed (a link to a file), but reading refuses it
    with pytest.raises(SourceError, match="version-control metadata"):
        tree.read("innocent.conf")


def test_git_source_never_lists_vcs_folders(tmp_path):
    repo = tmp_path / "r"
    (repo / ".hg").mkdir(parents=True)
    (repo / ".hg/hgrc").write_text("[auth]\nx.password = hunter2hunter2\n")
    (repo / "a.conf").write_text("enabled\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], check=True)
    from threatgraph.evidence.source import GitSource

    tree = GitSource(repo, "HEAD")
    assert tree.files() == ["a.conf"] and tree.select("**/hgrc") == []


def test_matched_secrets_are_redacted_in_every_output(tmp_path, run):
    root = mkproj(tmp_path / "p", path="conf/*.conf", pattern="extraheader = .*")
    (root / "src/conf/b.conf").write_text(TOKEN_CONFIG)
    (root / "src/conf/a.conf").unlink()
    outputs = [run("check", "--format", fmt, cwd=root).out for fmt in ("text", "json", "markdown", "sarif")]
    assert run("build", "--no-site", cwd=root).code == 0
    outputs += [p.read_text() for p in (root / "build").rglob("*") if p.is_file()]
    assert all("eC1hY2Nl" not in text for text in outputs)
    assert "basic <redacted>" in json.dumps(evidence_of(json.loads(outputs[1])))


@pytest.mark.parametrize("secret, kept", [
    ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer "),
    ("url = https://user:s3cretpass@github.com/x", "url = https://"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", ""),
    ("token ghp_0123456789abcdefghijABCDEFGHIJ", "token "),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
    ("DB_PASSWORD=correcthorsebattery", "DB_PASSWORD="),
])
def test_redaction_patterns(secret, kept):
    out = redact(secret)
    assert "<redacted>" in out and out.startswith(kept)
    assert redact("--cap-drop NET_RAW and token: ${{ secrets.X }}") == "--cap-drop NET_RAW and token: ${{ secrets.X }}"


# 2. globs in bounded time -------------------------------------------------------------------

def test_hostile_globs_finish_quickly_on_a_deep_tree(tmp_path):
    deep = tmp_path / "src" / "/".join(["d"] * 40)
    deep.mkdir(parents=True)
    for i in range(200):
        (deep / f"f{i}.txt").write_text("x")
    tree = DirSource(tmp_path / "src")
    for pattern in ("**?**?**?**?**?**?**?**?Q", "**/" * 10 + "Q", "*a*a*a*a*a*a*a*a*a*a*b", "**/*" * 20 + "z"):
        t = time.perf_counter()
        assert tree.select(pattern) == []
        assert time.perf_counter() - t < 5  # the old regex matcher took minutes on the first one


def test_firewall_tree_with_the_reported_glob(run, tmp_path):
    root = mkproj(tmp_path / "p")
    one_item(root, '{kind: file_exists, proves: p, path: "**?**?**?**?**?**?**?**?Q"}')
    r = cli("check", "--source", str(REPO), cwd=root, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def _brute(pattern: str, path: str) -> bool:
    """Oracle: exhaustive recursive matching of the documented semantics."""
    from threatgraph.evidence.glob import _one, _parse_segment

    def seg(tokens, name):
        if not tokens:
            return not name
        if tokens[0] == ("*",):
            return any(seg(tokens[1:], name[i:]) for i in range(len(name) + 1))
        return bool(name) and _one(tokens[0], name[0]) and seg(tokens[1:], name[1:])

    def segs(pats, parts):
        if not pats:
            return not parts
        if pats[0] == "**":
            return any(segs(pats[1:], parts[i:]) for i in range(len(parts) + 1))
        return bool(parts) and seg(_parse_segment(pats[0]), parts[0]) and segs(pats[1:], parts[1:])

    return segs(pattern.split("/"), path.split("/"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "*", "?", "**", "/", "[ab]", "[!a]"]), min_size=1, max_size=8).map("".join),
       st.lists(st.sampled_from(["a", "b", "c", "/"]), min_size=1, max_size=8).map("".join))
def test_glob_matcher_equals_brute_force(pattern, path):
    assert compile_glob(pattern).match(path) == _brute(pattern, path)


@pytest.mark.parametrize("pattern, says", [("conf/[]a.conf", "unclosed"), ("[z-a]", "reversed"), ("a[", "unclosed"),
                                           ("x" * 2000, "at most")])
def test_malformed_globs_are_located_catalog_errors(tmp_path, run, pattern, says):
    assert says in (glob_problem(pattern) or "")
    root = mkproj(tmp_path / "p", path=pattern)
    r = run("check", cwd=root)
    assert r.code == 2 and "mitigations/m.yaml:" in r.err and says in r.err


def test_malformed_exclude_glob_is_a_catalog_error(tmp_path, run):
    root = mkproj(tmp_path / "p")
    m = root / "mitigations/m.yaml"
    m.write_text(m.read_text() + "        exclude: ['[z-a]']\n")
    r = run("check", cwd=root)
    assert r.code == 2 and "exclude glob" in r.err and "m.yaml:" in r.err


# 3. special files ---------------------------------------------------------------------------

def test_fifo_is_never_opened_for_reading(tmp_path, run):
    root = mkproj(tmp_path / "p", path="conf/*.conf")
    os.mkfifo(root / "src/conf/pipe.conf")
    r = cli("check", "--format", "json", cwd=root, timeout=60)
    assert r.returncode == 0, r.stderr
    assert evidence_of(json.loads(r.stdout))["result"] == "pass"
    r = run("check", "--format", "json", cwd=mkproj(tmp_path / "q", path="conf/pipe.conf"))
    os.mkfifo(tmp_path / "q/src/conf/pipe.conf")
    r = cli("check", "--format", "json", cwd=tmp_path / "q", timeout=60)
    item = evidence_of(json.loads(r.stdout))
    assert item["result"] == "error" and "not a regular file" in item["detail"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_character_device_is_not_read(tmp_path):
    root = mkproj(tmp_path / "p", path="conf/zero.conf")
    os.mknod(root / "src/conf/zero.conf", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
    r = cli("check", "--format", "json", cwd=root, timeout=60)
    item = evidence_of(json.loads(r.stdout))
    assert item["result"] == "error" and "not a regular file" in item["detail"]


def test_reads_stop_at_the_cap(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 2000)
    with pytest.raises(SourceError, match="cap"):
        DirSource(tmp_path, max_bytes=1000).read("big")


# 4 and 17. --output: streams, devices, modes, the umask -------------------------------------

def test_output_to_dev_stdout_streams_and_keeps_the_device(tmp_path):
    root = mkproj(tmp_path / "p")
    r = cli("check", "--format", "json", "--output", "/dev/stdout", cwd=root)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["policy"]["passed"] is True
    assert os.path.islink("/dev/stdout")  # the old code replaced the /dev/stdout link with a 0600 file
    r = cli("check", "--output", "/dev/null", cwd=root)
    assert r.returncode == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_to_a_process_substitution_fd(tmp_path):
    root = mkproj(tmp_path / "p")
    script = f'{sys.executable} -m threatgraph check --format json --output >(cat > {tmp_path}/got.json); sleep 0.5'
    r = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "got.json").read_text())["policy"]["passed"] is True


def test_output_to_a_folder_or_below_a_file_is_exit_2(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "afile").write_text("x")
    r = run("check", "--output", str(root / "src"), cwd=root)
    assert r.code == 2 and "is a folder" in r.err
    r = run("report", "--out", str(root / "afile" / "sub"), cwd=root)
    assert r.code == 2 and "is a file, not a folder" in r.err
    r = run("check", "--output", str(root / "afile" / "x.json"), cwd=root)
    assert r.code == 2


def test_outputs_honour_the_umask_and_keep_an_existing_mode(tmp_path):
    root = mkproj(tmp_path / "p")
    (root / "out.txt").write_text("old")
    os.chmod(root / "out.txt", 0o644)
    code = ("import os, sys; os.umask(0o022); from threatgraph.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    for args in (["check", "--output", "out.txt"], ["check", "--output", "new.txt"], ["build", "--no-site"]):
        r = subprocess.run([sys.executable, "-c", code, *args], cwd=root, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(root / "out.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(root / "new.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(root / "build").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(root / "build/reports/coverage.json").st_mode) == 0o644


# 5. symlink loops ---------------------------------------------------------------------------

def test_symlink_loop_is_an_error_result_and_the_check_goes_on(tmp_path):
    root = mkproj(tmp_path / "p", path="conf/0.conf")
    (root / "src/conf/0.conf").symlink_to("b.conf")
    (root / "src/conf/b.conf").symlink_to("0.conf")
    r = cli("check", "--format", "json", cwd=root)
    assert r.returncode in (0, 1), r.stderr
    item = evidence_of(json.loads(r.stdout))
    assert item["result"] == "error" and "symlink loop" in item["detail"] and item["file"] == "conf/0.conf"
    root2 = mkproj(tmp_path / "q", path="conf/*.conf")
    (root2 / "src/conf/0.conf").symlink_to("b.conf")
    (root2 / "src/conf/b.conf").symlink_to("0.conf")
    r = cli("check", "--format", "json", cwd=root2)
    assert r.returncode == 0 and evidence_of(json.loads(r.stdout))["result"] == "pass"  # a.conf still matches


# 6. page names are injective ----------------------------------------------------------------

def test_reported_collision_gets_two_pages():
    import hashlib

    other = "T-1-" + hashlib.sha256(b"T.1").hexdigest()[:10]
    assert page("threat", "T.1") != page("threat", other)


@settings(max_examples=2000, deadline=None)
@given(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60))
def test_page_names_are_injective_and_safe(a, b):
    if a != b:
        assert slug(a) != slug(b)
        assert slug(a).lower() != slug(b).lower()  # also on a case-insensitive disk
    name = page("threat", a)
    assert len(name) < 200 and "/" not in name and ".." not in name and not name.startswith(".")
    assert all(ch.isascii() and (ch.isalnum() or ch in "-_.~") for ch in name)


def test_site_build_of_colliding_ids(tmp_path, run):
    import hashlib

    other = "T-1-" + hashlib.sha256(b"T.1").hexdigest()[:10]
    threats = THREATS.replace("T-ALL", "T.1") + THREATS.split("threats:\n")[1].replace("T-ALL", other)
    root = mkproj(tmp_path / "p", threats=threats)
    r = run("build", "--renderer", "wasm", cwd=root)
    assert r.code == 0, r.err
    pages = {p.name for p in (root / "build/site").glob("threat-*.html")}
    assert {f"{page('threat', 'T.1')}.html", f"{page('threat', other)}.html"} <= pages


# 7. the model's own output never reaches machine-readable stdout ------------------------------

NOISY = MODEL + '\nprint("NOISE from the model")\nimport sys\nsys.stdout.write("{not json")\nimport os\nos.write(1, b"RAW")\n'


@pytest.mark.parametrize("args", [["check", "--format", "json"], ["check", "--format", "sarif"],
                                  ["list", "flows", "--format", "json"], ["build", "--no-site", "--format", "json"]])
def test_model_prints_go_to_stderr(tmp_path, args):
    root = mkproj(tmp_path / "p", model=NOISY)
    r = cli(*args, cwd=root)
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)
    assert "NOISE" in r.stderr and "RAW" in r.stderr


def test_pytm_process_call_sees_no_threatgraph_flags(tmp_path):
    root = mkproj(tmp_path / "p", model=MODEL + "\ntm.process()\n")
    r = cli("check", "--format", "json", cwd=root)
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)


def test_model_calling_os_exit_zero_fails_loudly(tmp_path):
    root = mkproj(tmp_path / "p", model=MODEL + "\nimport os\nos._exit(0)\n")
    r = cli("check", cwd=root)
    assert r.returncode == 2 and "before threatgraph could read it" in r.stderr and "os._exit" in r.stderr


def test_model_that_never_returns_times_out(tmp_path):
    root = mkproj(tmp_path / "p", model=MODEL + "\nwhile True:\n    pass\n")
    t = time.perf_counter()
    r = cli("check", "--model-timeout", "2", cwd=root)
    assert r.returncode == 2 and "did not finish loading within 2 s" in r.stderr
    assert time.perf_counter() - t < 60
    (root / "pyproject.toml").write_text(PYPROJECT.replace('source = "src"', 'source = "src"\nmodel_timeout = 1.5'))
    r = cli("check", cwd=root)
    assert r.returncode == 2 and "within 1.5 s" in r.stderr


# 8. dates in UTC ----------------------------------------------------------------------------

def test_expiry_is_judged_in_utc_whatever_the_time_zone(tmp_path):
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    root = mkproj(tmp_path / "p")
    (root / "mitigations/m.yaml").write_text("mitigations:\n  - {id: M-CONF, title: c, status: absent}\n")
    (root / "threats/t.yaml").write_text(textwrap.dedent(THREATS).lstrip() + textwrap.dedent(f'''
        decisions:
          - {{threat: T-ALL, decision: accept, owner: o, justification: j, expires: {today.isoformat()}}}
    '''))
    verdicts = set()
    for tz in ("Etc/GMT+12", "Pacific/Kiritimati", "UTC"):
        r = cli("check", "--format", "json", cwd=root, env={**os.environ, "TZ": tz})
        verdicts.add((r.returncode, json.dumps(json.loads(r.stdout)["summary"], sort_keys=True)))
    assert len(verdicts) == 1


# 9. diff with a symlink leaving the project ---------------------------------------------------

def test_diff_with_a_symlink_outside_the_project(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "outside-link").symlink_to("/etc/passwd")
    (root / "up-link").symlink_to("../../..")
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True)
    r = run("diff", "HEAD", cwd=root)
    assert r.code == 0, r.err
    r = run("check", "--base", "HEAD", cwd=root)
    assert r.code == 0, r.err


# 10. bad input is exit 2, never 3 -----------------------------------------------------------

def test_huge_json_integer_is_an_error_result(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "src/conf/n.json").write_text('{"a": ' + "9" * 5000 + "}")
    one_item(root, '{kind: json_pointer, proves: p, path: conf/n.json, pointer: /a, exists: true}')
    r = run("check", "--format", "json", cwd=root)
    assert r.code == 1
    item = evidence_of(json.loads(r.out))
    assert item["result"] == "error" and "cannot be parsed" in item["detail"]


def test_model_exception_whose_str_raises(tmp_path, run):
    root = mkproj(tmp_path / "p", model=MODEL + textwrap.dedent('''
        class Weird(Exception):
            def __str__(self):
                raise RuntimeError("no")
        raise Weird()
    '''))
    r = run("check", cwd=root)
    assert r.code == 2 and "model.py:" in r.err and "Weird" in r.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_read_only_folder_is_an_environment_error(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "ro").mkdir()
    os.chmod(root / "ro", 0o555)
    r = run("report", "--out", str(root / "ro" / "reports"), cwd=root)
    assert r.code == 4 and "report it" not in r.err and "Traceback" not in r.err


def test_full_disk_is_an_environment_error(tmp_path, run, monkeypatch):
    import errno

    from threatgraph import build

    root = mkproj(tmp_path / "p")

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(build, "write_new", full)
    r = run("build", "--no-site", cwd=root)
    assert r.code == 4 and "No space left on device" in r.err and "report it" not in r.err
    assert not [p for p in root.iterdir() if p.name.startswith(".build.")]  # staging removed


# 11 and 12. normalised swaps, no leaked staging -----------------------------------------------

def test_report_twice_through_dotdot_keeps_the_output(tmp_path, run):
    root = mkproj(tmp_path / "p")
    assert run("report", cwd=root).code == 0
    r = run("report", "--out", "build/reports/../reports", cwd=root)
    assert r.code == 0, r.err
    assert (root / "build/reports/coverage.json").is_file()


def test_stale_staging_is_cleaned_by_the_next_build(tmp_path, run):
    root = mkproj(tmp_path / "p")
    assert run("build", "--no-site", cwd=root).code == 0
    dead = subprocess.run(["true"]).returncode  # noqa: F841 - a pid that has certainly exited:
    proc = subprocess.Popen(["true"])
    proc.wait()
    for name in (".build.abc123", f".build.old.{proc.pid}"):
        (root / name).mkdir()
        (root / name / ".threatgraph-output").write_text(f"made by threatgraph pid={proc.pid}; x\n")
        (root / name / "junk").write_text("x" * 1000)
    (root / ".build.not-ours").mkdir()  # no marker: never touched
    (root / ".build.alive").mkdir()
    (root / ".build.alive" / ".threatgraph-output").write_text(f"made by threatgraph pid={os.getppid()}\n")
    assert run("build", "--no-site", cwd=root).code == 0
    left = sorted(p.name for p in root.iterdir() if p.name.startswith(".build"))
    assert left == [".build.alive", ".build.not-ours"]


def test_killed_build_leaves_staging_that_the_next_build_removes(tmp_path):
    root = mkproj(tmp_path / "p")
    proc = subprocess.Popen([sys.executable, "-m", "threatgraph", "build", "--renderer", "wasm"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".build.") for p in root.iterdir()):
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    r = cli("build", "--no-site", cwd=root)
    assert r.returncode == 0, r.stderr
    assert not [p for p in root.iterdir() if p.name.startswith(".build.")]


def test_out_through_a_symlink_leaves_nothing_behind(tmp_path, run):
    root = mkproj(tmp_path / "p")
    assert run("report", "--out", str(root / "real"), cwd=root).code == 0
    (root / "link").symlink_to("real")
    assert run("report", "--out", str(root / "link"), cwd=root).code == 0
    assert (root / "link").is_symlink() and (root / "real/coverage.json").is_file()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


# 13. terminal escaping ----------------------------------------------------------------------

HIDDEN = ["\u009b", "\u0085", "\u2028", "\u2029", "\u200b", "\u200d", "\ufeff", "\U000e0041", "\u202e", "\x1b"]


def test_visible_reveals_every_hidden_character():
    for ch in HIDDEN:
        assert ch not in visible(f"a{ch}b") and ch not in md(f"a{ch}b")


def test_hidden_characters_in_every_text_output(tmp_path, run):
    evil = "".join(HIDDEN)
    model = MODEL.replace('"Web"', f'"Web{evil}"').replace("tm = TM(\"three\")", f"tm = TM({'three' + evil!r})")
    root = mkproj(tmp_path / "p", model=model, threats=THREATS.replace("Tampering with any flow", json.dumps("T" + evil)[1:-1]))
    texts = [run("check", cwd=root), run("check", "--format", "markdown", cwd=root), run("list", "elements", cwd=root),
             run("list", "threats", cwd=root), run("explain", "web", cwd=root), run("explain", "T-ALL", cwd=root)]
    for r in texts:
        assert r.code in (0, 1), r.err
        assert not any(ch in r.out + r.err for ch in HIDDEN), r.out
    bad = mkproj(tmp_path / "q", path=f"conf/x{evil}")
    r = run("check", cwd=bad)
    assert not any(ch in r.err for ch in HIDDEN)


# 14. GraphML --------------------------------------------------------------------------------

def test_graphml_is_well_formed_with_control_characters(tmp_path, run):
    root = mkproj(tmp_path / "p", model=MODEL.replace('web = Process("Web")', 'web = Process("Web\\x01\\x1b\\x08", '
                                                      'description="a\\x02b", threatgraphId="web\\x03")'))
    r = run("export", "--format", "graphml", cwd=root)
    assert r.code == 0
    names = [d.text for d in ET.fromstring(r.out.encode("utf-8")).iter("{http://graphml.graphdrawing.org/xmlns}data")]
    assert "Web<U+0001><U+001B><U+0008>" in names


# 15. SARIF URIs -----------------------------------------------------------------------------

def test_sarif_uris_are_percent_encoded_and_outside_models_are_absolute(tmp_path, run):
    root = mkproj(tmp_path / "p", path="conf/a b#c%41 <x>.conf", pattern="absent-word")
    m = root / "mitigations/m.yaml"
    m.write_text(m.read_text().replace('"absent-word"', '"nothing"') + "        expect: no_match\n")
    (root / "src/conf/a b#c%41 <x>.conf").write_text("nothing here\n")
    doc = json.loads(run("check", "--format", "sarif", cwd=root).out)
    uris = [loc["physicalLocation"]["artifactLocation"] for res in doc["runs"][0]["results"]
            for loc in res["locations"] + res.get("relatedLocations", [])]
    assert {"uri": "conf/a%20b%23c%2541%20%3Cx%3E.conf", "uriBaseId": "SRCROOT"} in uris
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "model.py").write_text(textwrap.dedent(MODEL))
    doc = json.loads(run("check", "--format", "sarif", "--model", str(outside / "model.py"), cwd=root).out)
    uris = [loc["physicalLocation"]["artifactLocation"] for res in doc["runs"][0]["results"]
            for loc in res.get("relatedLocations", [])]
    assert uris and all(u["uri"].startswith("file:///") and "uriBaseId" not in u for u in uris
                        if "model.py" in u["uri"])


# 16. diff text ------------------------------------------------------------------------------

def test_diff_text_is_several_lines(tmp_path, run):
    root = mkproj(tmp_path / "p")
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True)
    (root / "threats/t.yaml").write_text(textwrap.dedent(THREATS).replace("high", "critical"))
    r = run("diff", "HEAD", cwd=root)
    assert r.out.count("\n") > 2 and "\\n" not in r.out


# 18. packaging ------------------------------------------------------------------------------

def _gate_script() -> str:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    return next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "gate")


@pytest.mark.parametrize("sarif, ok", [("out.sarif", True), ("out.sarif\ninjected=yes", False),
                                       ("out.sarif\rinjected=yes", False)])
def test_action_refuses_inputs_with_line_breaks(tmp_path, sarif, ok):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "threatgraph").write_text("#!/bin/sh\necho called \"$@\" >> \"$LOG\"\n")
    (fake / "threatgraph").chmod(0o755)
    out, summary, log = tmp_path / "out", tmp_path / "summary", tmp_path / "log"
    env = {"PATH": f"{fake}:/usr/bin:/bin", "TG_SOURCE": "", "TG_SOURCE_REF": "", "TG_BASE": "", "TG_SARIF": sarif,
           "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary), "LOG": str(log)}
    r = subprocess.run(["bash", "-e", "-c", _gate_script()], env=env, capture_output=True, text=True, cwd=tmp_path)
    if ok:
        assert r.returncode == 0, r.stderr
        assert out.read_text() == "sarif=out.sarif\n" and "--format sarif" in log.read_text()
    else:
        assert r.returncode == 2 and not out.exists() and not log.exists()


def test_symlinked_site_docs_are_not_published(tmp_path, run):
    root = mkproj(tmp_path / "p")
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "leak.md").write_text("# SECRET-OUTSIDE\n")
    (root / "site").mkdir()
    (root / "site/docs").symlink_to(secret)
    r = run("build", "--renderer", "wasm", cwd=root)
    assert r.code == 2 and "symlink" in r.err
    (root / "site/docs").unlink()
    (root / "site/docs").mkdir()
    (root / "site/docs/inner").symlink_to(secret)
    (root / "site/docs/file.md").symlink_to(secret / "leak.md")
    (root / "site/docs/own.md").write_text("# own page\n")
    r = run("build", "--renderer", "wasm", cwd=root)
    assert r.code == 0, r.err
    built = "".join(p.read_text(errors="replace") for p in (root / "build/site").rglob("*.html"))
    assert "SECRET-OUTSIDE" not in built and "own page" in built


# Also expected by a user ----------------------------------------------------------------------

def test_catalog_symlink_leaving_the_project_is_refused(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (tmp_path / "secret.yaml").write_text("threats:\n  - {id: SECRET-VALUE-123}\n")
    (root / "threats/linked.yaml").symlink_to(tmp_path / "secret.yaml")
    r = run("check", cwd=root)
    assert r.code == 2 and "leaves the project" in r.err and "SECRET-VALUE-123" not in r.err


def test_upper_case_yaml_suffix_is_read_and_other_files_are_named(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "threats/t.yaml").rename(root / "threats/x.YAML")
    (root / "threats/notes.json").write_text("{}")
    r = run("check", "--format", "json", cwd=root)
    assert json.loads(r.out)["summary"]["pairs"] == 2
    assert "notes.json" in r.err and "not read" in r.err


def test_relative_source_is_relative_to_the_working_directory(tmp_path, run):
    root = mkproj(tmp_path / "p")
    (root / "sub").mkdir()
    (root / "sub/src/conf").mkdir(parents=True)
    (root / "sub/src/conf/a.conf").write_text("nothing\n")
    r = run("check", "--source", "src", "--format", "json", cwd=root / "sub")
    assert evidence_of(json.loads(r.out))["result"] == "fail"  # read sub/src, not the project's src


def test_site_worker_stops_when_its_parent_is_gone():
    # A worker told its parent is a process that is not its parent (pid 1 never is here) acts
    # as orphaned: it ends by itself although its stdin stays open, and writes nothing.
    proc = subprocess.Popen([sys.executable, "-m", "threatgraph.site.mkdocs_worker", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.wait(timeout=30) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
    assert proc.stdout.read() == b""


def test_site_worker_without_a_job_does_nothing():
    r = subprocess.run([sys.executable, "-m", "threatgraph.site.mkdocs_worker", str(os.getpid())], input=b"",
                       capture_output=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
