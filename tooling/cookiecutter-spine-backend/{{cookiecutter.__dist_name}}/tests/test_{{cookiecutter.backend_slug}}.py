{%- set P = cookiecutter.__class_prefix -%}
{%- set slug = cookiecutter.backend_slug -%}
{%- set checkpoint = cookiecutter.kinds in ('both', 'checkpoint') -%}
{%- set memory = cookiecutter.kinds in ('both', 'memory') -%}
{%- set Store = P ~ ('Checkpoint' if checkpoint else 'Memory') -%}
{%- set kind = 'checkpoint' if checkpoint else 'memory' -%}
"""What is specific to this backend: URLs, secrets, lazy imports, registration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from {{ cookiecutter.__module }}.{{ kind }} import (
    {{ Store }},
)
from spine_core import ConfigError, list_plugins, open_{{ kind }}, resolve_{{ kind }}

SECRET_URL = "{{ cookiecutter.__scheme }}://spine:s3cr3t-pw@db.example:1234"


def test_importing_the_package_imports_no_store_module() -> None:
    # Drivers are imported lazily, so `spine plugin list` and the registry stay cheap.
    module = "{{ cookiecutter.__module }}"
    code = f"import sys, {module}; print([m for m in sys.modules if m.startswith('{module}.')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_registered_through_its_entry_point() -> None:
    store = resolve_{{ kind }}("{{ slug }}", url=SECRET_URL)
    assert isinstance(store, {{ Store }})
    plugin = next(p for p in list_plugins() if p.name == "{{ slug }}")
    assert plugin.distribution == "{{ cookiecutter.__dist_name }}"
    assert set(plugin.kinds) == { {{- ('"checkpoint", "memory"' if checkpoint and memory else '"' ~ kind ~ '"') -}} }


def test_open_by_name_and_by_class_agree() -> None:
    store = open_{{ kind }}("{{ slug }}", url=SECRET_URL, namespace="n1")
    assert isinstance(store, {{ Store }})
    direct = {{ Store }}.from_url(SECRET_URL, namespace="n1")
    assert store.info().target == direct.info().target


def test_password_never_shown() -> None:
    store = {{ Store }}.from_url(SECRET_URL)
    assert "s3cr3t-pw" not in repr(store)
    assert "s3cr3t-pw" not in str(store.info())
    with pytest.raises(ConfigError) as caught:
        {{ Store }}.from_url("other://spine:s3cr3t-pw@db.example")
    assert "s3cr3t-pw" not in str(caught.value)


def test_constructors_do_no_io() -> None:
    # An unreachable host must not fail here: stores connect on first use.
    url = "{{ cookiecutter.__scheme }}://unreachable.invalid:1"
    {{ Store }}.from_url(url)


def test_rejects_another_scheme() -> None:
    with pytest.raises(ConfigError, match="{{ cookiecutter.__scheme }}://"):
        {{ Store }}.from_url("sqlite:///somewhere.db")
