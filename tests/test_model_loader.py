from pathlib import Path

import pytest

from threatgraph.errors import InputError
from threatgraph.model.loader import load_model

from .conftest import SMALL_MODEL


def write(tmp_path: Path, text: str, name: str = "m.py") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_ids_are_variable_names_and_boundaries_nest(tmp_path):
    m = load_model("m.py", write(tmp_path, SMALL_MODEL)).model
    assert sorted(m.elements) == ["app", "db", "user", "web"]
    assert sorted(m.flows) == ["app_to_db", "bypass", "login", "web_to_app"]
    assert m.elements["app"].boundaries == ("inner", "dmz")
    assert m.boundaries["inner"].parent == "dmz"
    login = m.flows["login"]
    assert (login.source, login.sink, login.protocol, login.port) == ("user", "web", "HTTPS", 443)
    assert login.encrypted and not login.authenticated and login.data == ("password",)
    assert m.data["password"].classification == "secret" and m.data["password"].is_credentials
    assert m.flows["bypass"].attack is True
    # crossing = boundaries entered or left
    assert login.crosses == ("dmz", "internet")
    assert m.flows["app_to_db"].crosses == ()
    assert m.flows["web_to_app"].crosses == ("inner",)


def test_renaming_display_name_keeps_the_id(tmp_path):
    a = load_model("m.py", write(tmp_path, SMALL_MODEL)).model
    b = load_model("m.py", write(tmp_path, SMALL_MODEL.replace('"Orders DB"', '"Order store (renamed)"'))).model
    assert a.elements["db"].name != b.elements["db"].name
    assert set(a.elements) == set(b.elements)


def test_unbound_elements_fall_back_to_a_slug_and_duplicates_are_errors(tmp_path):
    src = ("from pytm import TM, Process, Dataflow\ntm = TM('x')\na = Process('A')\n"
           "for i in range(2):\n    Dataflow(a, a, f'Loop {i}')\n")
    m = load_model("m.py", write(tmp_path, src)).model
    assert sorted(m.flows) == ["loop_0", "loop_1"]
    dup = "from pytm import TM, Process\ntm = TM('x')\nProcess('Same name')\nProcess('Same name')\n"
    with pytest.raises(InputError) as exc:
        load_model("m.py", write(tmp_path, dup))
    assert "duplicate id 'same_name'" in exc.value.problems[0].message


def test_two_models_in_one_process_do_not_leak(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = load_model("m.py", write(tmp_path / "a", SMALL_MODEL)).model
    other = "from pytm import TM, Process\ntm = TM('other')\nonly = Process('Only')\n"
    second = load_model("m.py", write(tmp_path / "b", other)).model
    assert list(second.elements) == ["only"] and not second.flows
    again = load_model("m.py", tmp_path / "a").model
    assert set(again.elements) == set(first.elements)
    from pytm.tm import TM
    assert not any(getattr(e, "name", "") == "Only" for e in TM._state.elements)


def test_model_errors_point_at_the_model_line(tmp_path):
    with pytest.raises(InputError) as exc:
        load_model("m.py", write(tmp_path, "from pytm import TM\ntm = TM('x')\nraise ValueError('boom')\n"))
    p = exc.value.problems[0]
    assert (p.file, p.line) == ("m.py", 3) and "ValueError: boom" in p.message
    with pytest.raises(InputError) as exc:
        load_model("m.py", write(tmp_path, "from pytm import TM\ntm = TM('x'\n"))
    assert exc.value.problems[0].file == "m.py" and "syntax error" in exc.value.problems[0].message


def test_unknown_attributes_warn_with_a_hint(tmp_path):
    src = "from pytm import TM, Process, Dataflow\ntm = TM('x')\na = Process('A')\nf = Dataflow(a, a, 'f', isEncrypted=True)\n"
    loaded = load_model("m.py", write(tmp_path, src))
    (w,) = loaded.warnings
    assert w.severity == "warning" and "isEncrypted" in w.message and "controls.isEncrypted" in w.hint
    assert w.line == 4


def test_module_attribute_spec_and_missing_tm(tmp_path):
    write(tmp_path, "from pytm import TM, Process\nmine = TM('x')\np = Process('P')\n", "pkgmodel.py")
    assert "p" in load_model("pkgmodel:mine", tmp_path).model.elements
    write(tmp_path, "x = 1\n", "empty.py")
    with pytest.raises(InputError) as exc:
        load_model("empty.py", tmp_path)
    assert "no pytm TM" in exc.value.problems[0].message


def test_fast_records_equal_constructed_ones_and_stay_frozen():
    import dataclasses

    from threatgraph.model.types import Boundary, DataAsset, Element, Flow, Location, record

    cases = [
        (Flow, {"id": "f", "name": "F", "source": "a", "sink": "b", "port": 443, "crosses": ("z",)}),
        (Element, {"id": "e", "name": "E", "kind": "process", "boundaries": ("z",)}),
        (Boundary, {"id": "z", "name": "Z", "parent": None, "chain": ()}),
        (DataAsset, {"id": "d", "name": "D", "classification": "secret"}),
        (Location, {"file": "m.py", "line": 3}),
    ]
    for cls, values in cases:
        fast, slow = record(cls, **values), cls(**values)
        assert type(fast) is cls and vars(fast) == vars(slow), cls
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.id = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError, match="no field"):
        record(Flow, id="f", name="F", source="a", sink="b", colour="red")


def test_boundary_chains_are_shared_and_a_cycle_is_an_input_error(tmp_path):
    deep = "from pytm import TM, Boundary, Process\ntm = TM('deep')\nb0 = Boundary('B0')\n" + "".join(
        f"b{i} = Boundary('B{i}', inBoundary=b{i - 1})\n" for i in range(1, 30)) + "p = Process('P', inBoundary=b29)\n"
    m = load_model("m.py", write(tmp_path, deep)).model
    assert m.elements["p"].boundaries == tuple(f"b{i}" for i in range(29, -1, -1))
    assert m.boundaries["b10"].chain == tuple(f"b{i}" for i in range(9, -1, -1))
    cyclic = deep + "b0.inBoundary = b29\n"
    with pytest.raises(InputError) as err:
        load_model("m.py", write(tmp_path, cyclic))
    (problem,) = err.value.problems
    assert "cycle: b0 → b29 → b28" in problem.message and problem.line == 3


def test_loading_skips_pytm_threat_library_and_restores_pytm(tmp_path):
    from pytm import TM

    original = TM.__dict__["_init_threats"]
    probe = tmp_path / "threats-seen.txt"
    load_model("m.py", write(tmp_path, SMALL_MODEL + f"open({str(probe)!r}, 'w').write(str(len(TM._threats)))\n"))
    assert probe.read_text() == "0"  # threatgraph never evaluates pytm's library, so never compiles it
    assert TM.__dict__["_init_threats"] is original  # pytm is left as it was found
    TM.reset()
    TM("outside threatgraph")
    assert len(TM._threats) > 50  # pytm's own library still loads for pytm users
    TM.reset()


def test_the_snapshot_holds_plain_data_so_its_reader_never_imports_pytm(tmp_path):
    """The model runs in the child; the parent reads the snapshot back without pytm (pytm's
    private `_sf` formatter on the TM once made every unpickling import it, a tenth of a second
    per check), and what the model set on its TM stays, as plain data."""
    text = SMALL_MODEL + "\ntm.reviewed_by = 'alice'\ntm.review_round = 3\n"
    write(tmp_path, text)
    probe = ("import sys; from pathlib import Path; from threatgraph.model.loader import load_model; "
             f"m = load_model('m.py', Path({str(tmp_path)!r})).model; "
             "print(sorted(m.extras.items()), 'pytm' in sys.modules)")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split("\n")[0] == "[('review_round', 3), ('reviewed_by', 'alice')] False"
