"""The distribution that registers the Spine kit's pytest plugin (entry point ``spine``).

The plugin itself is `spine_testing.plugin` and the base classes are
`spine_testing.CheckpointStoreContract` / `spine_testing.MemoryContract`; installing
``spine-testing[pytest]`` (this distribution) is what brings pytest and activates them.
"""

PLUGIN = "spine_testing.plugin"
"""The module pytest loads through this distribution's ``pytest11`` entry point."""

__all__ = ["PLUGIN"]
