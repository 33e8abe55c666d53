"""`spine demo`: the main job end to end on the configured (default: embedded SQLite) stores.

An agent's run pauses for a human approval: its state is checkpointed, reloaded and compared;
memories are saved in two sessions and searched. Run it twice to see the data persist.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._ui import UI

__all__ = ["add_parser"]

SESSION = "spine-demo-agent"
MEMORY_SESSIONS = ("demo-alice", "demo-bob")
_PER_RUN = 3
"""Memories saved per session per run, taken in turn from the pools below."""

_POOLS: dict[str, tuple[str, ...]] = {
    "demo-alice": (
        "Alice prefers a window seat on long flights.",
        "Alice is vegetarian and avoids seafood.",
        "Alice flies to Lisbon every spring for a conference.",
        "Alice likes small hotels close to the old town.",
        "Alice takes the train instead of a flight for trips under four hours.",
        "Alice's passport expires in March 2027.",
        "Alice prefers morning departures.",
        "Alice dislikes layovers longer than two hours.",
        "Alice collects museum tickets from every city she visits.",
        "Alice is allergic to peanuts.",
        "Alice wants receipts forwarded to the finance team.",
        "Alice asks for quiet rooms away from the elevator.",
    ),
    "demo-bob": (
        "Bob needs an aisle seat on every flight because of a knee injury.",
        "Bob loves spicy food, especially Sichuan cuisine.",
        "Bob drinks only decaf coffee after noon.",
        "Bob is learning Portuguese before his trip to Lisbon.",
        "Bob prefers hotels with a gym.",
        "Bob's flights must be approved by his manager.",
        "Bob rents electric cars when he travels.",
        "Bob prefers a late check-out.",
        "Bob avoids overnight flights.",
        "Bob's team meets in Berlin on the first Monday of each month.",
        "Bob brings his bicycle on trains when he can.",
        "Bob expenses meals under the travel budget code TRV-42.",
    ),
}

_SEARCHES: tuple[tuple[str, str | None], ...] = (
    ("which seat does each traveller want on a flight?", None),
    ("what food and coffee does he like?", "demo-bob"),
)


def add_parser(subparsers: Any) -> None:
    """Register `spine demo`."""
    parser = subparsers.add_parser(
        "demo",
        help="checkpoint an agent's state and search memories on the default stores",
        description=(
            "Save an agent's state (messages and a pending approval), reload it, save "
            "memories in two sessions and search them, on the stores spine.toml configures "
            "(default: embedded SQLite in ./.spine/spine.db). Run it twice: the second run "
            "finds the first run's data."
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep the demo's SQLite database in DIR/spine.db instead of the configured stores",
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="spine.toml to read")
    parser.add_argument(
        "--embedder",
        metavar="KIND[:MODEL]",
        help=(
            "search memories with this embedder instead of the configured one: "
            "sentence-transformers, fastembed, openai or hash, optionally with a model name or "
            "folder (e.g. sentence-transformers:all-MiniLM-L6-v2); when its package is not "
            "installed the demo says so and uses word hashing"
        ),
    )
    parser.set_defaults(func=run)


@dataclass(frozen=True)
class _Targets:
    checkpoint: str
    memory: str
    checkpoint_options: dict[str, Any]
    memory_options: dict[str, Any]
    embedder: Any = None
    """The embedder to search with; None for the memory store's default (word hashing)."""


def _targets(args: argparse.Namespace, ui: UI) -> _Targets:
    embedder = _chosen_embedder(args.embedder, ui) if args.embedder else None
    if args.data_dir is not None:
        url = "sqlite:///" + str((args.data_dir / "spine.db").resolve())
        return _Targets(url, url, {}, {}, embedder)
    from spine_core import load_config

    config = load_config(args.config)
    if not args.embedder:
        embedder = config.build_embedder()
    return _Targets(
        config.checkpoint,
        config.memory,
        config.options_for(config.checkpoint, "checkpoint"),
        config.options_for(config.memory, "memory"),
        embedder,
    )


def _chosen_embedder(choice: str, ui: UI) -> Any:
    """The embedder `--embedder KIND[:MODEL]` names; None (word hashing) when not installed."""
    from spine_core.embedders import EMBEDDER_KINDS, make_embedder

    kind, _, model = choice.partition(":")
    spec = EMBEDDER_KINDS.get(kind)
    if spec is not None and not spec.installed:
        ui.warn(
            f"the {kind} embedder needs the {spec.requires} package, which is not installed "
            f"({spec.install_hint}); searching with HashEmbedder (word hashing) instead"
        )
        return None
    return make_embedder(kind, {"model": model} if model else {}, where="--embedder")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Run the demo; 0 when everything round-tripped."""
    from spine_backends._targets import ensure_parent_dir

    targets = _targets(args, ui)
    ensure_parent_dir(targets.checkpoint)
    ensure_parent_dir(targets.memory)
    return asyncio.run(_demo(targets, ui))


def _memory_options(targets: _Targets) -> dict[str, Any]:
    """The memory store's options, with the chosen embedder in a namespace of its own.

    A namespace holds one embedder's vectors, so a model's memories do not meet (and are not
    refused by) the word-hashing ones earlier runs saved in the default namespace.
    """
    options = dict(targets.memory_options)
    if targets.embedder is not None:
        from spine_core._embedding import embedder_name

        options["embedder"] = targets.embedder
        if "namespace" not in options:
            slug = re.sub(r"[^A-Za-z0-9_-]+", "-", embedder_name(targets.embedder)).strip("-")
            options["namespace"] = f"demo-{slug}"[:63]
    return options


def _state(run_number: int, previous_step: int) -> Any:
    from spine_core import Message, PendingApproval, RunStatus, State, ToolCall, Usage

    call_id = f"call_{run_number}"
    call = ToolCall(id=call_id, name="search_flights", arguments={"to": "LIS"})
    return State(
        session_id=SESSION,
        tenant_id="acme",
        messages=[
            Message.system("You are a travel assistant. Ask before booking."),
            Message.user("Book me a flight to Lisbon for Friday's conference."),
            Message.assistant("Let me look for flights.", tool_calls=[call]),
            Message.tool(
                "TP1337 08:05 EUR 189 (window 12A free) | FR8360 14:40 EUR 74",
                call_id,
                name="search_flights",
            ),
            Message.assistant(
                "TP1337 at 08:05 has a window seat, as Alice likes. Shall I book it?"
            ),
        ],
        step=previous_step + 4,
        usage=Usage(input_tokens=1234, output_tokens=321, cost_usd=0.0042),
        status=RunStatus.INTERRUPTED,
        pending=PendingApproval(
            call=ToolCall(
                id=f"call_{run_number}_book",
                name="book_flight",
                arguments={"flight": "TP1337", "seat": "12A", "price_eur": 189},
            ),
            payload="booking spends money",
        ),
        scratch={"demo_run": run_number},
    )


async def _demo(targets: _Targets, ui: UI) -> int:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from spine_backends._targets import location, opened
    from spine_core import MemoryItem, capabilities_of, open_checkpoint, open_memory
    from spine_core._embedding import embedder_dimension, embedder_name

    started = time.perf_counter()
    out = ui.out
    where_cp, where_mem = location(targets.checkpoint), location(targets.memory)
    load = getattr(targets.embedder, "load", None)
    if callable(load):  # a local model: load it now, so a failure is one clear line up front
        await load()
    checkpoints = open_checkpoint(targets.checkpoint, **targets.checkpoint_options)
    memory = open_memory(targets.memory, **_memory_options(targets))
    async with opened(checkpoints), opened(memory):
        previous = await checkpoints.get(SESSION)
        revisions = capabilities_of(checkpoints, "checkpoint").advertised() & {"revisions"}
        revision = await checkpoints.revision(SESSION) if revisions else None
        last_run = int(previous.scratch.get("demo_run", 0) or 0) if previous else 0  # type: ignore[arg-type]
        run_number = last_run + 1

        out.print(Text.assemble(("Spine demo", "bold"), f" · run #{run_number}"))
        out.print(Text(f"  checkpoints: {where_cp}\n  memory:      {where_mem}", style="dim"))
        used = getattr(memory, "embedder", None) or targets.embedder
        if used is not None:
            dim = embedder_dimension(used)
            about = f"{dim}-d" if dim else "its dimension learned from the first vector"
            if targets.embedder is None:
                about += "; word hashing: --embedder sentence-transformers searches by meaning"
            out.print(Text(f"  embedder:    {embedder_name(used)} ({about})", style="dim"))
        if previous is None:
            out.print("  No earlier state found: this is the first run.", markup=False)
        else:
            at = f", revision {revision}" if revision is not None else ""
            out.print(
                Text(
                    f"  run #{run_number}: found the state from run #{last_run} at "
                    f"{where_cp}{at} ({previous.status.value}, {len(previous.messages)} "
                    "messages).",
                    style="green",
                )
            )

        # 1. Checkpoint: save, reload, compare.
        out.print()
        out.rule("1. Checkpoint: a run paused for a human approval", align="left")
        state = _state(run_number, previous.step if previous else 0)
        if revision is not None:
            await checkpoints.put(state, expected_revision=revision)
            saved_as = f"revision {revision + 1} (compare-and-set on revision {revision})"
        else:
            await checkpoints.put(state)
            saved_as = "the latest version (this store keeps no revisions)"
        reloaded = await checkpoints.get(SESSION)
        same = reloaded == state
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("#", justify="right", style="dim")
        table.add_column("role")
        table.add_column("content", overflow="fold")
        for i, message in enumerate(reloaded.messages if reloaded else [], 1):
            table.add_row(str(i), message.role, Text(message.content or ""))
        out.print(Padding(table, (0, 0, 0, 2), expand=False))
        if reloaded is not None and reloaded.pending is not None:
            p = reloaded.pending
            args_text = ", ".join(f"{k}={v!r}" for k, v in p.call.arguments.items())
            out.print(Text(f"  pending approval: {p.call.name}({args_text}), {p.payload}"))
        out.print(
            Text.assemble(
                "  ",
                ui.mark(same),
                f" saved as {saved_as}; reloaded: ",
                ("identical" if same else "DIFFERENT", "bold" if same else "bold red"),
                f" (status {state.status.value}, step {state.step})",
            )
        )

        # 2. Memory: save in two sessions, search the whole store and one session.
        out.print()
        out.rule("2. Memory: save in two sessions, search by meaning", align="left")
        earlier = 0
        for session in MEMORY_SESSIONS:
            earlier += len(await memory.load(session, limit=100_000))
        items = []
        for session, pool in _POOLS.items():
            start = (run_number - 1) * _PER_RUN
            for j in range(_PER_RUN):
                content = pool[(start + j) % len(pool)]
                items.append(
                    MemoryItem(content=content, session_id=session, metadata={"run": run_number})
                )
        if "save_many" in capabilities_of(memory, "memory").advertised():
            await memory.save_many(items)
        else:
            for item in items:
                await memory.save(item.content, session_id=item.session_id, metadata=item.metadata)
        sessions = " and ".join(s.removeprefix("demo-") for s in MEMORY_SESSIONS)
        out.print(
            f"  saved {len(items)} memories for {sessions}; "
            + (
                f"{earlier} memories from earlier runs."
                if earlier
                else "no memories from earlier runs."
            ),
            markup=False,
        )
        for query, session_id in _SEARCHES:
            hits = await memory.search(query, k=4, session_id=session_id)
            scope = f"session {session_id}" if session_id else "whole store"
            out.print(Text.assemble("  search ", (repr(query), "bold"), f" ({scope}):"))
            hit_table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
            hit_table.add_column("rank", justify="right", style="dim")
            hit_table.add_column("score", justify="right")
            hit_table.add_column("session")
            hit_table.add_column("run", justify="right", style="dim")
            hit_table.add_column("memory", overflow="fold")
            for rank, hit in enumerate(hits, 1):
                record = hit.record
                hit_table.add_row(
                    str(rank),
                    Text(f"{hit.score:.3f}", style="cyan"),
                    record.session_id or "—",
                    str(record.metadata.get("run", "")),
                    Text(record.content),
                )
            out.print(Padding(hit_table, (0, 0, 0, 2), expand=False))
        recent = await memory.load(MEMORY_SESSIONS[0], limit=3)
        out.print(
            f"  load({MEMORY_SESSIONS[0]!r}, limit=3): the {len(recent)} most recent, oldest "
            "first:",
            markup=False,
        )
        for record in recent:
            out.print(Text(f"    · {record.content}"))

    elapsed = time.perf_counter() - started
    out.print()
    lives = Text.assemble(("Data lives in ", "bold"), (where_cp, "bold cyan"))
    if where_mem != where_cp:
        lives.append_text(Text.assemble((" and ", "bold"), (where_mem, "bold cyan")))
    lives.append(".")
    out.print(lives)
    if not where_cp.startswith("memory"):
        out.print(
            f"Run `spine demo` again: run #{run_number + 1} will find this state and these "
            "memories.",
            markup=False,
        )
    out.print(Text(f"Done in {elapsed:.2f} s.", style="dim"))
    return 0 if same else 1
