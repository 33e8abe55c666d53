"""The conformance report: one result per check and a conformance level per kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from spine_core import Kind

from .registry import (
    CHECKPOINT_CAPABILITIES,
    FUNCTIONAL,
    GROUPS,
    MEMORY_CAPABILITIES,
)

__all__ = ["LEVELS", "CheckResult", "ConformanceReport", "Level", "Status", "Verdict"]

Status = Literal["passed", "failed", "not advertised", "expected failure", "skipped"]
"""passed; failed; not advertised (capability off, check not run); expected failure (listed in
`expected_failures` and failed, as listed); skipped (could not run here, e.g. no isolation)."""

Level = Literal["none", "base", "validated", "standard", "full"]
"""How far a store conforms, each level including the ones below it:

- none: a check of the guides' contract (group "base") fails;
- base: the guides' contract holds (what `open_checkpoint`/`open_memory` need: they add
  Spine's input validation to a store not built on Spine's bases);
- validated: base, and the store itself refuses bad input (group "validation");
- standard: validated, and fidelity, concurrency and honesty hold (every check every store runs);
- full: standard, and every functional capability is advertised and passes (properties such as
  `durable` are tested when advertised but not required).
"""

LEVELS: tuple[Level, ...] = ("none", "base", "validated", "standard", "full")
"""The levels in order."""

_NEEDS: tuple[tuple[Level, tuple[str, ...]], ...] = (
    ("base", ("base",)),
    ("validated", ("validation",)),
    ("standard", ("fidelity", "concurrency", "honesty")),
)
"""The groups each level adds to the one below it (full adds the capabilities)."""

Verdict = Literal["passed", "failed", "not advertised", "skipped"]
"""Of a group: failed when a check is not met (an expected failure counts), passed when the
others passed (some may have been skipped), not advertised when its capability is off, skipped
when none of its checks could run."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    kind: Kind
    group: str
    """The check's group (`spine_testing.GROUPS`) or the optional capability it tests."""
    status: Status
    detail: str = ""
    """Why it failed or was not run (the assertion message), or remarks on a pass."""
    duration: float = 0.0
    """Seconds."""
    expected_failure: str | None = None
    """The reason given in `expected_failures`, when the check is listed there."""

    @property
    def capability(self) -> str | None:
        """The capability the check is gated on; None when every store runs it."""
        return None if self.group in GROUPS else self.group

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
    remarks: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)
    """Facts about the store worth showing next to its level, per kind."""

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

    def groups(self, kind: Kind) -> dict[str, Verdict]:
        """The verdict of each group of checks that ran for `kind`, in registry order."""
        caps = CHECKPOINT_CAPABILITIES if kind == "checkpoint" else MEMORY_CAPABILITIES
        order = [*GROUPS, *caps]
        mine = [r for r in self.results if r.kind == kind]
        by_group: dict[str, list[CheckResult]] = {}
        for r in mine:
            by_group.setdefault(r.group, []).append(r)
        rank = {g: i for i, g in enumerate(order)}
        out: dict[str, Verdict] = {}
        for group in sorted(by_group, key=lambda g: rank.get(g, len(rank))):
            out[group] = _verdict(by_group[group])
        return out

    def level_of(self, kind: Kind) -> tuple[Level, str]:
        """The conformance level of `kind` and what keeps it from the next level."""
        mine = [r for r in self.results if r.kind == kind]
        reached: Level = "none"
        for level, groups in _NEEDS:
            bad = {g: [r.name for r in mine if r.group == g and _unmet(r)] for g in groups}
            if any(bad.values()):
                why = "; ".join(f"{g} not met: {', '.join(n)}" for g, n in bad.items() if n)
                return reached, why
            reached = level
        # A skipped capability check (e.g. cas_across_processes on an in-process factory)
        # could not run here: like a skipped group check, it does not lower the level.
        cap_bad = [f"{r.name} ({r.group})" for r in mine if r.group not in GROUPS and _unmet(r)]
        if cap_bad:
            return reached, f"advertised capability check(s) not met: {', '.join(cap_bad)}"
        missing = sorted(FUNCTIONAL[kind] - set(self.advertised.get(kind, ())))
        if missing:
            return reached, f"not advertised: {', '.join(missing)}"
        return "full", "every functional capability is advertised and passes"

    @property
    def levels(self) -> dict[Kind, Level]:
        """The conformance level per kind."""
        return {kind: self.level_of(kind)[0] for kind in self.kinds}

    @property
    def level(self) -> Level:
        """The lowest level over the kinds covered ("none" for an empty report)."""
        levels = list(self.levels.values())
        return min(levels, key=LEVELS.index) if levels else "none"

    def meets(self, level: Level) -> bool:
        """Whether every kind covered reaches `level` (an empty report meets nothing)."""
        return bool(self.kinds) and LEVELS.index(self.level) >= LEVELS.index(level)

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
        """A plain-text table: one row per check, then the level and groups of each kind.

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
            group_w = max([len("group"), *(len(r.group) for r in rows)])
            status_w = len("expected failure")
            head = f"  {'check':<{name_w}}  {'group':<{group_w}}  {'status':<{status_w}}  "
            lines.append(f"{head}{'time':>6}  detail")
            for r in rows:
                detail = " ".join(r.detail.split())
                if len(detail) > detail_width:
                    detail = detail[: detail_width - 1] + "…"
                lines.append(
                    f"  {r.name:<{name_w}}  {r.group:<{group_w}}  {r.status:<{status_w}}  "
                    f"{r.duration:>5.2f}s  {detail}".rstrip()
                )
            lines += ["", *self._summary(kind)]
            if self.partial:
                lines.append("  partial run: the level covers only the checks that ran")
            lines.append("")
        lines.append("OK" if self.ok else f"FAILED ({len(self.failures)} check(s))")
        return "\n".join(lines)

    def _summary(self, kind: Kind) -> list[str]:
        level, why = self.level_of(kind)
        c = self.counts(kind)
        total = sum(r.duration for r in self.results if r.kind == kind)
        lines = [
            f"{kind}: level {level.upper()} — {c['passed']} passed, {c['failed']} failed, "
            f"{c['expected failure']} expected failures, {c['not advertised']} not "
            f"advertised, {c['skipped']} skipped ({total:.1f}s)",
            f"  {why}",
            "  groups: "
            + ", ".join(f"{g} {v}" for g, v in self.groups(kind).items() if v != "not advertised"),
        ]
        if self.advertised.get(kind) is not None:
            lines.append(f"  advertised: {', '.join(self.advertised[kind]) or 'nothing'}")
        lines += [f"  {remark}" for remark in self.remarks.get(kind, ())]
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: results, levels (with reasons and group verdicts), stores, ok."""
        return {
            "ok": self.ok,
            "level": self.level,
            "levels": list(LEVELS),
            "partial": self.partial,
            "kinds": {
                kind: {
                    "level": self.level_of(kind)[0],
                    "reason": self.level_of(kind)[1],
                    "groups": self.groups(kind),
                    "store": self.stores.get(kind),
                    "advertised": list(self.advertised.get(kind, ())),
                    "remarks": list(self.remarks.get(kind, ())),
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
            remarks={k: v for rep in reports for k, v in rep.remarks.items()},
        )


def _unmet(result: CheckResult) -> bool:
    # Skipped and not-advertised checks do not lower the level; failures (expected or not) do.
    return result.status in ("failed", "expected failure") and not result.met


def _verdict(results: list[CheckResult]) -> Verdict:
    if any(_unmet(r) for r in results):
        return "failed"
    if any(r.met for r in results):
        return "passed"
    if all(r.status == "not advertised" for r in results):
        return "not advertised"
    return "skipped"
