"""A dependency-free PNG bar chart of benchmark results (zlib + struct, a 5x7 bitmap font).

Deliberately small: `spine bench` must draw its chart on any machine without pulling in a
plotting library.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

__all__ = ["Canvas", "encode_png", "render_chart", "write_png"]

Color = tuple[int, int, int]
TIMES = "\u00d7"  # the multiplication sign, for ratios

WHITE: Color = (255, 255, 255)
INK: Color = (33, 37, 41)
MUTED: Color = (120, 125, 130)
GRID: Color = (225, 228, 232)
GREEN: Color = (46, 160, 67)
RED: Color = (207, 34, 46)
BLUE: Color = (9, 105, 218)
GRAY: Color = (175, 180, 186)

_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    " ": (".....",) * 7,
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "_": (".....", ".....", ".....", ".....", ".....", ".....", "#####"),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "[": (".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."),
    "]": (".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."),
    "%": ("##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"),
    TIMES: (".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "=": (".....", ".....", "#####", ".....", "#####", ".....", "....."),
    "<": ("...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."),
    ">": (".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."),
    "≤": ("...#.", "..#..", ".#...", "..#..", "...#.", ".....", "#####"),
    "≥": (".#...", "..#..", "...#.", "..#..", ".#...", ".....", "#####"),
    "@": (".###.", "#...#", "#.###", "#.#.#", "#.###", "#....", ".###."),
    "#": (".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    "*": (".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."),
    "✓": (".....", "....#", "...#.", "#.#..", ".#...", ".....", "....."),
    "✗": (".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "....."),
}
_ALIASES = {"\u2014": "-", "\u2013": "-", "\u2192": ">"}


class Canvas:
    """An RGB image in memory with rectangles and text."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        """Fill a rectangle (clipped to the canvas)."""
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        run = bytes(color) * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def text(self, x: int, y: int, text: str, color: Color = INK, scale: int = 2) -> int:
        """Draw `text` with its top-left at (x, y); returns the x after it."""
        for char in text.upper():
            glyph = _GLYPHS.get(_ALIASES.get(char, char), _GLYPHS["?"])
            for r, line in enumerate(glyph):
                for c, bit in enumerate(line):
                    if bit == "#":
                        self.rect(x + c * scale, y + r * scale, scale, scale, color)
            x += 6 * scale
        return x

    @staticmethod
    def text_width(text: str, scale: int = 2) -> int:
        """Width in pixels of `text` at `scale`."""
        return len(text) * 6 * scale

    def png(self) -> bytes:
        """The image encoded as PNG."""
        return encode_png(self.width, self.height, bytes(self.pixels))


def encode_png(width: int, height: int, rgb: bytes) -> bytes:
    """PNG bytes for 8-bit RGB pixel data (row-major, no padding)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# -- the chart ---------------------------------------------------------------------------------

_W = 1100
_MARGIN = 24
_LABEL_W = 300
_ROW_H = 26
_BAR_H = 14
_BAR_W = _W - 2 * _MARGIN - _LABEL_W - 230


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _color(ok: bool | None) -> Color:
    return BLUE if ok is None else (GREEN if ok else RED)


def _sections(result: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], float | None]]:
    """(title, rows, target line) where a row is {label, value, raw?, text, ok}."""
    overhead: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    search: list[dict[str, Any]] = []
    ingest: list[dict[str, Any]] = []
    for item in result.get("results", []):
        cp = item.get("checkpoint")
        if cp:
            name = str(cp["backend"])
            for op, entry in cp["ops"].items():
                if not entry.get("store"):
                    continue
                store_ms = entry["store"]["p50_ms"]
                raw_ms = entry["raw"]["p50_ms"] if entry.get("raw") else None
                ratio = entry.get("ratio_p50")
                if ratio is not None:
                    overhead.append(
                        {
                            "label": f"{name} {op}",
                            "value": ratio,
                            "text": f"{ratio:.2f}{TIMES}",
                            "ok": entry.get("ok"),
                        }
                    )
                latency.append(
                    {
                        "label": f"{name} {op}",
                        "value": store_ms,
                        "raw": raw_ms,
                        "text": f"{_fmt(store_ms)} ms"
                        + (f" (raw {_fmt(raw_ms)})" if raw_ms is not None else ""),
                        "ok": None,
                    }
                )
        mem = item.get("memory")
        if mem:
            name = str(mem["backend"])
            for row in mem["sizes"]:
                judged = row.get("targets") or []
                ok = all(t["ok"] for t in judged) if judged else None
                p50 = row["search"]["p50_ms"]
                search.append(
                    {
                        "label": f"{name} {row['size']:,}",
                        "value": p50,
                        "text": f"{_fmt(p50)} ms  r@10 {row['recall_at_10']:.2f}",
                        "ok": ok,
                    }
                )
                bulk = row.get("save_many")
                if bulk and bulk.get("records_per_s"):
                    ingest.append(
                        {
                            "label": f"{name} {row['size']:,}",
                            "value": bulk["records_per_s"],
                            "text": f"{_fmt(bulk['records_per_s'])}/s",
                            "ok": None,
                        }
                    )
    threshold = result.get("thresholds", {}).get("overhead_max")
    return [
        ("checkpoint overhead: store / raw driver, p50", overhead, threshold),
        ("checkpoint latency p50 (ms): store, raw in gray", latency, None),
        ("memory search p50 (ms) and recall@10", search, None),
        ("memory save_many throughput (records/s)", ingest, None),
    ]


def render_chart(result: dict[str, Any]) -> Canvas:
    """Draw the results as horizontal bar charts, one section per measure."""
    sections = [s for s in _sections(result) if s[1]]
    height = 110 + sum(44 + len(rows) * _ROW_H for _, rows, _ in sections) + 50
    canvas = Canvas(_W, height)
    y = _MARGIN
    canvas.text(_MARGIN, y, "spine bench", INK, scale=3)
    env = result.get("environment", {})
    subtitle = (
        f"{result.get('created_at', '')[:19].replace('T', ' ')} utc  "
        f"python {env.get('python', '?')}  {env.get('cpus', '?')} cpus"
        + ("  (quick)" if result.get("config", {}).get("quick") else "")
    )
    canvas.text(_MARGIN, y + 30, subtitle, MUTED, scale=2)
    y += 70
    x0 = _MARGIN + _LABEL_W
    for title, rows, threshold in sections:
        canvas.text(_MARGIN, y, title, INK, scale=2)
        y += 24
        canvas.rect(_MARGIN, y, _W - 2 * _MARGIN, 1, GRID)
        y += 8
        top = max([r["value"] for r in rows] + [r.get("raw") or 0 for r in rows] + [threshold or 0])
        scale = _BAR_W / (top * 1.1) if top > 0 else 0
        for row in rows:
            canvas.text(_MARGIN, y + 3, row["label"][:24], INK, scale=2)
            width = max(1, round(row["value"] * scale))
            raw = row.get("raw")
            if raw is not None:
                raw_width = max(1, round(raw * scale))
                canvas.rect(x0, y, raw_width, _BAR_H // 2, GRAY)
                canvas.rect(x0, y + _BAR_H // 2, width, _BAR_H // 2 + 2, _color(row["ok"]))
                width = max(width, raw_width)
            else:
                canvas.rect(x0, y, width, _BAR_H + 2, _color(row["ok"]))
            canvas.text(x0 + width + 8, y + 2, row["text"], MUTED, scale=2)
            y += _ROW_H
        if threshold:
            tx = x0 + round(threshold * scale)
            for dash in range(y - len(rows) * _ROW_H - 4, y - 6, 6):
                canvas.rect(tx, dash, 2, 3, RED)
            canvas.text(tx + 4, y - 2, f"target {threshold:g}{TIMES}", RED, scale=1)
        y += 12
    emb = result.get("embedder")
    if emb:
        mark = "✓" if emb.get("ok") else "✗"
        canvas.text(
            _MARGIN,
            y + 6,
            f"hashembedder {emb['per_second']:,.0f}/s (target ≥ {emb['target']:,.0f}) {mark}",
            GREEN if emb.get("ok") else RED,
            scale=2,
        )
    return canvas


def write_png(result: dict[str, Any], path: str | Path) -> Path:
    """Render the chart for `result` into `path`."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(render_chart(result).png())
    return out
