"""``python -m spine_release``."""

from spine_release.cli import main

raise SystemExit(main())
