"""Logic repeated between adapters: runs of similar lines shared by two different adapters.

    python tooling/dupcheck.py                 # report; exit 1 on a run the allowlist lacks
    python tooling/dupcheck.py --min-lines 4   # a stricter threshold
    python tooling/dupcheck.py --suggest       # TOML allowlist entries for today's runs

Each adapter's ``src`` is read as tokens. What is a declaration, not logic, is left out:
imports, decorators, ``def``/``class`` headers (signatures), docstrings, annotated fields
(``name: type = default``, as options models and dataclasses spell them) and lines of only
brackets and commas. Strings become ``S``, numbers ``0`` and variables ``N``; keywords,
attributes and the names of what is called are kept, so two adapters match where they take
the same steps under other local names, not merely where their code has the same shape.
Every window of `min_lines` consecutive kept lines (with `min_tokens` tokens, inside one
function) is hashed; windows two adapters share are joined into
maximal runs and reported as pairs.

The allowlist (``tooling/dupcheck-allow.toml``) sets ``min_lines`` and lists accepted runs
by fingerprint, each with a reason; an entry that matches nothing any more is reported too,
so the list cannot rot. `tests/test_duplicates.py` runs this inside the test suite.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import keyword
import sys
import tokenize
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = Path(__file__).with_name("dupcheck-allow.toml")
DEFAULT_MIN_LINES = 3
DEFAULT_MIN_TOKENS = 20

_PUNCTUATION = frozenset({"(", ")", "[", "]", "{", "}", ",", ":", ";", "."})
_LITERALS = frozenset({"S", "0", "True", "False", "None", "-"})


def _declarative(tokens: list[str]) -> bool:
    """A line of only literals and brackets, or ``name=literal`` / ``"key": literal``.

    Such lines spell data (an ``__all__`` list, a capabilities descriptor's keywords, a
    mapping of names), not steps of logic.
    """
    rest = tokens
    if (
        len(tokens) >= 2
        and tokens[1] in ("=", ":")
        and (tokens[0] == "S" or tokens[0].isidentifier())
    ):
        rest = tokens[2:]
    return all(t in _PUNCTUATION or t in _LITERALS for t in rest)


@dataclass(frozen=True)
class Line:
    """One kept source line: its number and normalised text."""

    number: int
    text: str
    scope: int = 0
    """The line of the innermost ``def``/``class`` it belongs to (0: module level)."""

    @property
    def tokens(self) -> int:
        """How many tokens the line has."""
        return self.text.count(" ") + 1


@dataclass(frozen=True)
class Run:
    """Lines of one file that stand again (normalised) in a file of another adapter."""

    a: str
    a_lines: tuple[int, int]
    b: str
    b_lines: tuple[int, int]
    length: int
    """How many kept (logic) lines the run spans."""
    fingerprint: str
    """A hash of the run's normalised text: stable when the code moves within its file."""

    def where(self) -> str:
        """``a.py:10-24 ~ b.py:40-54``."""
        (a1, a2), (b1, b2) = self.a_lines, self.b_lines
        return f"{self.a}:{a1}-{a2} ~ {self.b}:{b1}-{b2}"


def _declaration_lines(tree: ast.Module) -> set[int]:
    """Line numbers of imports, decorators, signatures, docstrings and annotated fields."""
    skip: set[int] = set()

    def span(first: int, last: int | None) -> None:
        skip.update(range(first, (last or first) + 1))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom | ast.AnnAssign):
            span(node.lineno, node.end_lineno)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            span(node.lineno, node.end_lineno)  # imports for annotations only
        elif isinstance(node, ast.Assign) and _is_literal(node.value):
            span(node.lineno, node.end_lineno)  # constants: __all__, column lists, tables
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                span(decorator.lineno, decorator.end_lineno)
            span(node.lineno, node.body[0].lineno - 1)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                span(first.lineno, first.end_lineno)
        # An attribute docstring (a bare string after an assignment) is documentation too.
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            span(node.lineno, node.end_lineno)
    return skip


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def logic_lines(source: str) -> list[Line]:
    """The normalised lines of `source` that carry logic (see the module docstring)."""
    tree = ast.parse(source)
    skip = _declaration_lines(tree)
    scope: dict[int, int] = {}
    # ast.walk goes outside in, so an inner definition overwrites its lines last.
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                scope[number] = node.lineno
    parts: dict[int, list[str]] = defaultdict(list)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(tokens):
        line = tok.start[0]
        if line in skip:
            continue
        kind = tok.type
        if kind == tokenize.NAME:
            parts[line].append(_name(tok.string, tokens[i - 1].string, tokens[i + 1].string))
        elif kind == tokenize.OP:
            parts[line].append(tok.string)
        elif kind == tokenize.NUMBER:
            parts[line].append("0")
        elif kind == tokenize.STRING or tok_name(kind) == "FSTRING_START":
            parts[line].append("S")
    lines = []
    for number in sorted(parts):
        if _declarative(parts[number]):
            continue
        lines.append(Line(number, " ".join(parts[number]), scope.get(number, 0)))
    return lines


def _name(name: str, before: str, after: str) -> str:
    """A variable's name is left out (``N``); keywords, attributes and callees are kept.

    Two adapters that take the same steps under other local names still match; what a
    step does (the method or function it calls) has to be the same.
    """
    if keyword.iskeyword(name) or before == "." or after == "(" or name == "self":
        return name
    return "N"


def tok_name(kind: int) -> str:
    """The token type's name (FSTRING_* exist from Python 3.12 on)."""
    return tokenize.tok_name.get(kind, "")


def _hash(texts: list[str]) -> str:
    return hashlib.blake2b("\n".join(texts).encode(), digest_size=8).hexdigest()


def adapter_files(root: Path) -> dict[str, list[Path]]:
    """Adapter folder name → its source files."""
    return {
        adapter.name: sorted((adapter / "src").rglob("*.py"))
        for adapter in sorted((root / "adapters").iterdir())
        if (adapter / "src").is_dir()
    }


def find_runs(
    files: dict[str, list[Path]], root: Path, min_lines: int, min_tokens: int = DEFAULT_MIN_TOKENS
) -> list[Run]:
    """Every maximal run of ≥ `min_lines` logic lines shared by files of two adapters.

    A window counts only with ≥ `min_tokens` tokens: ``raise`` / ``raise X(`` / ``) from None``
    is an idiom, ``ttl = self._check_put_options(...)`` / ``raw = dump_state(state)`` /
    ``await self._ensure_ready()`` is a flow.
    """
    lines: dict[str, list[Line]] = {}
    owner: dict[str, str] = {}
    windows: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for adapter, paths in files.items():
        for path in paths:
            name = path.relative_to(root).as_posix()
            owner[name] = adapter
            lines[name] = logic_lines(path.read_text(encoding="utf-8"))
            kept = lines[name]
            for i in range(len(kept) - min_lines + 1):
                window = kept[i : i + min_lines]
                # A window stays inside one function: the end of one and the start of the
                # next are not a piece of logic anyone could share.
                if window[0].scope != window[-1].scope:
                    continue
                if sum(line.tokens for line in window) >= min_tokens:
                    windows[_hash([line.text for line in window])].append((name, i))
    # Matching window starts per ordered file pair; consecutive starts form one run.
    starts: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for places in windows.values():
        if len(places) > 8:
            continue  # a window standing in many places is an idiom, not copied logic
        for x, (fa, ia) in enumerate(places):
            for fb, ib in places[x + 1 :]:
                if owner[fa] == owner[fb]:
                    continue
                if fa > fb:
                    fa, ia, fb, ib = fb, ib, fa, ia
                starts[(fa, fb)].add((ia, ib))
    runs = []
    for (fa, fb), pairs in sorted(starts.items()):
        for ia, ib in sorted(pairs):
            if (ia - 1, ib - 1) in pairs:
                continue  # inside a run that began earlier
            n = 0
            while (ia + n, ib + n) in pairs:
                n += 1
            count = n + min_lines - 1
            la, lb = lines[fa][ia : ia + count], lines[fb][ib : ib + count]
            runs.append(
                Run(
                    a=fa,
                    a_lines=(la[0].number, la[-1].number),
                    b=fb,
                    b_lines=(lb[0].number, lb[-1].number),
                    length=count,
                    fingerprint=_hash([line.text for line in la]),
                )
            )
    return sorted(runs, key=lambda r: (-r.length, r.a, r.a_lines))


@dataclass(frozen=True)
class Allowlist:
    """The thresholds and the accepted runs (fingerprint → reason)."""

    min_lines: int
    min_tokens: int
    allowed: dict[str, str]


def load_allowlist(path: Path = ALLOWLIST) -> Allowlist:
    """Read the allowlist; `ValueError` for an entry without a reason."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    allowed: dict[str, str] = {}
    for entry in data.get("allow", []):
        reason = str(entry.get("reason", "")).strip()
        if not reason or reason.upper().startswith("TODO"):
            raise ValueError(f"{path.name}: entry {entry.get('fingerprint')!r} needs a reason")
        allowed[str(entry["fingerprint"])] = reason
    return Allowlist(
        int(data.get("min_lines", DEFAULT_MIN_LINES)),
        int(data.get("min_tokens", DEFAULT_MIN_TOKENS)),
        allowed,
    )


def check(
    root: Path = ROOT, allowlist: Allowlist | None = None, min_lines: int | None = None
) -> tuple[list[Run], list[Run], list[str]]:
    """(runs not allowed, runs allowed, allowlisted fingerprints that match nothing)."""
    allow = allowlist if allowlist is not None else load_allowlist()
    runs = find_runs(adapter_files(root), root, min_lines or allow.min_lines, allow.min_tokens)
    bad = [r for r in runs if r.fingerprint not in allow.allowed]
    ok = [r for r in runs if r.fingerprint in allow.allowed]
    seen = {r.fingerprint for r in runs}
    stale = sorted(f for f in allow.allowed if f not in seen)
    return bad, ok, stale


def suggestion(runs: list[Run]) -> str:
    """TOML allowlist entries for `runs` (each reason to be written by a person)."""
    return "\n".join(
        f'[[allow]]\nfingerprint = "{r.fingerprint}"\nwhere = "{r.where()}"  '
        f'# {r.length} lines\nreason = "TODO"\n'
        for r in runs
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: report runs; exit 1 on a run not allowed or a stale allowlist entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--min-lines", type=int, default=None)
    parser.add_argument("--suggest", action="store_true", help="print allowlist entries")
    args = parser.parse_args(argv)
    bad, ok, stale = check(args.root, min_lines=args.min_lines)
    if args.suggest:
        print(suggestion(bad))
        return 0
    for run in bad:
        print(f"DUPLICATE {run.length} lines  {run.where()}  [{run.fingerprint}]")
    for run in ok:
        print(f"allowed   {run.length} lines  {run.where()}  [{run.fingerprint}]")
    for fingerprint in stale:
        print(f"STALE     allowlist entry {fingerprint} matches nothing: delete it")
    return 1 if bad or stale else 0


if __name__ == "__main__":
    sys.exit(main())
