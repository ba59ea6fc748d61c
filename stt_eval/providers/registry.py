"""Providers by name: one module each, imported only when asked for.

Built in: the local engines and the HTTP APIs. Other packages add providers through the
``stt_eval.providers`` entry-point group (name = a class or factory taking the options as
keywords), so a team can evaluate its in-house engine without editing stt-eval::

    [project.entry-points."stt_eval.providers"]
    my-engine = "my_package.stt:MyEngine"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, get_args, get_type_hints

from stt_eval.errors import UsageError
from stt_eval.providers.base import Provider
from stt_eval.providers.remote import RemoteProvider

ENTRY_POINT_GROUP = "stt_eval.providers"

BUILT_IN: Mapping[str, str] = {
    "faster-whisper": "stt_eval.providers.faster_whisper:FasterWhisper",
    "pocketsphinx": "stt_eval.providers.pocketsphinx:PocketSphinx",
    "pulse": "stt_eval.providers.pulse:Pulse",
    "openai": "stt_eval.providers.openai:OpenAICompatible",
    "deepgram": "stt_eval.providers.deepgram:Deepgram",
    "assemblyai": "stt_eval.providers.assemblyai:AssemblyAI",
}
"""Registered name → ``module:class``."""


class UnknownProvider(UsageError):
    """A provider name that is not registered, or options it does not take."""


def _load(target: str) -> Callable[..., Provider]:
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def provider_names() -> list[str]:
    """Every provider name that can be used: built in and installed plugins."""
    return sorted({*BUILT_IN, *_plugins()})


def provider_class(name: str) -> Callable[..., Provider]:
    """The class (or factory) registered as `name`; unknown names list the known ones."""
    if name in BUILT_IN:
        return _load(BUILT_IN[name])
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()
    raise UnknownProvider(
        f"unknown provider {name!r}; known providers: {', '.join(provider_names())}"
    )


def get_provider(name: str, **options: Any) -> Provider:
    """Build a provider by name; unknown names and options list the valid ones."""
    factory = provider_class(name)
    if is_dataclass(factory):
        valid = sorted(
            f.name for f in fields(factory) if f.name != "name" and not f.metadata.get("hook")
        )
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise UnknownProvider(
                f"provider {name!r} does not take option(s) {unknown}; valid options: "
                f"{', '.join(valid)}"
            )
        _check_types(name, factory, options)
    try:
        return factory(**options)
    except TypeError as exc:
        raise UnknownProvider(f"provider {name!r}: bad options {sorted(options)}: {exc}") from exc
    except ValueError as exc:  # the provider's own check of a value names it and the fix
        if isinstance(exc, UnknownProvider):
            raise
        raise UnknownProvider(str(exc)) from exc


_SIMPLE = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


def _fits(value: Any, kind: type) -> bool:
    if kind in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, (int, float) if kind is float else kind)


def _check_types(name: str, factory: Any, options: Mapping[str, Any]) -> None:
    """Refuse an option whose value is not of its field's simple type (``maxhmmpf="abc"``),
    naming the option, the type and the default, before the engine sees it."""
    try:
        hints = get_type_hints(factory)
    except Exception:  # noqa: BLE001 - a plugin's annotations we cannot resolve: no check
        return
    defaults = {f.name: f.default for f in fields(factory)}
    for key, value in options.items():
        kinds = get_args(hints.get(key)) or (hints.get(key),)
        if value is None and type(None) in kinds:
            continue
        simple = [k for k in kinds if k in _SIMPLE]
        checked = simple and len(simple) == len([k for k in kinds if k is not type(None)])
        if checked and not any(_fits(value, k) for k in simple):
            wanted = " or ".join(_SIMPLE[k] for k in simple)
            raise UnknownProvider(
                f"provider {name!r}: option {key}={value!r} must be {wanted} "
                f"(default {defaults.get(key)!r})"
            )


def is_remote(provider: Provider) -> bool:
    """Whether a provider sends audio over HTTP (runs in threads, costs money, is rate limited)."""
    return isinstance(provider, RemoteProvider)


def describe_providers() -> dict[str, dict[str, Any]]:
    """Every registered provider's options with their defaults (a remote one's endpoint and
    rate limits as in force, not the "use the default" markers)."""
    out = {}
    for name in provider_names():
        engine = get_provider(name)
        shown = {}
        if is_remote(engine):  # the defaults in force, not the "use the default" markers
            shown = {
                "base_url": engine.endpoint,
                "requests_per_minute": engine.requests_per_minute or engine.DEFAULT_PER_MINUTE,
                "max_in_flight": engine.max_in_flight or engine.DEFAULT_IN_FLIGHT,
            }
        options = {
            f.name: getattr(engine, f.name)
            for f in fields(engine)
            if f.name != "name" and not f.metadata.get("hook")
        }
        out[name] = options | shown
    return out
