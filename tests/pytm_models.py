"""Random pytm models for the parity test: every element class pytm's threat library targets,
every attribute its conditions read (booleans, controls, protocols, TLS versions, data formats,
credential lifetimes, classifications, scope, responses), plus Finding overrides and
Assumptions. Written as model source text, the way a user writes one."""

from __future__ import annotations

import random

CLASSES = ("Actor", "ExternalEntity", "Process", "SetOfProcesses", "Server", "Datastore", "Lambda", "LLM", "Agent")
STRINGS = {
    "protocol": ("HTTP", "HTTPS", "SQL", ""),
    "environment": ("Production", "Development", ""),
    "OS": ("linux", ""),
    "controls.usesEncryptionAlgorithm": ("RSA", "AES", "DES", ""),
}
FORMATS = ("JSON", "XML", "CSV", "")
TLS = ("NONE", "SSLv3", "TLSv10", "TLSv12", "TLSv13")
LIFETIMES = ("NONE", "UNKNOWN", "SHORT", "LONG", "AUTO", "MANUAL", "HARDCODED")
LEVELS = ("UNKNOWN", "PUBLIC", "RESTRICTED", "SENSITIVE", "SECRET", "TOP_SECRET")
SIDS = ("INP02", "INP03", "AC01", "DE01", "CR06", "DS06", "DO01", "LLM01", "SC01", "AC22")


def _bool_fields(cls: type) -> list[str]:
    return sorted(name for name, f in cls.model_fields.items() if f.annotation is bool and name != "isAttack")


def _control_fields() -> list[str]:
    from pytm.base import Controls

    return sorted(name for name, f in Controls.model_fields.items() if f.annotation is bool)


def _attributes(rng: random.Random, var: str, cls: type, controls: list[str], flow: bool) -> list[str]:
    out = []
    for name in _bool_fields(cls):
        if name == "inScope":
            if rng.random() < 0.1:
                out.append(f"{var}.inScope = False")
        elif name == "isResponse" and flow:
            if rng.random() < 0.3:
                out.append(f"{var}.isResponse = True")
        elif rng.random() < 0.35:
            out.append(f"{var}.{name} = {rng.random() < 0.5}")
    for name in controls:
        if rng.random() < 0.35:
            out.append(f"{var}.controls.{name} = {rng.random() < 0.5}")
    for path, pool in STRINGS.items():
        field = path.split(".")[-1]
        owner = __import__("pytm.base", fromlist=["Controls"]).Controls if path.startswith("controls.") else cls
        if field in owner.model_fields and rng.random() < 0.5:
            out.append(f"{var}.{path} = {rng.choice(pool)!r}")
    if "minTLSVersion" in cls.model_fields and rng.random() < 0.4:
        out.append(f"{var}.minTLSVersion = TLSVersion.{rng.choice(TLS)}")
    if "tlsVersion" in cls.model_fields and rng.random() < 0.6:
        out.append(f"{var}.tlsVersion = TLSVersion.{rng.choice(TLS)}")
    if "maxClassification" in cls.model_fields and rng.random() < 0.4:
        out.append(f"{var}.maxClassification = Classification.{rng.choice(LEVELS)}")
    if rng.random() < 0.15:
        sid = rng.choice(SIDS)
        response = rng.choice(["mitigated by the gateway", "accepted for now", "false positive", "we will see"])
        out.append(f"{var}.overrides = [Finding(threat_id={sid!r}, response={response!r})]")
    if rng.random() < 0.1:
        out.append(f"{var}.assumptions = [Assumption('local {var}', exclude=[{rng.choice(SIDS)!r}])]")
    return out


def random_model(seed: int, elements: int = 8, flows: int = 12) -> str:
    import pytm

    rng = random.Random(seed)
    controls = _control_fields()
    lines = ["from pytm import (TM, Boundary, Actor, ExternalEntity, Process, SetOfProcesses, Server, Datastore,",
             "                  Lambda, LLM, Agent, Dataflow, Data, Classification, Lifetime, TLSVersion,",
             "                  Finding, Assumption)", "", f"tm = TM('random {seed}')"]
    if rng.random() < 0.5:
        lines.append(f"tm.assumptions = [Assumption('global', exclude=[{rng.choice(SIDS)!r}])]")
    lines += ["zone_a = Boundary('Zone A')", "zone_b = Boundary('Zone B')"]
    data = []
    for i in range(rng.randint(0, 4)):
        var = f"d{i}"
        data.append(var)
        lines.append(f"{var} = Data('data {i}', format={rng.choice(FORMATS)!r}, classification=Classification."
                     f"{rng.choice(LEVELS)}, isPII={rng.random() < 0.3}, isCredentials={rng.random() < 0.3}, "
                     f"isStored={rng.random() < 0.4}, credentialsLife=Lifetime.{rng.choice(LIFETIMES)})")
    names = []
    for i in range(elements):
        cls_name = rng.choice(CLASSES)
        var = f"e{i}"
        names.append(var)
        where = rng.choice(["", ", inBoundary=zone_a", ", inBoundary=zone_b"])
        lines.append(f"{var} = {cls_name}('element {i}'{where})")
        lines += _attributes(rng, var, getattr(pytm, cls_name), controls, flow=False)
    for i in range(flows):
        src, dst = rng.choice(names), rng.choice(names)
        var = f"f{i}"
        carried = rng.sample(data, k=rng.randint(0, len(data))) if data else []
        data_arg = f", data=[{', '.join(carried)}]" if carried else ""
        lines.append(f"{var} = Dataflow({src}, {dst}, 'flow {i}'{data_arg})")
        lines += _attributes(rng, var, pytm.Dataflow, controls, flow=True)
        if rng.random() < 0.2:
            lines.append(f"{dst}.inputs = [*{dst}.inputs, {var}]")
    return "\n".join(lines) + "\n"
