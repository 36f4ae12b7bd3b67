"""Matched source text that looks like a secret is redacted before it reaches any output.

Evidence reports what it matched, and the source is untrusted: a catalog change could aim a
pattern at a credential (a token in a config file, an `Authorization` header, a private
key). Redaction happens once, where results are made, so every format (text, Markdown in a
job summary, JSON, SARIF, the site) shows the same masked text.
"""

from __future__ import annotations

import re

MASK = "<redacted>"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # an authorization scheme followed by its credential (http.extraheader, curl -H, config files)
    (re.compile(r"(?i)\b(basic|bearer|token|digest)(\s+)[A-Za-z0-9+/=._~:-]{6,}"), r"\1\2" + MASK),
    # credentials inside a URL: scheme://user:password@host
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + MASK + "@"),
    # PEM private keys: the header line and anything after it on the line
    (re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*"), MASK + " (private key)"),
    # provider token formats
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    (re.compile(r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
    # key = value where the key names a secret
    (re.compile(r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|"
                r"token|credential)s?)(\s*[:=]\s*[\"']?)(?!\$\{|\$\(|<)[^\s\"',;]{6,}"), r"\1\2" + MASK),
)


def redact(text: str) -> str:
    """`text` with everything that looks like a credential replaced by <redacted>."""
    if not text:
        return text
    for rule, replacement in _RULES:
        text = rule.sub(replacement, text)
    return text
