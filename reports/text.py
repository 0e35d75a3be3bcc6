"""Small text helpers shared by the writers: hex dumps and escaping for XML and Markdown.

Everything an IUT or a frame supplied is untrusted text; each output format has exactly one escaping function here so
that a writer cannot forget it halfway.
"""

from __future__ import annotations

import re

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 cannot carry at all (ElementTree escapes the rest): ``\\x07`` -> ``\\x07`` text."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def md_escape(text: str) -> str:
    """Text for a Markdown table cell: HTML-escaped (GitHub renders inline HTML), Markdown punctuation escaped,
    newlines and control characters made visible so a cell stays one cell."""
    text = xml_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", " ").replace("\n", " ")


def md_code(text: str) -> str:
    """Text inside an inline code span of a table cell (no escapes are interpreted there except the pipe)."""
    clean = xml_safe(text).replace("\n", " ").replace("|", "\\|").replace("`", "'")
    return f"`{clean}`"


def hexdump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes in two groups of eight, and printable ASCII, one line per ``width`` bytes."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk[:8])
        if len(chunk) > 8:
            hexes += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:04x}  {hexes:<{3 * width + 1}} {ascii_}")
    return "\n".join(lines)
