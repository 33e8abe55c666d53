{%- set P = cookiecutter.__class_prefix -%}
{%- set slug = cookiecutter.backend_slug -%}
{%- set checkpoint = cookiecutter.kinds in ('both', 'checkpoint') -%}
{%- set memory = cookiecutter.kinds in ('both', 'memory') -%}
"""The Spine conformance kit, verbatim, against the {{ cookiecutter.backend_name }} stores.

Every contract check runs for what the store advertises in `capabilities`; a check it cannot
meet yet is listed in `expected_failures` with the reason (a visible xfail), never removed.
"""

from __future__ import annotations

from typing import Any

import pytest
{% if checkpoint %}
from {{ cookiecutter.__module }}.checkpoint import (
    {{ P }}Checkpoint,
)
{%- endif %}
{%- if memory %}
from {{ cookiecutter.__module }}.memory import (
    {{ P }}Memory,
)
{%- endif %}
from spine_testing import {{ 'CheckpointStoreContract, ' if checkpoint }}{{ 'MemoryContract, ' if memory }}StoreFactory
{%- if checkpoint %}


class Test{{ P }}Checkpoint(CheckpointStoreContract):
    """The checkpoint contract."""

    # A check this store cannot meet yet, with the reason (shown as an xfail):
    # expected_failures = {"check_name": "why"}

    @pytest.fixture
    def store_factory(
        self,
        server_url: str,
        unique_prefix: str,
        namespaces: list[str],
    ) -> StoreFactory:
        def make(**options: Any) -> {{ P }}Checkpoint:
            options = {"namespace": unique_prefix, **options}
            namespaces.append(options["namespace"])  # deleted after the test
            return {{ P }}Checkpoint.from_url(server_url, **options)

        return make
{%- endif %}
{%- if memory %}


class Test{{ P }}Memory(MemoryContract):
    """The memory contract."""

    # A check this store cannot meet yet, with the reason (shown as an xfail):
    # expected_failures = {"check_name": "why"}

    @pytest.fixture
    def store_factory(
        self,
        server_url: str,
        unique_prefix: str,
        namespaces: list[str],
    ) -> StoreFactory:
        def make(**options: Any) -> {{ P }}Memory:
            options = {"namespace": unique_prefix, **options}
            namespaces.append(options["namespace"])  # deleted after the test
            return {{ P }}Memory.from_url(server_url, **options)

        return make
{%- endif %}
