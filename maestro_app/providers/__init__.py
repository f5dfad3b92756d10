"""Dialect layer: pure translation between the OpenAI and the Ollama wire formats.

Nothing here does I/O. The gateway reads bytes from a node, decodes them with `sse` or
`ndjson` framing, feeds parsed chunks to the translators in `bridge`, and writes what
comes out back to the client in the client's framing.
"""
