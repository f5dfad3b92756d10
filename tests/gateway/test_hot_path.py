"""The hot path does no database query: count SQL statements during 100 proxied requests."""

from __future__ import annotations

from sqlalchemy import event

from maestro_app.db.engine import background_db_work
from tests.support import activity, add_mapping, add_node, add_user


def test_no_sql_on_the_hot_path(gateway, upstream_factory):
    fake = upstream_factory(["real-a"])
    add_node(gateway, fake, name="n", node_type="vllm")
    add_mapping(gateway, "display-a", "real-a")
    client = gateway.client(add_user(gateway))
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        # Background work (activity flusher, config-version poll) is marked; everything
        # else would have been caused by request handling.
        if not background_db_work.get():
            statements.append(statement)

    event.listen(gateway.runtime.engine, "before_cursor_execute", count)
    try:
        for i in range(100):
            body = {"model": "display-a", "messages": [{"role": "user", "content": f"q{i}"}]}
            if i % 2:
                body["stream"] = True
            if i % 4 == 3:  # the Responses API goes through the same pipeline
                resp = client.post(
                    "/v1/responses", json={"model": "display-a", "input": f"q{i}", "stream": i % 8 == 7}
                )
            else:
                resp = client.post("/v1/chat/completions", json=body)
            assert resp.status_code == 200
        assert client.get("/v1/models").status_code == 200
    finally:
        event.remove(gateway.runtime.engine, "before_cursor_execute", count)
    assert statements == []
    assert len(activity(gateway)) == 100
