"""Release machinery for the Spine workspace.

Tag planning (:mod:`spine_release.plan`), publish-workflow generation
(:mod:`spine_release.workflows`), affected sets for CI (:mod:`spine_release.affected`),
distribution checks (:mod:`spine_release.distcheck`) and the release rehearsal
(:mod:`spine_release.rehearsal`).
"""

from spine_release.workflows import write_workflow

__all__ = ["write_workflow"]
