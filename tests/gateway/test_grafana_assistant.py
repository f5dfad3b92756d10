"""The Grafana Assistant API (SPEC §2.5): the plugin's recorded session against the gateway
in front of a fake node, chats in the database, the prompt through the normal pipeline."""

from __future__ import annotations

import pytest

from tests.gateway.grafana_support import MODEL, events_of, replay, setup
from tests.support import activity


@pytest.mark.parametrize("node_type", ["vllm", "ollama"])
def test_the_plugins_session_replays(gateway, upstream_factory, node_type):
    fake = upstream_factory([MODEL], chunks=4)
    client = gateway.client(setup(gateway, fake, node_type=node_type))
    done = replay(client)
    print(done.answers["prompt"].text)
    print(done.answers["prompt with a tool"].text)
    print(done.answers["follow-up after the tool"].text)
    print(done.data("open chat"))
    print(activity(gateway))
