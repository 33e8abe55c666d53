"""spine.toml loading and ${VAR} substitution."""

from __future__ import annotations

from pathlib import Path

import pytest

from spine_core import ConfigError, InMemoryCheckpointStore, load_config
from spine_core._config import DEFAULT_CHECKPOINT, substitute
from spine_core._urls import backend_for_url, embedded_path


def test_substitution() -> None:
    env = {"HOST": "db", "EMPTY": ""}
    assert substitute("x://${HOST}:${PORT:-5432}", env) == "x://db:5432"
    assert substitute("${EMPTY:-fallback}", env) == "fallback"
    assert substitute("$${HOST}", env) == "${HOST}"
    with pytest.raises(ConfigError, match="MISSING is not set"):
        substitute("${MISSING}", env)


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.checkpoint == DEFAULT_CHECKPOINT
    assert config.source is None


def test_file_with_plugins_and_variables(tmp_path: Path) -> None:
    path = tmp_path / "spine.toml"
    path.write_text(
        '[spine.backends]\ncheckpoint = "memory"\nmemory = "${MEM:-vector}"\n'
        '[spine.plugins.memory]\nnamespace = "${NS}"\ndefault_ttl = 30\n'
    )
    config = load_config(path, env={"NS": "team-a"})
    assert config.memory == "vector"
    store = config.open_checkpoint()
    assert isinstance(store, InMemoryCheckpointStore)
    assert store.namespace == "team-a"
    assert store.default_ttl == 30


def test_unset_variable_and_unknown_keys_fail(tmp_path: Path) -> None:
    path = tmp_path / "spine.toml"
    path.write_text('[spine.backends]\ncheckpoint = "${NOPE}"\n')
    with pytest.raises(ConfigError, match="NOPE is not set"):
        load_config(path, env={})
    path.write_text("[spine]\nbackend = 1\n")
    with pytest.raises(ConfigError, match="unknown"):
        load_config(path, env={})
    path.write_text("[spine\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path, env={})


def test_spine_config_env_var(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[spine.backends]\nmemory = "vector"\n')
    assert load_config(env={"SPINE_CONFIG": str(path)}).source == path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///rel/x.db", "rel/x.db"),
        ("sqlite:////abs/x.db", "/abs/x.db"),
        ("sqlite:///a%20b.db?timeout=3", "a b.db"),
        ("qdrant+local:////data/q", "/data/q"),
    ],
)
def test_embedded_paths(url: str, path: str | None) -> None:
    assert embedded_path(url) == path


def test_embedded_url_with_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="take no host"):
        embedded_path("sqlite://host/x.db")


@pytest.mark.parametrize(
    ("url", "kind", "backend"),
    [
        ("rediss://h", "checkpoint", "redis"),
        ("postgres://h/db", "memory", "postgres"),
        ("qdrants://h", "memory", "qdrant"),
        ("qdrant+local://", "memory", "qdrant"),
        ("memory://", "memory", "vector"),
    ],
)
def test_schemes(url: str, kind: str, backend: str) -> None:
    assert backend_for_url(url, kind) == backend  # type: ignore[arg-type]


def test_third_party_scheme_maps_to_its_plugin_name() -> None:
    from spine_core import register_checkpoint
    from spine_core.registry import unregister

    register_checkpoint("acme_db", InMemoryCheckpointStore)
    try:
        assert backend_for_url("acme-db://host", "checkpoint") == "acme_db"
        with pytest.raises(ConfigError, match="unknown memory URL scheme"):
            backend_for_url("acme-db://host", "memory")
    finally:
        unregister("checkpoint", "acme_db")


SPINEKIT_TOML = """
[spine]
default_model = "anthropic:claude-sonnet-4-6"
system = "You are helpful."

[spine.guards]
max_steps = 20
max_cost_usd = 1.5

[spine.middleware]
chain = ["Retry", "Compaction"]

[spine.backends]
checkpoint = "memory"
memory = "buffer"

[spine.plugins.memory]
namespace = "team-${TEAM}"

[spine.plugins.acme]
api_key = "${ACME_KEY:-none}"
"""


def test_spinekit_toml_ignores_other_planes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from spine_core import BufferMemory

    path = tmp_path / "spine.toml"
    path.write_text(SPINEKIT_TOML)
    with caplog.at_level("DEBUG", logger="spine.config"):
        config = load_config(path, env={"TEAM": "a"})
    ignored = " ".join(r.getMessage() for r in caplog.records)
    for key in ("default_model", "system", "guards", "middleware"):
        assert repr(key) in ignored
    assert (config.checkpoint, config.memory) == ("memory", "buffer")
    store = config.open_checkpoint()
    assert isinstance(store, InMemoryCheckpointStore)
    assert store.namespace == "team-a"
    assert isinstance(config.open_memory(), BufferMemory)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[spine.backend]\ncheckpoint = "memory"\n', "did you mean 'backends'"),
        ("[spine.plugin.memory]\nnamespace = 'x'\n", "did you mean 'plugins'"),
        ('[spine.backends]\ncheckpont = "memory"\n', "did you mean 'checkpoint'"),
        ('[spine.backends]\nmemroy = "vector"\n', "did you mean 'memory'"),
    ],
)
def test_typos_in_spines_own_tables_fail_loud(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spine.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_typo_in_backend_options_suggests_the_option(tmp_path: Path) -> None:
    path = tmp_path / "spine.toml"
    path.write_text(
        '[spine.backends]\ncheckpoint = "memory"\nmemory = "vector://"\n'
        '[spine.plugins.memory]\nnamespce = "x"\n'
        '[spine.plugins.vector]\nnamespace = "y"\n'
    )
    config = load_config(path, env={})
    with pytest.raises(ConfigError, match=r"no option 'namespce'.*did you mean 'namespace'\?"):
        config.open_checkpoint()
    assert config.open_memory().namespace == "y"  # type: ignore[attr-defined]


def test_unknown_backend_in_config_suggests_the_name(tmp_path: Path) -> None:
    path = tmp_path / "spine.toml"
    path.write_text('[spine.backends]\ncheckpoint = "memroy"\n')
    with pytest.raises(ConfigError, match="did you mean 'memory'"):
        load_config(path, env={}).open_checkpoint()
