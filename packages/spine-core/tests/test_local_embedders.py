"""SentenceTransformerEmbedder, FastEmbedEmbedder and `[spine.embedder]`, without a model.

What needs the real model (recall, batching, the worker thread) is in spine-backends'
tests/test_semantic_recall.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from spine_core import (
    ConfigError,
    FastEmbedEmbedder,
    HashEmbedder,
    InMemoryVectorMemory,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    load_config,
)
from spine_core.embedders import EMBEDDER_KINDS, make_embedder

LOCAL = (SentenceTransformerEmbedder, FastEmbedEmbedder)


def test_importing_spine_core_imports_no_model_library() -> None:
    code = (
        "import sys, spine_core, spine_core.embedders\n"
        "spine_core.SentenceTransformerEmbedder('x'); spine_core.FastEmbedEmbedder('x')\n"
        "heavy = {'torch', 'sentence_transformers', 'fastembed', 'onnxruntime', 'openai'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("cls", "module", "extra"),
    [
        (SentenceTransformerEmbedder, "sentence_transformers", "sentence-transformers"),
        (FastEmbedEmbedder, "fastembed", "fastembed"),
    ],
)
async def test_a_missing_library_names_the_extra(
    cls: type, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail as it does where the package is absent.
    monkeypatch.setitem(sys.modules, module, None)  # type: ignore[arg-type]
    embedder = cls("some-model")
    hint = f'pip install "spine-backends[{extra}]"'
    for call in (embedder.load(), embedder.embed("x"), embedder.embed_many(["x", "y"])):
        with pytest.raises(ConfigError) as caught:
            await call
        assert hint in str(caught.value)
        assert module in str(caught.value)


@pytest.mark.parametrize("cls", LOCAL)
@pytest.mark.parametrize(
    "options",
    [
        {"model": ""},
        {"model": 3},
        {"batch_size": 0},
        {"batch_size": True},
        {"name": " "},
    ],
)
def test_bad_options_fail_at_construction(cls: type, options: dict[str, object]) -> None:
    options = {"model": "m", **options}
    with pytest.raises(ConfigError):
        cls(**options)


def test_bad_model_specific_options() -> None:
    with pytest.raises(ConfigError, match="normalize"):
        SentenceTransformerEmbedder(normalize="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="device"):
        SentenceTransformerEmbedder(device="")
    with pytest.raises(ConfigError, match="threads"):
        FastEmbedEmbedder(threads=0)


def test_names_stores_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = SentenceTransformerEmbedder
    assert st().name == "sentence-transformers/all-MiniLM-L6-v2"
    assert st("BAAI/bge-small-en-v1.5").name == "sentence-transformers/BAAI/bge-small-en-v1.5"
    # A local folder is known by its last part, so moving it keeps the identity.
    assert st("/opt/models/minilm/").name == "sentence-transformers/minilm"
    assert st("./models/minilm").name == "sentence-transformers/minilm"
    (tmp_path / "models" / "minilm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert st("models/minilm").name == "sentence-transformers/minilm"  # an existing folder
    assert st("/x/model", name="all-MiniLM-L6-v2@local").name == "all-MiniLM-L6-v2@local"
    assert FastEmbedEmbedder().name == "fastembed/BAAI/bge-small-en-v1.5"
    assert repr(st("m")) == "SentenceTransformerEmbedder(model='m')"
    # The dimension is the model's, known once it is loaded.
    assert st().dim is None
    assert InMemoryVectorMemory(embedder=st()).embedder_name == st().name


def test_make_embedder_builds_each_kind_and_refuses_typos() -> None:
    assert set(EMBEDDER_KINDS) == {"hash", "sentence-transformers", "fastembed", "openai"}
    assert isinstance(make_embedder("hash", {"dim": 64}), HashEmbedder)
    assert isinstance(make_embedder("openai", {"model": "m"}), OpenAIEmbedder)
    st = make_embedder("sentence-transformers", {"model": "m", "device": "cpu", "batch_size": 4})
    assert (st.model, st.device, st.batch_size) == ("m", "cpu", 4)
    assert make_embedder("fastembed", {"cache_dir": "/tmp/x"}).cache_dir == "/tmp/x"
    with pytest.raises(ConfigError, match="did you mean 'sentence-transformers'"):
        make_embedder("sentence_transformers")
    with pytest.raises(ConfigError, match="did you mean 'batch_size'"):
        make_embedder("sentence-transformers", {"batchsize": 8})
    with pytest.raises(ConfigError, match="no option 'model'"):
        make_embedder("hash", {"model": "x"})
    assert EMBEDDER_KINDS["hash"].installed
    assert EMBEDDER_KINDS["fastembed"].install_hint == 'pip install "spine-backends[fastembed]"'
    fastembed_there = importlib.util.find_spec("fastembed") is not None
    assert EMBEDDER_KINDS["fastembed"].installed is fastembed_there


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_spine_toml_names_the_embedder(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[spine.backends]\nmemory = "vector"\n'
        '[spine.embedder]\nkind = "sentence-transformers"\nmodel = "${MODEL_DIR}"\n'
        'device = "cpu"\nbatch_size = 8\n',
    )
    config = load_config(path, env={"MODEL_DIR": "/srv/models/minilm"})
    embedder = config.build_embedder()
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert (embedder.model, embedder.device, embedder.batch_size) == (
        "/srv/models/minilm",
        "cpu",
        8,
    )
    memory = config.open_memory()
    assert isinstance(memory, InMemoryVectorMemory)
    assert isinstance(memory.embedder, SentenceTransformerEmbedder)
    # An explicit embedder wins over the file's.
    assert isinstance(config.open_memory(embedder=HashEmbedder()).embedder, HashEmbedder)


async def test_spine_toml_hash_embedder_is_used_by_the_store(tmp_path: Path) -> None:
    path = _toml(
        tmp_path, '[spine.backends]\nmemory = "vector"\n[spine.embedder]\nkind = "hash"\ndim = 64\n'
    )
    async with load_config(path, env={}).open_memory() as memory:
        await memory.save("hello world")
        assert memory.dimension == 64
        assert memory.embedder_name == "hash-v1-64"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('kind = "fastembd"', "did you mean 'fastembed'"),
        ('kind = "sentence-transformers"\nmodle = "x"', "did you mean 'model'"),
        ('model = "x"', "needs kind ="),
        ('kind = "hash"\nmodel = "x"', "no option 'model'"),
        ('kind = "openai"\napi_key = "${OPENAI_KEY_UNSET}"', "OPENAI_KEY_UNSET is not set"),
    ],
)
def test_spine_toml_embedder_mistakes_fail_loud(tmp_path: Path, table: str, message: str) -> None:
    path = _toml(tmp_path, f"[spine.embedder]\n{table}\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path, env={})
    assert str(path) in str(caught.value)


def test_a_misspelt_embedder_table_fails_loud(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[spine.embeder]\nkind = "hash"\n')
    with pytest.raises(ConfigError, match="did you mean 'embedder'"):
        load_config(path, env={})
