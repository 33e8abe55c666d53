"""Store options as frozen pydantic models: one path for URL query strings and keywords.

A store declares `class MyOptions(StoreOptions)` with constrained fields (`PositiveInt`,
`Field(ge=, le=)`, `Literal[...]`, `SecretStr`) and builds it with `parse_options`. URL query
values are strings, so they are converted (lax); keyword values must already have the
field's type (strict), so `m=True` or `timeout="5"` in code is refused rather than coerced.
Every problem becomes one `ConfigError` that names the option, the value (never a secret's)
and what is allowed.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Collection, Iterable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr, ValidationError

from ._validation import validate_namespace, validate_ttl
from .errors import ConfigError, SpineError

__all__ = [
    "DefaultTTL",
    "Namespace",
    "StoreOptions",
    "bind_options",
    "option_names",
    "parse_options",
    "query_options",
    "refuse_unknown_names",
]

OptionsT = TypeVar("OptionsT", bound="StoreOptions")

_NONE_WORDS = frozenset({"", "none", "null"})

# Spine's own rules for these two raise `InvalidInput` (as the conformance kit expects), so
# they run as validators: pydantic passes a non-ValueError through unchanged.
Namespace = Annotated[str, AfterValidator(validate_namespace)]
"""A namespace option: 1-63 letters, digits, '_' or '-'."""
DefaultTTL = Annotated[float | None, AfterValidator(validate_ttl)]
"""A store-level default TTL in seconds (None: sessions never expire)."""


class StoreOptions(BaseModel):
    """Base of every store's options model: frozen, unknown names refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_name: ClassVar[str] = "store"
    """How errors name the store (e.g. 'RedisMemory')."""

    def details(self) -> dict[str, Any]:
        """The option values for `info()` and capability details; secrets are left out."""
        fields = type(self).model_fields
        return {
            option: getattr(self, name)
            for option, name in _fields_by_option(type(self)).items()
            if not _is_secret(fields[name].annotation) and fields[name].repr
        }


def option_names(model: type[StoreOptions]) -> tuple[str, ...]:
    """The option names `model` accepts (a field's alias when it has one), sorted."""
    return tuple(sorted(_fields_by_option(model)))


def _fields_by_option(model: type[StoreOptions]) -> dict[str, str]:
    # An alias lets an option carry a name BaseModel already uses (e.g. `schema`).
    return {field.alias or name: name for name, field in model.model_fields.items()}


def parse_options(
    model: type[OptionsT],
    url_query: Mapping[str, str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> OptionsT:
    """`model` built from URL query values (strings) and keyword options (which win).

    Raises one `ConfigError` naming every bad option, its value (a secret's is hidden) and
    the allowed range or choices; an unknown name gets a suggestion and the known list.
    """
    kwargs = dict(kwargs or {})
    _refuse_unknown(model, [*(url_query or {}), *kwargs])
    typed = query_options(model, url_query or {})
    try:
        return model.model_validate({**typed, **kwargs}, strict=True)
    except ValidationError as exc:
        raise _config_error(model, exc, where="") from None


def query_options(model: type[StoreOptions], query: Mapping[str, str]) -> dict[str, Any]:
    """The typed values of URL query options (strings) checked against `model`.

    For a `from_url` that hands them on to the constructor as keywords; unknown names and
    bad values are a `ConfigError`, as in `parse_options`.
    """
    if not query:
        return {}
    _refuse_unknown(model, list(query))
    converted = {name: _none_word(model, name, raw) for name, raw in query.items()}
    try:
        parsed = model.model_validate(converted)
    except ValidationError as exc:
        raise _config_error(model, exc, where=" in the URL") from None
    fields = _fields_by_option(model)
    return {option: getattr(parsed, fields[option]) for option in query}


def refuse_unknown_names(
    given: Iterable[str], accepted: Collection[str], *, store: Collection[str], what: str
) -> None:
    """Refuse pass-through (driver) option names that neither the driver nor the store knows.

    `accepted` are the names the driver takes, `store` the store's own option names (both
    offered as suggestions); `what` names the kind of name, e.g. 'Redis client option'.
    """
    unknown = [name for name in dict.fromkeys(given) if name not in accepted]
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], [*store, *accepted], n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        f"unknown {what}(s) {', '.join(repr(n)[:80] for n in unknown)}{hint}; "
        f"store options: {', '.join(sorted(store))}; other names pass to the driver"
    )


def _refuse_unknown(model: type[StoreOptions], names: list[str]) -> None:
    known = option_names(model)
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    more = f" (and {', '.join(repr(n) for n in unknown[1:])})" if unknown[1:] else ""
    raise ConfigError(
        f"unknown option {name!r:.80} for {model.store_name}{hint}{more}; "
        f"known options: {', '.join(known)}"
    )


def _none_word(model: type[StoreOptions], name: str, raw: str) -> Any:
    """An empty, 'none' or 'null' URL value means None for an option that may be None."""
    field = model.model_fields.get(_fields_by_option(model).get(name, name))
    if field is not None and _allows_none(field.annotation) and raw.strip().lower() in _NONE_WORDS:
        return None
    return raw


def _config_error(
    model: type[StoreOptions], exc: ValidationError, *, where: str
) -> ConfigError | SpineError:
    for error in exc.errors(include_url=False):
        # A Spine validator's own error (e.g. `InvalidInput` from validate_ttl) keeps its type.
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, SpineError):
            return original
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc:  # a rule across options (a model validator)
            problems.append(message)
            continue
        name = str(loc[0])
        field = model.model_fields.get(_fields_by_option(model).get(name, name))
        secret = field is not None and _is_secret(field.annotation)
        shown = "'***'" if secret else f"{error.get('input')!r:.80}"
        allowed = _allowed(field.annotation, field.metadata) if field is not None else ""
        text = f"{name}={shown}{where}: {message[:1].lower()}{message[1:]}"
        if allowed and allowed not in message:
            text += f" (allowed: {allowed})"
        problems.append(text)
    return ConfigError(f"bad option for {model.store_name}: " + "; ".join(problems))


def _allowed(annotation: Any, metadata: list[Any]) -> str:
    """The allowed range or choices of a field, as text ('' when nothing simple applies)."""
    choices = [repr(a) for a in _literal_args(annotation)]
    if choices:
        return "one of " + ", ".join(choices)
    low = high = ""
    # annotated_types' Ge/Gt/Le/Lt (what Field(ge=...) and PositiveInt carry), by attribute.
    for item in [*metadata, *_annotated_metadata(annotation)]:
        for attr, side in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(item, attr, None)
            if bound is not None:
                if side.startswith(">"):
                    low = f"{side} {bound}"
                else:
                    high = f"{side} {bound}"
    return " and ".join(part for part in (low, high) if part)


def _members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _literal_args(annotation: Any) -> tuple[Any, ...]:
    from typing import Literal

    out: tuple[Any, ...] = ()
    for member in _members(annotation):
        if get_origin(member) is Literal:
            out += get_args(member)
    return out


def _annotated_metadata(annotation: Any) -> list[Any]:
    from typing import Annotated

    out: list[Any] = []
    for member in _members(annotation):
        if get_origin(member) is Annotated:
            out += list(member.__metadata__)
    return out


def _allows_none(annotation: Any) -> bool:
    return any(member is type(None) for member in _members(annotation))


def _is_secret(annotation: Any) -> bool:
    return any(
        member is SecretStr or (isinstance(member, type) and issubclass(member, SecretStr))
        for member in _members(annotation)
    )


def bind_options(
    fn: Any, args: tuple[Any, ...], options: Mapping[str, Any], *, what: str, partial: bool = False
) -> None:
    """Refuse, before the call, options `fn`'s signature cannot take (`ConfigError`).

    Only the signature is consulted, so a `TypeError` raised later inside `fn` stays the
    caller's bug and propagates as it is. Values are never echoed (they may be secrets).
    """
    import inspect

    from ._redact import redact_text

    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some builtins): the call decides
        return
    try:
        if partial:
            signature.bind_partial(*args, **options)
        else:
            signature.bind(*args, **options)
    except TypeError as exc:
        params = signature.parameters
        takes = sorted(
            n
            for n, p in params.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in ("self", "cls")
        )
        unknown = [n for n in options if n not in params]
        hint = ""
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            close = difflib.get_close_matches(unknown[0], takes, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"bad options for {what}: {redact_text(str(exc))}{hint}; "
            f"it takes: {', '.join(takes) or 'no options'}"
        ) from None
