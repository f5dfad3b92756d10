"""The Dockerfile as data: instructions (continuations joined, comments dropped, leading
`--flag=value` options split off), Docker's variable expansion, exec/shell forms, and the
`.dockerignore` rules (Go `filepath.Match` patterns with `**`, `!` exceptions, last match
wins, a pattern that matches a directory covers what is inside)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

FLAG = re.compile(r"^--([a-z-]+)(?:=(.*))?$")


# -- parsing ---------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    flags: dict[str, list[str]]
    line: int

    def __str__(self) -> str:
        flags = " ".join(f"--{k}={v}" for k, vs in self.flags.items() for v in vs)
        return f"{self.keyword} {flags + ' ' if flags else ''}{self.args}"


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: continuation lines joined, comments dropped, leading
    `--flag=value` options split off."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        logical = " ".join(p for p in buffer if p)
        buffer = []
        keyword, _, rest = logical.partition(" ")
        flags: dict[str, list[str]] = {}
        rest = rest.strip()
        while (match := FLAG.match(rest.split(" ", 1)[0])) and keyword.upper() != "ENV":
            flags.setdefault(match.group(1), []).append(match.group(2) or "")
            rest = rest.split(" ", 1)[1].strip() if " " in rest else ""
        out.append(Instruction(keyword.upper(), rest, flags, start))
    return out


def substitute(text: str, env: dict[str, str]) -> str:
    """Docker's variable expansion: $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alternative}."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(2) or match.group(4)
        operator, word = match.group(3) or "", ""
        if operator:
            operator, word = operator[:2], operator[2:]
        value = env.get(name, "")
        if operator == ":-":
            return value or word
        if operator == ":+":
            return word if value else ""
        return value

    pattern = r"\\(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(:[-+][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
    return re.sub(pattern, lambda m: "$" if m.group(1) else repl(m), text)


def words(args: str) -> list[str]:
    """A JSON array (exec form) or shell-split words."""
    if args.startswith("["):
        return [str(w) for w in json.loads(args)]
    return shlex.split(args)


def env_pairs(args: str) -> list[tuple[str, str]]:
    parts = shlex.split(args, posix=True)
    if parts and "=" not in parts[0]:  # legacy `ENV KEY value with spaces`
        return [(parts[0], args.split(None, 1)[1] if len(parts) > 1 else "")]
    return [tuple(p.split("=", 1)) for p in parts]  # type: ignore[misc]


# -- .dockerignore ---------------------------------------------------------------------


def ignore_rules(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    path = context / ".dockerignore"
    rules = []
    lines = path.read_text().splitlines() if path.exists() else []
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?|\[[^\]]*\])", pattern.strip("/")):
            if part.startswith("[") and part.endswith("]"):
                regex += part  # a character class, as in Go's filepath.Match
            else:
                regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        rules.append((negate, re.compile(regex + "(/.*)?$")))
    return rules


def ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Last matching rule wins; a rule matching a directory covers what is inside."""
    verdict = False
    for negate, regex in rules:
        if regex.match(relative):
            verdict = not negate
    return verdict
