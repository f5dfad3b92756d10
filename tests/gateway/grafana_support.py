"""Driving the Grafana Assistant endpoints as the plugin does: the recorded session, events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import LiveGateway
from tests.fakes.upstream import FakeUpstream
from tests.support import add_node, add_user, set_settings

SESSION = json.loads((Path(__file__).parents[1] / "fixtures" / "grafana_assistant_session.json").read_text())
BASE = "/grafana/assistant/api/v1/"
MODEL = "m"


def events_of(text: str) -> list[dict[str, Any]]:
    """The JSON events of an SSE answer."""
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


def setup(live: LiveGateway, fake: FakeUpstream, *, node_type: str = "vllm", **user: Any) -> str:
    """A node serving `m`, `grafana_model = m`, and a user; returns the user's token."""
    add_node(live, fake, name="n", node_type=node_type)
    set_settings(live, grafana_model=MODEL)
    return add_user(live, "alice", **user)


def fill(value: Any, names: dict[str, str]) -> Any:
    """The recorded value with `{chatId}`-style placeholders replaced."""
    if isinstance(value, str):
        for key, known in names.items():
            value = value.replace("{" + key + "}", known)
        return value
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


@dataclass
class Replay:
    """The answers of one replayed session, by step name."""

    answers: dict[str, httpx.Response] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def data(self, step: str) -> Any:
        return self.answers[step].json()["data"]

    def events(self, step: str) -> list[dict[str, Any]]:
        return events_of(self.answers[step].text)


def replay(client: httpx.Client, session: dict[str, Any] = SESSION) -> Replay:
    """Send every recorded step, check what it expects, and keep the answers."""
    done = Replay()
    for step in session["steps"]:
        headers = {**session["headers"], **step.get("headers", {})}
        resp = client.request(
            step["method"],
            BASE + fill(step["path"], done.names),
            params=step.get("query"),
            json=fill(step.get("json"), done.names),
            headers=headers,
        )
        expect = step["expect"]
        assert resp.status_code == expect["status"], (step["name"], resp.text)
        done.answers[step["name"]] = resp
        if expect.get("stream"):
            assert resp.headers["content-type"].startswith("text/event-stream")
            final = events_of(resp.text)[-1]
            assert final["stopReason"] == expect["stopReason"], (step["name"], final)
            for part in final["content"]:
                if part["type"] == "tool_use":
                    done.names["toolUseId"] = part["id"]
        elif expect.get("envelope", True):
            assert resp.json()["status"] == ("success" if resp.status_code < 400 else "error"), resp.text
        if "capture" in step:
            done.names[step["capture"]] = resp.json()["data"]["id"]
    return done
