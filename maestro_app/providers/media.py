"""Images between dialects: OpenAI carries data URLs, Ollama carries bare base64."""

import binascii

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_FALLBACK_MIME = "image/jpeg"


def guess_image_mime(b64: str) -> str:
    """Media type of base64 image data from its magic bytes; JPEG when unrecognised."""
    head = "".join(b64[:64].split())[:32]
    try:
        raw = binascii.a2b_base64(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return _FALLBACK_MIME
    for signature, mime in _SIGNATURES:
        if raw.startswith(signature):
            return mime
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    return _FALLBACK_MIME


def data_url_to_base64(url: str) -> str | None:
    """The base64 payload of a `data:...;base64,` URL; None for any other URL."""
    if not url.startswith("data:"):
        return None
    header, comma, payload = url.partition(",")
    if not comma or ";base64" not in header.lower():
        return None
    payload = payload.strip()
    return payload or None


def base64_to_data_url(b64: str) -> str:
    """A data URL for base64 image data (kept as is when it already is one)."""
    if b64.startswith("data:"):
        return b64
    return f"data:{guess_image_mime(b64)};base64,{b64}"
