"""A backend class whose driver is not installed is a `MissingExtraError` naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_HIDDEN = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name == {driver!r} or name.startswith({driver!r} + "."):
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    import spine_backends
    try:
        getattr(spine_backends, {name!r})
    except spine_backends.MissingExtraError as exc:
        assert isinstance(exc, spine_backends.ConfigError) and isinstance(exc, ImportError)
        print(exc)
    else:
        print("imported")
    """
)


@pytest.mark.parametrize(
    ("driver", "name", "extra"),
    [
        ("redis", "RedisMemory", "spine-backends[redis]"),
        ("psycopg", "PostgresCheckpoint", "spine-backends[postgres]"),
        ("qdrant_client", "QdrantMemory", "spine-backends[qdrant]"),
    ],
)
def test_a_class_without_its_driver_names_the_extra(driver: str, name: str, extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _HIDDEN.format(driver=driver, name=name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f'pip install "{extra}"' in done.stdout, done.stdout
    assert f"No module named '{driver}'" in done.stdout


def test_a_class_with_its_driver_imports() -> None:
    import spine_backends

    assert spine_backends.RedisCheckpoint.__name__ == "RedisCheckpoint"
