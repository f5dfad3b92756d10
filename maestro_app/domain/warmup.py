"""What warmup does on each node type: for the warmup job, the admin API and the dashboard.

ollama  "keep_alive"   an empty `/api/generate` with `keep_alive`, per model in use
vllm    "not_needed"   a vLLM server keeps its model loaded; nothing is sent
"""

from __future__ import annotations

WARMUP_BY_NODE_TYPE = {"ollama": "keep_alive", "vllm": "not_needed"}
WARMUP_NOTES = {
    "keep_alive": "Keeps the models used on this node in the last 24 hours loaded (Ollama keep_alive).",
    "not_needed": "vLLM keeps its models loaded: warmup sends nothing to this node.",
}


def warmup_mode(node_type: str) -> str:
    return WARMUP_BY_NODE_TYPE.get(node_type, "not_needed")
