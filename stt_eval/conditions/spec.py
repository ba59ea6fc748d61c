"""Condition specs as data: `ConditionSpec` (validated, canonical), chains, and their text form.

`parse_chain(format_chain(c)) == c` for every chain `c`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass

from stt_eval.conditions.crosstalk import STEREO_CALL
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.registry import ConditionDef, _lookup
from stt_eval.conditions.step import Value

__all__ = ["Chain", "ConditionSpec", "format_chain", "format_spec", "parse_chain"]

Chain = tuple["ConditionSpec", ...]
"""Conditions applied left to right; the empty chain is `clean`."""


def _canonical_params(
    definition: ConditionDef, raw: Sequence[tuple[str, object]], check_files: bool
) -> tuple[tuple[str, Value], ...]:
    """Check keys and values against the definition (and files when ``check_files``), fill
    defaults, sort by key."""
    valid = ", ".join(sorted(p.name for p in definition.params)) or "none"
    values: dict[str, Value] = {}
    for key, value in raw:
        param = definition.param(key)
        if param is None:
            raise ConditionError(
                f"{definition.name}: unknown parameter {key!r}; valid parameters: {valid}"
            )
        if key in values:
            raise ConditionError(f"{definition.name}: parameter {key!r} is given twice")
        try:
            values[key] = param.convert(value)
        except (ValueError, TypeError):
            raise ConditionError(
                f"{definition.name}: {key}={value!r} is not allowed; {key} must be {param.allowed}"
            ) from None
    for param in definition.params:
        if param.name not in values:
            if param.required:
                raise ConditionError(
                    f"{definition.name}: missing parameter {param.name!r} ({param.allowed}), "
                    f"e.g. {definition.name}({param.name}=...)"
                )
            if param.default is not None:
                values[param.name] = param.default
    if definition.check is not None:
        definition.check(values)
    if check_files and definition.check_files is not None:
        definition.check_files(values)
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class ConditionSpec:
    """One registered condition with canonical parameters (sorted by key, defaults filled).

    Validated on construction: unknown names or parameters, bad values and unusable noise files
    raise ConditionError before any audio is processed. ``check_files=False`` skips the files
    (a noise file's existence): a report reads the label of a run made on another machine.

    >>> ConditionSpec("telephony", (("codec", "ALAW"),))
    ConditionSpec(name='telephony', params=(('codec', 'alaw'), ('loss', 0.0)))
    """

    name: str
    params: tuple[tuple[str, object], ...] = ()
    check_files: InitVar[bool] = True

    def __post_init__(self, check_files: bool) -> None:
        name = str(self.name).strip().lower()
        definition = _lookup(name)
        pairs = self.params.items() if isinstance(self.params, Mapping) else self.params
        try:
            raw = [(str(k).strip().lower(), v) for k, v in pairs]
        except (TypeError, ValueError):
            raise ConditionError(
                f"{name}: params must be (key, value) pairs, got {self.params!r}"
            ) from None
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "params", _canonical_params(definition, raw, check_files))

    @classmethod
    def of(cls, name: str, **params: object) -> ConditionSpec:
        """Build from keyword arguments: `ConditionSpec.of("noise", snr_db=5, kind="pink")`."""
        return cls(name, tuple(params.items()))

    def get(self, key: str, default: object = None) -> object:
        """One parameter's canonical value."""
        return dict(self.params).get(key, default)

    def as_dict(self) -> dict[str, object]:
        """The spec as plain data (`{"name": ..., "params": {...}}`) for result rows."""
        return {"name": self.name, "params": dict(self.params)}

    def __str__(self) -> str:
        return format_spec(self)


# --- text form -------------------------------------------------------------------------------

_SPECIAL = frozenset(",()+=\"'\\")


def _format_value(value: object) -> str:
    """Canonical text of a value: integral floats without '.0', strings quoted only if needed."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value)
    if text and text == text.strip() and not (_SPECIAL & set(text)):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_spec(spec: ConditionSpec) -> str:
    """`name(key=value, ...)` with keys sorted; a condition without params is just its name."""
    if not spec.params:
        return spec.name
    args = ", ".join(f"{k}={_format_value(v)}" for k, v in spec.params)
    return f"{spec.name}({args})"


def format_chain(chain: Chain) -> str:
    """The canonical text of a chain (`"clean"` when empty); `parse_chain` reads it back."""
    return " + ".join(format_spec(s) for s in chain) if chain else "clean"


def _split_top(text: str, sep: str, *, depth_aware: bool) -> list[str]:
    """Split on `sep` outside quotes (and outside parentheses when depth_aware)."""
    parts, current, depth, quote, i = [], [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif depth_aware and ch == "(":
            depth += 1
            current.append(ch)
        elif depth_aware and ch == ")":
            depth -= 1
            if depth < 0:
                raise ConditionError(f"unbalanced ')' in {text!r}")
            current.append(ch)
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quote:
        raise ConditionError(f"unterminated quote in {text!r}")
    if depth:
        raise ConditionError(f"unbalanced '(' in {text!r}")
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    """A value as written: quoted ('..' or "..", backslash escapes) or bare (trimmed)."""
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'" and text[-1] == text[0]:
        body, out, i = text[1:-1], [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                i += 1
            out.append(body[i])
            i += 1
        return "".join(out)
    return text


def _parse_term(term: str, check_files: bool) -> ConditionSpec:
    """`name` or `name(key=value, ...)` → a validated ConditionSpec."""
    term = term.strip()
    if not term:
        raise ConditionError(
            "empty condition between '+' signs; write e.g. 'gain(db=6) + noise(snr_db=10)'"
        )
    if "(" not in term:
        return ConditionSpec(term, check_files=check_files)
    name, _, rest = term.partition("(")
    if not rest.rstrip().endswith(")"):
        raise ConditionError(f"{term!r}: expected ')' at the end")
    body = rest.rstrip()[:-1]
    pairs: list[tuple[str, object]] = []
    if body.strip():
        for arg in _split_top(body, ",", depth_aware=False):
            key, eq, value = arg.partition("=")
            if not eq or not key.strip():
                raise ConditionError(f"{name.strip()}: argument {arg.strip()!r} must be key=value")
            pairs.append((key.strip(), _unquote(value)))
    return ConditionSpec(name.strip(), tuple(pairs), check_files)


def parse_chain(text: str, check_files: bool = True) -> Chain:
    """Parse `"cond(k=v, ...) + cond + ..."` into validated specs; `clean`/"" give ().

    `clean` terms are identities and are dropped, so equal chains have one canonical form.
    ``check_files=False`` reads a recorded label without opening the files it names.

    >>> parse_chain("noise(snr_db=5, kind=pink)") == (ConditionSpec.of("noise", kind="pink", snr_db=5.0),)
    True
    """
    if not text.strip():
        return ()
    specs = [_parse_term(t, check_files) for t in _split_top(text, "+", depth_aware=True)]
    return tuple(s for s in specs if s.name != "clean")


def canonical_condition(text: str) -> str:
    """Validate a condition chain and spell it canonically (errors before any audio is touched).

    >>> canonical_condition("noise(snr_db=10)")
    'noise(kind=white, snr_db=10)'
    """
    chain = parse_chain(text)
    return format_chain(chain) if chain else "clean"


def leakage_db(chain: Chain) -> float | None:
    """The leakage a chain asks for between channels (its stereo_call step's), else None."""
    for spec in chain:
        if spec.name == STEREO_CALL:
            return float(spec.get("leakage_db"))  # type: ignore[arg-type]
    return None


def padding(text: str) -> tuple[float, float]:
    """Seconds a chain's ``pad`` steps add before and after the recording (the transcript is
    moved back by the first to stay on the reference timeline).

    >>> padding("pad(silence_s=10, where=start) + noise(snr_db=5) + pad(silence_s=2)")
    (10.0, 2.0)
    """
    start = end = 0.0
    for spec in parse_chain(text, check_files=False):
        if spec.name == "pad":
            p = dict(spec.params)
            if p["where"] == "start":
                start += float(p["silence_s"])
            else:
                end += float(p["silence_s"])
    return start, end
