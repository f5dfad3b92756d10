"""Run a Dockerfile's steps without a Docker engine: the same instructions, in the same order,
each stage in a throwaway copy-on-write root.

    unshare --mount --propagation private \\
        python -m tests.deploy.dockerfile --context . --workspace /tmp/ws [--build-arg K=V] \\
        [--env K=V ...]

Every stage is an overlay filesystem whose lower layer is this machine's root (it stands in
for the `FROM` image) and whose upper layer is a fresh directory: what the stage writes is
what its image layers would hold. Inside the private mount namespace, RUN commands execute
chrooted into the stage (`/bin/sh -c`, the stage's ENV and build ARGs, WORKDIR, USER), COPY
honours `.dockerignore`, `--from` and `--chown`, and BuildKit cache mounts are bind mounts
of directories kept under ~/.cache. After the build the final stage's CMD starts, as its
USER, with `--env` overrides (what `docker run -e` does); the HEALTHCHECK command runs in
the image until it passes; then the process waits for SIGTERM and stops the app with the
image's STOPSIGNAL. `<workspace>/report.json` says what happened at each step.

Not reproduced: the base image itself (this machine's Debian and /usr/bin/python3 stand in
for it, so a package the base image lacks but this machine has would go unnoticed), layer
caching and digests, image metadata beyond what is listed above, network isolation of the
app (it shares this machine's network, on the port given by `--env`). RUN steps get this machine's
CA and proxy variables (NETWORK_ENV) to reach the registries through its network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy.dockerfile_syntax import (
    Instruction,
    env_pairs,
    ignore_rules,
    ignored,
    parse,
    substitute,
    words,
)

BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
CACHE_ROOT = Path.home() / ".cache" / "maestro-dockerfile-steps"
# How this machine reaches the registries (a TLS-inspecting proxy's CA, proxies): handed to
# RUN steps when set, as a build behind such a network would pass them in. Docker itself
# predefines the proxy variables as build args; the CA variables are this machine's.
NETWORK_ENV = (
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


# -- stages ----------------------------------------------------------------------------


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


@dataclass
class Stage:
    index: int
    name: str
    base: str
    dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(BASE_ENV))
    args: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.dir / "merged"

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    def mount(self) -> None:
        for part in ("upper", "work", "merged"):
            (self.dir / part).mkdir(parents=True)
        options = f"lowerdir=/,upperdir={self.upper},workdir={self.dir / 'work'}"
        sh("mount", "-t", "overlay", "overlay", "-o", options, str(self.root))
        for special in ("proc", "dev", "sys"):
            sh("mount", "--rbind", f"/{special}", str(self.root / special))

    def path(self, inside: str) -> Path:
        absolute = inside if inside.startswith("/") else f"{self.workdir.rstrip('/')}/{inside}"
        return self.root / absolute.lstrip("/")

    def ids(self, user: str | None = None) -> tuple[int, int]:
        """uid and gid of `user` (name or number, `user[:group]`) in this stage's files."""
        name, _, group = (user or self.user).partition(":")
        passwd = {p[0]: p for p in _table(self.root / "etc/passwd")}
        groups = {g[0]: g for g in _table(self.root / "etc/group")}
        uid = int(name) if name.isdigit() else int(passwd[name][2])
        if group:
            gid = int(group) if group.isdigit() else int(groups[group][2])
        elif name.isdigit():
            gid = next((int(p[3]) for p in passwd.values() if int(p[2]) == uid), uid)
        else:
            gid = int(passwd[name][3])
        return uid, gid

    def process_env(self, extra: dict[str, str] | None = None, *, build: bool = True) -> dict[str, str]:
        """RUN sees the stage's ENV and build ARGs; the running container its ENV only."""
        network = {k: os.environ[k] for k in NETWORK_ENV if build and k in os.environ}
        env = {**network, **(self.args if build else {}), **self.env, **(extra or {})}
        if "HOME" not in env:
            uid = self.ids()[0]
            home = next((p[5] for p in _table(self.root / "etc/passwd") if int(p[2]) == uid), "/")
            env["HOME"] = home
        return env

    def spawn(self, argv: list[str], *, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
        root, workdir = str(self.root), self.workdir
        uid, gid = self.ids()

        def enter() -> None:
            os.chroot(root)
            os.chdir(workdir)
            if uid != 0:
                os.setgroups([gid])
                os.setgid(gid)
                os.setuid(uid)

        return subprocess.Popen(argv, env=env, preexec_fn=enter, **kwargs)  # noqa: PLW1509


def _table(path: Path) -> Iterator[list[str]]:
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            yield line.split(":")


# -- the build ---------------------------------------------------------------------------


class Builder:
    def __init__(self, dockerfile: Path, context: Path, workspace: Path, build_args: dict[str, str]) -> None:
        self.instructions = parse(dockerfile.read_text())
        self.context = context.resolve()
        self.workspace = workspace
        self.build_args = build_args
        self.rules = ignore_rules(self.context)
        self.stages: list[Stage] = []
        self.global_args: dict[str, str] = {}
        self.steps: list[dict[str, Any]] = []

    @property
    def stage(self) -> Stage:
        return self.stages[-1]

    def build(self) -> Stage:
        for ins in self.instructions:
            started = time.monotonic()
            print(f"--- step (line {ins.line}): {ins}", flush=True)
            getattr(self, f"do_{ins.keyword.lower()}")(ins)
            self.steps.append(
                {"line": ins.line, "step": str(ins), "seconds": round(time.monotonic() - started, 1)}
            )
        return self.stage

    def vars(self) -> dict[str, str]:
        return {**self.stage.args, **self.stage.env} if self.stages else dict(self.global_args)

    def do_arg(self, ins: Instruction) -> None:
        name, has_default, default = substitute(ins.args, self.vars()).partition("=")
        value = self.build_args.get(name, default if has_default else self.global_args.get(name, ""))
        if self.stages:
            self.stage.args[name] = value
        else:
            self.global_args[name] = value

    def do_from(self, ins: Instruction) -> None:
        parts = substitute(ins.args, self.global_args).split()
        name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else str(len(self.stages))
        stage = Stage(len(self.stages), name, parts[0], self.workspace / f"stage-{len(self.stages)}-{name}")
        stage.mount()
        self.stages.append(stage)

    def do_env(self, ins: Instruction) -> None:
        for key, value in env_pairs(ins.args):
            self.stage.env[key] = substitute(value, self.vars())

    def do_workdir(self, ins: Instruction) -> None:
        target = substitute(ins.args, self.vars())
        self.stage.workdir = (
            target if target.startswith("/") else f"{self.stage.workdir.rstrip('/')}/{target}"
        )
        self.stage.path(self.stage.workdir).mkdir(parents=True, exist_ok=True)

    def do_user(self, ins: Instruction) -> None:
        self.stage.user = substitute(ins.args, self.vars())
        self.stage.ids()  # the user must exist, as at `docker run`

    def do_run(self, ins: Instruction) -> None:
        argv = words(ins.args) if ins.args.startswith("[") else ["/bin/sh", "-c", ins.args]
        mounts = [self._cache_mount(spec) for spec in ins.flags.get("mount", [])]
        try:
            code = self.stage.spawn(argv, env=self.stage.process_env()).wait()
        finally:
            for target in reversed(mounts):
                sh("umount", str(target))
        if code != 0:
            raise SystemExit(f"RUN at line {ins.line} failed with exit code {code}")

    def _cache_mount(self, spec: str) -> Path:
        options = dict(part.split("=", 1) for part in spec.split(","))
        if options.get("type") != "cache":
            raise SystemExit(f"RUN --mount={spec}: only type=cache is reproduced")
        target = options["target"]
        key = options.get("id") or hashlib.sha1(target.encode()).hexdigest()[:12]
        source = CACHE_ROOT / key
        source.mkdir(parents=True, exist_ok=True)
        inside = self.stage.path(target)
        inside.mkdir(parents=True, exist_ok=True)
        sh("mount", "--bind", str(source), str(inside))
        return inside

    def do_copy(self, ins: Instruction) -> None:
        items = words(substitute(ins.args, self.vars()))
        sources, dest = items[:-1], items[-1]
        origin = self._stage_named(ins.flags["from"][0]) if "from" in ins.flags else None
        target = self.stage.path(dest)
        into_dir = dest.endswith("/") or len(sources) > 1 or target.is_dir()
        copied: list[Path] = []
        for source in sources:
            for path in self._expand(source, origin):
                if path.is_dir():
                    copied += self._copy_tree(path, target, filtered=origin is None)
                else:
                    to = target / path.name if into_dir else target
                    to.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, to)
                    copied.append(to)
        if "chown" in ins.flags:
            uid, gid = self.stage.ids(ins.flags["chown"][0])
            for path in copied:
                os.lchown(path, uid, gid)

    def _stage_named(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name or str(s.index) == name)

    def _expand(self, source: str, origin: Stage | None) -> list[Path]:
        base = origin.root if origin else self.context
        pattern = source.lstrip("/") if origin else source
        if origin is None and ignored(pattern.rstrip("/"), self.rules):
            raise SystemExit(f"COPY {source}: excluded by .dockerignore")
        matches = sorted(base.glob(pattern)) if any(c in pattern for c in "*?[") else [base / pattern]
        if not matches or not all(m.exists() for m in matches):
            raise SystemExit(f"COPY {source}: not found")
        return matches

    def _copy_tree(self, source: Path, target: Path, *, filtered: bool) -> list[Path]:
        copied = []
        for folder, dirs, files in os.walk(source):
            here = Path(folder)
            rel = here.relative_to(source)
            if filtered:
                ctx = here.relative_to(self.context).as_posix()
                inside = lambda n, c=ctx: n if c == "." else f"{c}/{n}"  # noqa: E731
                dirs[:] = [d for d in dirs if not ignored(inside(d), self.rules)]
                files = [f for f in files if not ignored(inside(f), self.rules)]
            out = target / rel
            out.mkdir(parents=True, exist_ok=True)
            copied.append(out)
            for name in [d for d in dirs if (here / d).is_symlink()]:  # e.g. a venv's lib64
                dirs.remove(name)
                files.append(name)
            for name in files:
                src = here / name
                if src.is_symlink():
                    (out / name).unlink(missing_ok=True)
                    os.symlink(os.readlink(src), out / name)
                else:
                    shutil.copy2(src, out / name)
                copied.append(out / name)
        return copied

    def do_volume(self, ins: Instruction) -> None:
        self.stage.meta.setdefault("volumes", []).extend(words(substitute(ins.args, self.vars())))

    def do_expose(self, ins: Instruction) -> None:
        self.stage.meta.setdefault("expose", []).extend(substitute(ins.args, self.vars()).split())

    def do_cmd(self, ins: Instruction) -> None:
        self.stage.meta["cmd"] = words(ins.args) if ins.args.startswith("[") else ["/bin/sh", "-c", ins.args]

    def do_stopsignal(self, ins: Instruction) -> None:
        self.stage.meta["stopsignal"] = ins.args.strip()

    def do_healthcheck(self, ins: Instruction) -> None:
        keyword, _, command = ins.args.partition(" ")
        assert keyword.upper() == "CMD", ins.args
        argv = words(command) if command.startswith("[") else ["/bin/sh", "-c", command]
        self.stage.meta["healthcheck"] = {"cmd": argv, **{k: v[0] for k, v in ins.flags.items()}}

    def do_label(self, ins: Instruction) -> None:
        self.stage.meta.setdefault("labels", []).append(ins.args)


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    match = re.fullmatch(r"([\d.]+)(ms|s|m|h)", value)
    assert match, value
    return float(match.group(1)) * units[match.group(2)]


# -- running the image -------------------------------------------------------------------


def run_image(stage: Stage, extra_env: dict[str, str], report: dict[str, Any], path: Path) -> int:
    """Start CMD, wait until HEALTHCHECK passes, then until SIGTERM; stop the app; its exit code."""
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    log = open(stage.dir.parent / "app.log", "wb")  # noqa: SIM115 (the app owns it until it exits)
    env = stage.process_env(extra_env, build=False)
    app = stage.spawn(stage.meta["cmd"], env=env, stdout=log, stderr=subprocess.STDOUT)
    report["app"] = {"pid": app.pid, "uid": _uid_of(app.pid), "started": time.time()}
    check = stage.meta["healthcheck"]
    started, tries = time.monotonic(), 0
    while not stopping and app.poll() is None:
        tries += 1
        probe = stage.spawn(check["cmd"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            healthy = probe.wait(seconds(check.get("timeout", "30s"))) == 0
        except subprocess.TimeoutExpired:
            probe.kill()
            healthy = False
        if healthy:
            report["app"].update(healthy_after_s=round(time.monotonic() - started, 1), health_tries=tries)
            _write(path, report)
            break
        time.sleep(1.0)  # instead of --interval: the test waits for the first pass
    while not stopping and app.poll() is None:
        time.sleep(0.2)
    if app.poll() is None:
        app.send_signal(getattr(signal, stage.meta.get("stopsignal", "SIGTERM")))
    try:
        code = app.wait(90)
    except subprocess.TimeoutExpired:
        app.kill()
        code = app.wait()
    report["app"]["exit_code"] = code
    _write(path, report)
    return code


def _uid_of(pid: int) -> int:
    """The real uid of a process (Popen returns after its exec, so after the setuid)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]


def _write(path: Path, report: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--context", type=Path, default=Path("."))
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--build-arg", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("needs root (mount namespaces, overlay, chroot)")
    builder = Builder(
        args.file or args.context / "Dockerfile",
        args.context,
        args.workspace,
        dict(kv.split("=", 1) for kv in args.build_arg),
    )
    args.workspace.mkdir(parents=True, exist_ok=True)
    report_path = args.workspace / "report.json"
    report: dict[str, Any] = {"steps": builder.steps}
    try:
        final = builder.build()
    except SystemExit as exc:
        report["error"] = str(exc)
        _write(report_path, report)
        raise
    report["image"] = {"user": final.user, "workdir": final.workdir, "env": final.env, **final.meta}
    report["upper"] = str(final.upper)
    _write(report_path, report)
    return run_image(final, dict(kv.split("=", 1) for kv in args.env), report, report_path)


if __name__ == "__main__":
    sys.exit(main())
