"""`spine bench`: runs, writes valid JSON and PNG, cleans up. Timings are never asserted."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from spine_backends.bench.png import Canvas, encode_png
from spine_backends.bench.stats import percentile, summarize
from spine_backends.cli.bench import parse_sizes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + length
    return out


def _check_png(path: Path) -> tuple[int, int]:
    chunks = _chunks(path.read_bytes())
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    width, height, depth, color, _comp, _filter, _interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, color) == (8, 2)  # 8-bit RGB
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + 3 * width)
    return width, height


def test_bench_quick_on_the_default_writes_json_and_png(spine, workdir: Path) -> None:
    result = spine("bench", "--quick", "--json", "out/bench.json", "--png", "out/bench.png")
    assert result.code == 0, result.err
    data = json.loads((workdir / "out" / "bench.json").read_text(encoding="utf-8"))
    assert data["schema"] == "spine-bench/1"
    assert {"created_at", "environment", "config", "thresholds", "embedder", "results"} <= set(data)
    assert {"checks", "errors", "ok", "seconds"} <= set(data)
    assert data["errors"] == []
    assert data["config"]["quick"] is True
    assert data["embedder"]["name"] == "hash-v1-256"
    assert data["embedder"]["per_second"] > 0
    (item,) = data["results"]
    assert item["default"] is True
    assert item["target"].startswith("sqlite:///")
    assert not Path(item["target"].removeprefix("sqlite:///")).parent.exists()  # cleaned up

    cp = item["checkpoint"]
    assert cp["backend"] == "sqlite"
    assert cp["messages"] == 50
    assert cp["raw"] == "spine_backend_sqlite.raw:RawSQLite"
    for op in ("put", "get", "cas_put"):
        entry = cp["ops"][op]
        assert {"p50_ms", "p95_ms", "ops_per_s", "count"} <= set(entry["store"])
        assert {"p50_ms", "p95_ms", "ops_per_s"} <= set(entry["raw"])
        assert entry["ratio_p50"] > 0
    assert cp["ops"]["get"]["target"] == 1.25

    mem = item["memory"]
    assert mem["backend"] == "sqlite"
    assert mem["k"] == 10
    (row,) = mem["sizes"]
    assert row["size"] == 500
    assert {"p50_ms", "p95_ms"} <= set(row["save"])
    assert row["save_many"]["records_per_s"] > 0
    assert {"p50_ms", "p95_ms"} <= set(row["search"])
    assert 0.0 <= row["recall_at_10"] <= 1.0
    assert mem["cleanup"].startswith("pruned")

    width, height = _check_png(workdir / "out" / "bench.png")
    assert width > 0
    assert height > 0
    assert "vs raw" in result.out
    assert "R@10" in result.out
    assert "HashEmbedder" in result.out


def test_bench_json_to_stdout_and_named_targets(spine, workdir: Path) -> None:
    result = spine(
        "bench", "--quick", "--sizes", "200", "--json", "-", "--png", "", "memory://", "vector"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    backends = [(r["target"], r["kinds"]) for r in data["results"]]
    assert backends == [("memory://", ["checkpoint", "memory"]), ("vector", ["memory"])]
    memory_item = data["results"][0]
    assert memory_item["checkpoint"]["raw"] is None  # no floor for the in-process store
    assert memory_item["checkpoint"]["ops"]["put"]["ratio_p50"] is None
    assert data["results"][1]["memory"]["sizes"][0]["size"] == 200
    assert not (workdir / "spine-bench.png").exists()


def test_bench_kind_filter(spine, workdir: Path) -> None:
    result = spine("bench", "--quick", "--kind", "memory", "--json", "b.json", "--png", "b.png")
    assert result.code == 0, result.err
    data = json.loads((workdir / "b.json").read_text(encoding="utf-8"))
    (item,) = data["results"]
    assert item["checkpoint"] is None
    assert item["memory"] is not None
    _check_png(workdir / "b.png")


def test_bench_bad_target_is_a_usage_error(spine, workdir: Path) -> None:
    result = spine("bench", "--quick", "nosuch://x")
    assert result.code == 2
    assert "nosuch" in result.err
    assert not (workdir / "spine-bench.json").exists()


def test_bench_rejects_bad_sizes(spine) -> None:
    assert spine("bench", "--sizes", "ten").code == 2
    assert spine("bench", "--sizes", "0").code == 2


def test_parse_sizes() -> None:
    assert parse_sizes("10000,100k") == (10_000, 100_000)
    assert parse_sizes("5k, 1k,5000") == (1000, 5000)


def test_percentiles() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    stats = summarize([0.001, 0.003])
    assert stats["p50_ms"] == pytest.approx(2.0)
    assert stats["ops_per_s"] == pytest.approx(500.0)


def test_png_encoder_round_trips_pixels(tmp_path: Path) -> None:
    canvas = Canvas(7, 3)
    canvas.rect(1, 1, 2, 1, (255, 0, 0))
    canvas.text(0, 0, "x", scale=1)  # clipped, must not raise
    path = tmp_path / "tiny.png"
    path.write_bytes(canvas.png())
    assert _check_png(path) == (7, 3)
    raw = zlib.decompress(_chunks(path.read_bytes())[1][1])
    row1 = raw[1 * 22 : 2 * 22]
    assert row1[0] == 0  # filter byte
    assert row1[1 + 3 : 1 + 6] == b"\xff\x00\x00"
    assert encode_png(1, 1, b"\x00\x00\x00").startswith(PNG_SIGNATURE)
