"""`python -m spine_backends`: the `spine` command."""

from spine_backends.cli import main

raise SystemExit(main())
