{%- set P = cookiecutter.__class_prefix -%}
{%- set checkpoint = cookiecutter.kinds in ('both', 'checkpoint') -%}
{%- set memory = cookiecutter.kinds in ('both', 'memory') -%}
"""Spine storage backend on {{ cookiecutter.backend_name }}.

Importing this package imports no driver: the store classes load on first access
(`from <this package> import <class>`) or when the Spine registry resolves the backend's
name, `open_{{ 'checkpoint' if checkpoint else 'memory' }}("{{ cookiecutter.backend_slug }}")`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spine_core.spi import lazy_exports

if TYPE_CHECKING:
{%- if checkpoint %}
    from .checkpoint import {{ P }}Checkpoint
{%- endif %}
{%- if memory %}
    from .memory import {{ P }}Memory
{%- endif %}
{%- if checkpoint %}
    from .raw import Raw{{ P }}
{%- endif %}
{%- set names = ([P ~ 'Checkpoint', 'Raw' ~ P] if checkpoint else []) + ([P ~ 'Memory'] if memory else []) %}

__all__ = [
{%- for name in names | sort(case_sensitive=true) %}
    "{{ name }}",
{%- endfor %}
]

# The store classes (and their drivers) load on first access.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
{%- if checkpoint %}
        "{{ P }}Checkpoint": "checkpoint",
{%- endif %}
{%- if memory %}
        "{{ P }}Memory": "memory",
{%- endif %}
{%- if checkpoint %}
        "Raw{{ P }}": "raw",
{%- endif %}
    },
)
