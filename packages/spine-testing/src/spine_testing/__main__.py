"""`python -m spine_testing --list`: print the conformance checks."""

from __future__ import annotations

import argparse
import sys

from .listing import checks_markdown, checks_text


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m spine_testing", description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the checks (default)")
    parser.add_argument("--kind", choices=("checkpoint", "memory"), help="only this kind")
    parser.add_argument("--markdown", action="store_true", help="as Markdown tables")
    args = parser.parse_args(argv)
    text = checks_markdown(args.kind) if args.markdown else checks_text(args.kind)
    sys.stdout.write(text.rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
