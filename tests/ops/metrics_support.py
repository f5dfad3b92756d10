"""Reading `/metrics` the way Prometheus does: over a socket, parsed by prometheus_client."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, token: str | None = None) -> Samples:
    """Every sample of one scrape, keyed by (sample name, labels); a new connection each time
    (with several workers, each scrape may reach another one)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = httpx.get(url + "/metrics", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in samples.items() if sample == name and wanted <= have)


def value(samples: Samples, name: str, labels: Mapping[str, str]) -> float | None:
    return samples.get((name, frozenset(labels.items())))
