"""Small files of each type the server accepts, for upload and storage tests.

The server decides a file's type from its first bytes (``mochung.domain.files``), so the
JPEG, WebP and PDF here are their signatures plus filler; the PNG is a real, decodable
1×1 image, so a test that shows or checks it against a PNG reader still holds.
"""

from __future__ import annotations

import struct
import zlib


def tiny_png() -> bytes:
    """A real 1×1 PNG: one red pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(200)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(100)
PDF = b"%PDF-1.7\n" + b"1 0 obj <<>> endobj\n" * 10
