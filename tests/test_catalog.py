"""Catalog validation: every problem in one run, each with file, line and a hint."""

import pytest

from threatgraph.errors import InputError
from threatgraph.safeyaml import MAX_FILE_BYTES, parse_yaml


def problems_of(run, project):
    r = run("check", cwd=project.root)
    assert r.code == 2, r.out + r.err
    assert "Traceback" not in r.err
    return r.err


def test_several_mistakes_are_all_reported_with_file_and_line(run, project):
    project.write("threats/bad.yaml", """
        threats:
          - id: TH-A
            title: A
            stride: [tampering]
            severity: hgih
            applies_to:
              - flows: {protocl: sql}
            mitigations: [M-NOPE]
          - id: TH-SNIFF
            title: duplicate id
            stride: [spoofing]
            severity: low
            applies_to:
              - elements: {id: wbe}
            mitgations: []
        decisions:
          - threat: TH-MISSING
            decision: accept
            justification: because
        """)
    err = problems_of(run, project)
    assert "threats/bad.yaml:5:15: error: 'hgih' is not a valid severity" in err
    assert "did you mean 'high'?" in err
    assert "threats/bad.yaml:7:17: error: unknown selector key 'protocl'" in err and "did you mean 'protocol'?" in err
    # files load in name order: bad.yaml first, so main.yaml holds the duplicate
    assert "threats/main.yaml:2:9: error: duplicate threat id 'TH-SNIFF'" in err
    assert "first defined at threats/bad.yaml:9" in err
    assert "threats/bad.yaml:15:5: error: unknown key 'mitgations'" in err and "did you mean 'mitigations'?" in err
    assert "unknown threat 'TH-MISSING'" in err
    assert "an accepted risk needs 'owner'" in err


def test_dangling_references_get_did_you_mean(run, project):
    project.write("threats/main.yaml", """
        threats:
          - id: TH-X
            title: X
            stride: [spoofing]
            severity: low
            applies_to:
              - elements: {id: wbe}
              - flows: {crosses: dmzz}
            mitigations: [M-TSL]
        """)
    err = problems_of(run, project)
    assert "no element with id 'wbe' in the model" in err and "did you mean 'web'?" in err
    assert "no boundary with id 'dmzz'" in err and "did you mean 'dmz'?" in err
    assert "unknown mitigation 'M-TSL'" in err and "did you mean 'M-TLS'?" in err


def test_selector_matching_nothing_is_an_error_naming_the_key(run, project):
    project.write("threats/main.yaml", """
        threats:
          - id: TH-X
            title: X
            stride: [spoofing]
            severity: low
            applies_to:
              - flows: {protocol: sql, port: 443}
        """)
    err = problems_of(run, project)
    assert "threats/main.yaml:7:9: error: threat TH-X: this flow selector matches nothing" in err
    assert "adding `port` left nothing (2 matched before it)" in err


def test_unknown_top_level_and_mitigation_keys(run, project):
    project.write("mitigations/extra.yaml", """
        mitigation:
          - id: M-Z
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-TLS
            title: TLS
            status: done
            evidence:
              - kind: regexp
                proves: x
          - {id: M-PARAM, title: p, status: partial}
          - {id: M-NET, title: n, status: planned, evidence: [{kind: regex, path: ../etc/passwd, pattern: x}]}
        """)
    err = problems_of(run, project)
    assert "mitigations/extra.yaml:1:1: error: unknown top-level key 'mitigation'" in err
    assert "'done' is not a valid status" in err
    assert "unknown evidence kind 'regexp'" in err and "did you mean 'regex'?" in err
    assert "'..' is not allowed" in err
    assert "evidence needs 'proves'" in err


def test_yaml_safety():
    with pytest.raises(InputError) as exc:
        parse_yaml("a: !!python/object/apply:os.system ['echo pwned']\n", "t.yaml")
    assert "is not allowed" in exc.value.problems[0].message
    with pytest.raises(InputError) as exc:
        parse_yaml("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert exc.value.problems[0].line == 3 and "duplicate key 'a'" in exc.value.problems[0].message
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8))
    with pytest.raises(InputError) as exc:
        parse_yaml(bomb, "bomb.yaml")
    assert "alias expansion bomb" in exc.value.problems[0].message
    with pytest.raises(InputError) as exc:
        parse_yaml("a: [1, 2\n", "t.yaml")
    assert exc.value.problems[0].message.startswith("invalid YAML")
    # found by the fuzz run: PyYAML raised ValueError / RecursionError past its own error type
    for text, words in (('"\\U00110000', "invalid YAML"), ("[" * 5000 + "]" * 5000, "nest"),
                        ("- " * 3000 + "x", "nest")):
        with pytest.raises(InputError) as exc:
            parse_yaml(text, "t.yaml")
        assert words in exc.value.problems[0].message


def test_non_utf8_and_oversized_files(run, project):
    (project.root / "threats" / "latin1.yaml").write_bytes(b"threats:\n  - id: caf\xe9\n")
    err = problems_of(run, project)
    assert "threats/latin1.yaml:2:12: error: file is not valid UTF-8" in err
    (project.root / "threats" / "latin1.yaml").unlink()
    (project.root / "threats" / "huge.yaml").write_text("# " + "x" * MAX_FILE_BYTES, encoding="utf-8")
    assert "over the" in problems_of(run, project)


def test_catalogs_and_firewall_files_validate_against_committed_schemas():
    import json

    import jsonschema
    import yaml

    from threatgraph.schemas import render_schemas

    from .conftest import REPO

    for name, text in render_schemas().items():
        assert (REPO / "schemas" / name).read_text(encoding="utf-8") == text, f"run `threatgraph schema` ({name})"
    for folder, schema_name in (("threats", "threats.schema.json"), ("mitigations", "mitigations.schema.json")):
        schema = json.loads((REPO / "schemas" / schema_name).read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
        for path in sorted((REPO / folder).glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            assert text.startswith(f"# yaml-language-server: $schema=../schemas/{schema_name}")
            data = json.loads(json.dumps(yaml.safe_load(text), default=str))
            errors = list(validator.iter_errors(data))
            assert not errors, f"{path.name}: {errors[0].message}"
        # the schema rejects what the loader rejects
        bad = {"threats": [{"id": "X", "title": "t", "stride": ["spoofing"], "severity": "hgih",
                            "applies_to": [{"flows": {"protocl": "x"}}]}]} if folder == "threats" else \
              {"mitigations": [{"id": "X", "title": "t", "status": "implemented", "evidnce": []}]}
        assert list(validator.iter_errors(bad))
