"""The conformance report: one result per check and a conformance level per kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from spine_core import Kind

from .registry import FUNCTIONAL

__all__ = ["CheckResult", "ConformanceReport", "Level", "Status"]

Status = Literal["passed", "failed", "not advertised", "expected failure", "skipped"]
"""passed; failed; not advertised (capability off, check not run); expected failure (listed in
`expected_failures` and failed, as listed); skipped (could not run here, e.g. no isolation)."""

Level = Literal["none", "base", "full"]
"""none: a base check failed. base: every base check passes. full: base, and every functional
capability of the kind is advertised and passes (properties such as `durable` are tested when
advertised but not required)."""

_ORDER: dict[Level, int] = {"none": 0, "base": 1, "full": 2}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    kind: Kind
    capability: str
    """"base" or the optional capability the check tests."""
    status: Status
    detail: str = ""
    """Why it failed or was not run (the assertion message), or remarks on a pass."""
    duration: float = 0.0
    """Seconds."""
    expected_failure: str | None = None
    """The reason given in `expected_failures`, when the check is listed there."""

    @property
    def failed(self) -> bool:
        """True for a failure that makes the run not ok (including an unexpected pass)."""
        return self.status == "failed"

    @property
    def met(self) -> bool:
        """Whether the store meets this check (an unexpected pass counts as met)."""
        # A listed check never ends "failed" unless it passed against expectations.
        return self.status == "passed" or (
            self.status == "failed" and self.expected_failure is not None
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ConformanceReport:
    """Results of a conformance run over one or more kinds."""

    results: tuple[CheckResult, ...]
    stores: Mapping[Kind, str] = field(default_factory=dict)
    """What was tested, per kind (the store's class and redacted target)."""
    advertised: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)
    """Capabilities the store advertised, per kind."""
    partial: bool = False
    """Only some checks ran (`checks=`): the level covers those alone."""

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds this report covers, in order."""
        seen = dict.fromkeys([*self.stores, *(r.kind for r in self.results)])
        return tuple(seen)

    @property
    def ok(self) -> bool:
        """False when any check failed (an expected failure that passed is a failure too)."""
        return not any(r.failed for r in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The failed checks."""
        return tuple(r for r in self.results if r.failed)

    def level_of(self, kind: Kind) -> tuple[Level, str]:
        """The conformance level of `kind` and why."""
        mine = [r for r in self.results if r.kind == kind]
        base_bad = [r.name for r in mine if r.capability == "base" and not r.met and _counts(r)]
        if base_bad:
            return "none", f"base check(s) not met: {', '.join(base_bad)}"
        cap_bad = [
            f"{r.name} ({r.capability})"
            for r in mine
            if r.capability != "base" and r.status != "not advertised" and not r.met
        ]
        if cap_bad:
            return "base", f"advertised capability check(s) not met: {', '.join(cap_bad)}"
        missing = sorted(FUNCTIONAL[kind] - set(self.advertised.get(kind, ())))
        if missing:
            return "base", f"not advertised: {', '.join(missing)}"
        return "full", "every functional capability is advertised and passes"

    @property
    def levels(self) -> dict[Kind, Level]:
        """The conformance level per kind."""
        return {kind: self.level_of(kind)[0] for kind in self.kinds}

    @property
    def level(self) -> Level:
        """The lowest level over the kinds covered ("none" for an empty report)."""
        levels = list(self.levels.values())
        return min(levels, key=_ORDER.__getitem__) if levels else "none"

    def counts(self, kind: Kind | None = None) -> dict[str, int]:
        """How many checks ended in each status."""
        out = dict.fromkeys(
            ("passed", "failed", "expected failure", "not advertised", "skipped"), 0
        )
        for r in self.results:
            if kind is None or r.kind == kind:
                out[r.status] += 1
        return out

    def render(self, *, detail_width: int = 200) -> str:
        """A plain-text table: one row per check, then the level of each kind.

        Details longer than `detail_width` characters are cut (`to_dict` keeps them whole).
        """
        lines: list[str] = []
        for kind in self.kinds:
            rows = [r for r in self.results if r.kind == kind]
            title = f"Spine conformance: {kind}"
            if self.stores.get(kind):
                title += f" — {self.stores[kind]}"
            lines += [title, ""]
            name_w = max([len("check"), *(len(r.name) for r in rows)])
            cap_w = max([len("capability"), *(len(r.capability) for r in rows)])
            status_w = len("expected failure")
            head = f"  {'check':<{name_w}}  {'capability':<{cap_w}}  {'status':<{status_w}}  "
            lines.append(f"{head}{'time':>6}  detail")
            for r in rows:
                detail = " ".join(r.detail.split())
                if len(detail) > detail_width:
                    detail = detail[: detail_width - 1] + "…"
                lines.append(
                    f"  {r.name:<{name_w}}  {r.capability:<{cap_w}}  {r.status:<{status_w}}  "
                    f"{r.duration:>5.2f}s  {detail}".rstrip()
                )
            level, why = self.level_of(kind)
            c = self.counts(kind)
            total = sum(r.duration for r in rows)
            lines += [
                "",
                f"{kind}: level {level.upper()} — {c['passed']} passed, {c['failed']} failed, "
                f"{c['expected failure']} expected failures, {c['not advertised']} not "
                f"advertised, {c['skipped']} skipped ({total:.1f}s)",
                f"  {why}",
            ]
            if self.advertised.get(kind) is not None:
                lines.append(f"  advertised: {', '.join(self.advertised[kind]) or 'nothing'}")
            if self.partial:
                lines.append("  partial run: the level covers only the checks that ran")
            lines.append("")
        lines.append("OK" if self.ok else f"FAILED ({len(self.failures)} check(s))")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: results, levels (with reasons), stores, advertised, ok."""
        return {
            "ok": self.ok,
            "level": self.level,
            "partial": self.partial,
            "kinds": {
                kind: {
                    "level": self.level_of(kind)[0],
                    "reason": self.level_of(kind)[1],
                    "store": self.stores.get(kind),
                    "advertised": list(self.advertised.get(kind, ())),
                    "counts": self.counts(kind),
                }
                for kind in self.kinds
            },
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def combine(cls, reports: Iterable[ConformanceReport]) -> ConformanceReport:
        """One report over several runs (e.g. the checkpoint and memory kinds of a target)."""
        reports = list(reports)
        return cls(
            results=tuple(r for rep in reports for r in rep.results),
            stores={k: v for rep in reports for k, v in rep.stores.items()},
            advertised={k: v for rep in reports for k, v in rep.advertised.items()},
            partial=any(rep.partial for rep in reports),
        )


def _counts(result: CheckResult) -> bool:
    # Skipped and not-advertised base checks do not lower the level; failures do.
    return result.status in ("failed", "expected failure")
