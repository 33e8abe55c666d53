"""`spine check` / `doctor` / `bench` against the other backends: local Qdrant always, real
servers through the kit's service fixtures (skipped when a server is unreachable)."""

from __future__ import annotations

import json
from pathlib import Path


def test_check_qdrant_local_mode_is_full(spine) -> None:
    result = spine("check", "qdrant+local://", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert list(report["kinds"]) == ["memory"]  # Qdrant keeps no checkpoints
    assert report["kinds"]["memory"]["level"] == "full"


def test_bench_quick_on_qdrant_local(spine, workdir: Path) -> None:
    result = spine("bench", "--quick", "qdrant+local://", "--json", "q.json", "--png", "")
    assert result.code == 0, result.err
    (item,) = json.loads((workdir / "q.json").read_text(encoding="utf-8"))["results"]
    assert item["checkpoint"] is None
    for mem in item["memory"].values():  # the text and the clustered corpus
        assert mem["backend"] == "qdrant"
        assert mem["cleanup"].startswith("pruned")


def test_check_postgres_checkpoints(spine, legacy_postgres_url: str) -> None:
    result = spine("check", legacy_postgres_url, "--kind", "checkpoint", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["kinds"]["checkpoint"]["level"] == "full"


def test_doctor_on_postgres_without_pgvector(
    spine, workdir: Path, legacy_postgres_url: str
) -> None:
    config = workdir / "spine.toml"
    config.write_text(
        f'[spine.backends]\ncheckpoint = "{legacy_postgres_url}"\n'
        f'memory = "{legacy_postgres_url}"\n',
        encoding="utf-8",
    )
    result = spine("doctor", "--json")
    assert result.code == 1  # PostgreSQL 15 has no pgvector: memory is unhealthy
    rows = {row["kind"]: row for row in json.loads(result.out)["backends"]}
    assert rows["checkpoint"]["ok"] is True
    assert rows["checkpoint"]["info"]["topology"] == "server"
    assert rows["checkpoint"]["status"] == "ok"
    assert rows["memory"]["ok"] is False
    assert rows["memory"]["status"] == "unsupported"  # it answers; it cannot serve memory
    assert "pgvector" in rows["memory"]["error"]
    table = spine("doctor")
    assert table.code == 1
    assert "1 kind(s) unsupported by the server" in table.out
    assert "unhealthy" not in table.out  # the server answers; it lacks pgvector


def test_check_redis_checkpoints(spine, legacy_redis_url: str) -> None:
    result = spine("check", legacy_redis_url, "--kind", "checkpoint", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["kinds"]["checkpoint"]["level"] == "full"


def test_bench_quick_checkpoints_beside_the_raw_floors(
    spine, workdir: Path, legacy_redis_url: str, legacy_postgres_url: str
) -> None:
    sqlite_url = f"sqlite:///{workdir / 'b.db'}"
    result = spine(
        "bench", "--quick", "--kind", "checkpoint", legacy_redis_url, legacy_postgres_url,
        sqlite_url, "--json", "cp.json", "--png", "cp.png",
    )  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads((workdir / "cp.json").read_text(encoding="utf-8"))
    floors = {item["checkpoint"]["backend"]: item["checkpoint"] for item in data["results"]}
    assert set(floors) == {"redis", "postgres", "sqlite"}
    for backend, cp in floors.items():
        assert cp["raw"], backend
        assert cp["raw_note"] is None, (backend, cp["raw_note"])  # floor behaved like the store
        for op in ("put", "get", "cas_put"):
            assert cp["ops"][op]["ratio_p50"] > 0, (backend, op)
    names = [c["name"] for c in data["checks"]]
    for backend in ("redis", "postgres", "sqlite"):
        assert f"{backend} checkpoint put+get overhead vs user floor (p50)" in names
        assert floors[backend]["ops"]["put"]["ratio_user_p50"] > 0, backend
