"""Synthetic projects for benchmarks: a pytm model of N elements (nested boundaries, a realistic
mix of kinds, about 2.4 flows per element, data assets, a few attack edges, declarations),
threat and mitigation catalogs whose selectors hit realistic fractions of the model, and a
source tree for the mitigations' evidence. Deterministic for a given N and seed.

    python benchmarks/synthetic.py 1000 /tmp/synthetic-1000
"""

from __future__ import annotations

import random
import sys
import textwrap
from pathlib import Path

KINDS = [("Process", 0.45), ("Datastore", 0.25), ("ExternalEntity", 0.15), ("Server", 0.10), ("Actor", 0.05)]
PROTOCOLS = ["HTTPS", "HTTP", "gRPC", "SQL", "AMQP", "DNS", "SSH", "file"]
PORTS = {"HTTPS": 443, "HTTP": 80, "gRPC": 8443, "SQL": 5432, "AMQP": 5672, "DNS": 53, "SSH": 22, "file": -1}
CLASSES = ["PUBLIC", "RESTRICTED", "SENSITIVE", "SECRET"]


def generate(n: int, root: Path, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    n_boundaries = max(3, n // 25)
    lines = ["from pytm import TM, Boundary, Process, Datastore, ExternalEntity, Server, Actor, Dataflow, Data, "
             "Classification",
             "from threatgraph.declare import Declarations, always_through, crossing_flows, never_reaches",
             f"tm = TM('synthetic-{n}', description='generated for benchmarks')"]
    for b in range(n_boundaries):
        parent = f", inBoundary=b{rnd.randrange(b)}" if b >= 3 and rnd.random() < 0.7 else ""
        lines.append(f"b{b} = Boundary('Zone {b}'{parent})")
    n_data = max(5, n // 10)
    for d in range(n_data):
        cls = CLASSES[d % len(CLASSES)]
        cred = ", isCredentials=True" if cls == "SECRET" and d % 3 == 0 else ""
        lines.append(f"d{d} = Data('Data {d}', classification=Classification.{cls}{cred})")
    kinds = []
    for e in range(n):
        r, acc = rnd.random(), 0.0
        kind = KINDS[-1][0]
        for k, w in KINDS:
            acc += w
            if r < acc:
                kind = k
                break
        kinds.append(kind)
        boundary = f", inBoundary=b{rnd.randrange(n_boundaries)}" if rnd.random() < 0.85 else ""
        lines.append(f"e{e} = {kind}('Element {e}'{boundary})")
    n_flows = int(n * 2.4)
    for f in range(n_flows):
        src, dst = rnd.randrange(n), rnd.randrange(n)
        if src == dst:
            dst = (dst + 1) % n
        proto = rnd.choice(PROTOCOLS)
        data = ", ".join(f"d{rnd.randrange(n_data)}" for _ in range(rnd.randint(0, 2)))
        attack = ", isAttack=True" if rnd.random() < 0.04 else ""
        lines.append(f"f{f} = Dataflow(e{src}, e{dst}, 'Flow {f}', protocol='{proto}', dstPort={PORTS[proto]}, "
                     f"data=[{data}]{attack})")
        if proto in ("HTTPS", "gRPC", "SSH"):
            lines.append(f"f{f}.controls.isEncrypted = True")
    lines.append(textwrap.dedent(f"""
        analysis = Declarations(
            invariants=[
                always_through([e0, e1], [e{n - 1}, e{n - 2}], via=[e2, e3], name="egress via gateways"),
                never_reaches([e0], [e{n // 2}], name="no path to the vault"),
                crossing_flows(b0, encrypted=True, name="zone 0 crossings encrypted"),
            ],
            entry_points=[e0, e1],
            targets=[e{n // 2}, e{n - 1}],
        )
    """))
    (root / "model.py").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # A catalog the size of pytm's own threat library (about 100 rules, which is what resolve()
    # evaluates) once the model is large: catalogs do not grow with the element count.
    n_threats = min(100, max(10, n // 20))
    threats, mitigations = ["threats:"], ["mitigations:"]
    strides = ["spoofing", "tampering", "information_disclosure", "denial_of_service", "elevation_of_privilege"]
    for t in range(n_threats):
        choice = t % 5
        if choice == 0:
            sel = f"- flows: {{protocol: {PROTOCOLS[t % len(PROTOCOLS)]}, crosses: b{t % n_boundaries}}}"
        elif choice == 1:
            sel = f"- elements: {{kind: datastore, in_boundary: b{t % n_boundaries}}}"
        elif choice == 2:
            sel = "- flows: {attack: true}"
        elif choice == 3:
            sel = f"- flows: {{data: d{t % n_data}}}"
        else:
            sel = f"- elements: {{id: 'e{t % 10}*'}}"
        mits = f"[M{t}, M{(t + 1) % n_threats}]"
        threats.append(f"  - id: T{t}\n    title: Threat {t}\n    stride: [{strides[t % 5]}]\n"
                       f"    severity: {['low', 'medium', 'high', 'critical'][t % 4]}\n"
                       f"    applies_to:\n      {sel}\n    mitigations: {mits}")
        status = ["implemented", "partial", "implemented", "planned"][t % 4]
        mitigations.append(f"  - id: M{t}\n    title: Control {t}\n    status: {status}\n    evidence:\n"
                           f"      - kind: regex\n        proves: control {t} is configured\n"
                           f"        path: 'src/**/*.conf'\n        pattern: '^control_{t} = on$'\n"
                           f"      - kind: json_pointer\n        proves: control {t} in the policy\n"
                           f"        path: policy/controls.json\n        pointer: /controls/{t}/enabled\n        equals: true")
    (root / "threats").mkdir(exist_ok=True)
    (root / "mitigations").mkdir(exist_ok=True)
    (root / "threats" / "all.yaml").write_text("\n".join(threats) + "\n", encoding="utf-8")
    (root / "mitigations" / "all.yaml").write_text("\n".join(mitigations) + "\n", encoding="utf-8")
    src = root / "source"
    for i in range(max(5, n // 50)):
        body = "".join(f"control_{t} = {'on' if (t + i) % 7 else 'off'}\n" for t in range(i, n_threats, max(5, n // 50)))
        (src / "src" / f"svc{i % 10}").mkdir(parents=True, exist_ok=True)
        (src / "src" / f"svc{i % 10}" / f"app{i}.conf").write_text(body, encoding="utf-8")
    (src / "policy").mkdir(parents=True, exist_ok=True)
    import json

    (src / "policy" / "controls.json").write_text(json.dumps(
        {"controls": [{"enabled": t % 5 != 0} for t in range(n_threats)]}, indent=1), encoding="utf-8")
    (root / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.threatgraph]
        model = "model.py"
        threats = "threats"
        mitigations = "mitigations"
        source = "source"
        [tool.threatgraph.policy]
        fail_on = "never"
    """), encoding="utf-8")
    return root


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {sys.argv[2]}")
