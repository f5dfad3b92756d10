"""The Dockerfile reader of tests/deploy/dockerfile.py reads Dockerfiles as Docker does."""

from __future__ import annotations

import pytest

from tests.deploy.dockerfile_syntax import env_pairs, ignore_rules, ignored, parse, substitute, words


def test_instructions_join_continuations_drop_comments_and_split_flags():
    text = (
        "# syntax=docker/dockerfile:1.7\n"
        "ARG BASE=python:3.11\n"
        "FROM ${BASE} AS build\n"
        "RUN --mount=type=cache,target=/root/.npm \\\n"
        "    # a comment inside the continuation\n"
        "    echo one \\\n"
        "    && echo two\n"
        "\n"
        'HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "print(1)"]\n'
        "ENV A=1 B=--not-a-flag\n"
    )
    steps = parse(text)
    assert [s.keyword for s in steps] == ["ARG", "FROM", "RUN", "HEALTHCHECK", "ENV"]
    run = steps[2]
    assert run.flags == {"mount": ["type=cache,target=/root/.npm"]}
    assert run.args == "echo one && echo two" and run.line == 4
    assert steps[3].flags == {"interval": ["30s"], "timeout": ["5s"]}
    assert words(steps[3].args.partition(" ")[2]) == ["python", "-c", "print(1)"]
    assert env_pairs(steps[4].args) == [("A", "1"), ("B", "--not-a-flag")]
    assert env_pairs("LEGACY some value") == [("LEGACY", "some value")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/opt/venv/bin:$PATH", "/opt/venv/bin:/usr/bin"),
        ("${PATH}", "/usr/bin"),
        ("${MISSING:-fallback}", "fallback"),
        ("${PATH:+set}", "set"),
        ("${MISSING:+set}", ""),
        ("\\$PATH", "$PATH"),
    ],
)
def test_variables_expand_as_in_docker(text, expected):
    assert substitute(text, {"PATH": "/usr/bin"}) == expected


def test_dockerignore_rules(tmp_path):
    (tmp_path / ".dockerignore").write_text(
        "# comment\n.git\n**/__pycache__\n**/*.py[cod]\ndocs\n!docs/keep.md\n/data\n"
    )
    rules = ignore_rules(tmp_path)
    excluded = [".git", ".git/HEAD", "pkg/__pycache__/x.py", "x.pyc", "a/b.pyo", "docs/a.md", "data/x.db"]
    kept = [".gitignore", "pkg/x.py", "docs/keep.md", "database.py", "src/data/x"]
    assert [p for p in excluded if not ignored(p, rules)] == []
    assert [p for p in kept if ignored(p, rules)] == []
