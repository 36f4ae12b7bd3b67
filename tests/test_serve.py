"""`threatgraph site --serve`: a real preview server on loopback that regenerates pages when
an architect saves a catalog file, and survives a broken edit."""

import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
        return resp.read().decode("utf-8")


def _wait_for(url: str, needle: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if needle in last:
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{needle!r} never appeared at {url}")


def _serve(project, *flags: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "threatgraph", "site", "--serve", "--renderer", "wasm",
                             "--dev-addr", f"127.0.0.1:{port}", *flags], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_serve_keeps_command_line_overrides_across_rebuilds(project):
    other = (project.root / "model.py").read_text().replace('"Web server"', '"Other web server"')
    project.write("other.py", other)
    proc, port = _serve(project, "--model", "other.py", "--fail-on", "never")
    try:
        url = f"http://127.0.0.1:{port}/elements.html"
        _wait_for(url, "Other web server")
        path = project.root / "threats" / "main.yaml"
        path.write_text(path.read_text().replace("SQL injection", "SQL injection, edited"))
        _wait_for(f"http://127.0.0.1:{port}/threat-th-sqli~u.html", "SQL injection, edited")
        assert "Other web server" in _get(url)  # before: the rebuild reloaded model.py from pyproject.toml
    finally:
        _stop(proc)


def test_serve_reloads_on_catalog_edits(project):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "threatgraph", "site", "--serve", "--renderer", "wasm",
                             "--dev-addr", f"127.0.0.1:{port}"], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/threat-th-sqli~u.html"
        _wait_for(url, "SQL injection")
        path = project.root / "threats" / "main.yaml"
        path.write_text(path.read_text().replace("SQL injection", "SQL injection through the ORM"))
        _wait_for(url, "SQL injection through the ORM")
        path.write_text("threats: [\n")  # a broken save keeps the last good pages
        time.sleep(3)
        assert "SQL injection through the ORM" in _get(url)
        assert proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    # nothing keeps serving once threatgraph is stopped
    time.sleep(1)
    try:
        _get(f"http://127.0.0.1:{port}/index.html")
        still_up = True
    except OSError:
        still_up = False
    assert not still_up
