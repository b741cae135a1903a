"""Read the text operators of a PDF without a PDF library: every content stream, inflated (and
ASCII85-decoded) as its filters say."""

import base64
import re
import zlib


def pdf_streams(data: bytes) -> list[bytes]:
    out = []
    for match in re.finditer(rb"\bobj\s*<<((?:(?!\bobj\b).)*?)>>\s*stream\r?\n(.*?)\s*endstream", data, re.S):
        header, body = match.group(1), match.group(2)
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.strip().removesuffix(b"~>"), adobe=False)
        if b"FlateDecode" in header:
            try:
                body = zlib.decompress(body)
            except zlib.error:
                continue
        out.append(body)
    return out


def pdf_text(data: bytes) -> str:
    """The literal strings shown by Tj in every stream, joined by newlines."""
    shown = []
    for stream in pdf_streams(data):
        shown += [m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", stream, re.S)]
    return "\n".join(shown)


def pdf_page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))
