{%- set P = cookiecutter.__class_prefix -%}
{%- set checkpoint = cookiecutter.kinds in ('both', 'checkpoint') -%}
{%- set memory = cookiecutter.kinds in ('both', 'memory') -%}
"""The stores' options models: everything a URL query or a keyword may set.

One frozen pydantic model per store. `from_url` and the constructor both go through
`spine_core.spi.parse_options`, so `?namespace=x` and `namespace="x"` reach the same value,
and a bad or unknown option is one `ConfigError` that names it (with a suggestion), its
value (never a secret's) and what is allowed. `info()` reports the values.
"""

from __future__ import annotations

from typing import ClassVar

from spine_core.spi import Namespace, StoreOptions

__all__ = [
{%- if checkpoint %}
    "{{ P }}CheckpointOptions",
{%- endif %}
{%- if memory %}
    "{{ P }}MemoryOptions",
{%- endif %}
]

# REPLACE: add the driver's settings as constrained fields, for example
#     timeout: float = Field(default=5.0, gt=0, allow_inf_nan=False)   # seconds
#     pool_size: PositiveInt = 10
#     consistency: Literal["one", "quorum", "all"] = "quorum"
#     api_key: SecretStr | None = None   # never shown in errors, repr or info()
# and the matching keyword to the store's constructor (the same name and default).
{%- if checkpoint %}


class {{ P }}CheckpointOptions(StoreOptions):
    """`{{ P }}Checkpoint`'s options."""

    store_name: ClassVar[str] = "{{ P }}Checkpoint"
    namespace: Namespace = "default"
    """Isolates stores that share one server."""
{%- endif %}
{%- if memory %}


class {{ P }}MemoryOptions(StoreOptions):
    """`{{ P }}Memory`'s options."""

    store_name: ClassVar[str] = "{{ P }}Memory"
    namespace: Namespace = "default"
    """Isolates stores that share one server."""
{%- endif %}
