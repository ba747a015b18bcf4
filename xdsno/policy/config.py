"""The access policy as data: `Policy`, read from a TOML file with its source and date
(DESIGN.md §4: policies are data files, loaded once).

`load_policy(path)` reads `path`, or the bundled `default_policy.toml` when None, and checks it
whole: every section and key present, no unknown key, values of the right type, no window
without a code — a PolicyError names each problem. Loaded policies are cached per file.
The meaning of each key is written in default_policy.toml.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.toml")
NO_ASSERTION_MODES = ("trusted", "deny")
CHANNELS = ("registry", "repository", "xca_responding")
TIME_ATTRIBUTES = ("creationTime", "serviceStartTime")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and every problem."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Documents of these classCodes/typeCodes older than `years` are not shared (None: no limit)."""

    name: str
    class_codes: frozenset[str]
    type_codes: frozenset[str]
    years: int | None = None

    def matches(self, class_code: str | None, type_code: str | None) -> bool:
        return class_code in self.class_codes or type_code in self.type_codes


@dataclass(frozen=True, slots=True)
class Policy:
    """One deployment's access policy (see default_policy.toml for each value's meaning)."""

    name: str
    source: str
    date: str
    no_assertion: str
    personnel_purposes: frozenset[str]
    citizen_purposes: frozenset[str]
    personnel_roles: frozenset[str]
    patient_required: bool
    personnel_hidden: tuple[str, ...]
    citizen_hidden: tuple[str, ...]
    confidentiality_purposes: frozenset[str]
    confidentiality_acp: frozenset[str]
    blocks_purposes: frozenset[str]
    blocks_acp: frozenset[str]
    time_windows_enabled: bool
    time_window_channels: frozenset[str]
    time_attribute: str
    time_windows: tuple[TimeWindow, ...]
    hidden_count_slot: str
    file: str = ""

    @property
    def trusts_requests_without_assertion(self) -> bool:
        return self.no_assertion == "trusted"


#: section → key → expected type
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "policy": {"name": str, "source": str, "date": str},
    "no_assertion": {"mode": str},
    "purpose_of_use": {"personnel": list, "citizen": list},
    "roles": {"personnel": list},
    "patient": {"required": bool},
    "confidentiality": {"personnel_hidden": list, "citizen_hidden": list},
    "overrides": {"confidentiality_purposes": list, "confidentiality_acp": list, "blocks_purposes": list,
                  "blocks_acp": list},
    "time_windows": {"enabled": bool, "channels": list, "time": str, "window": list},
    "response": {"hidden_count_slot": str},
}
_WINDOW_KEYS = {"name": str, "class_codes": list, "type_codes": list, "years": int}


@functools.cache
def load_policy(path: str | Path | None = None) -> Policy:
    """The policy in `path` (the bundled default when None), checked whole; cached per file."""
    file = Path(path) if path else DEFAULT_POLICY_FILE
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise PolicyError(f"policy file {file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {file} is not valid TOML: {exc}") from None
    problems = _problems(data)
    if problems:
        raise PolicyError(f"policy file {file}: " + "; ".join(problems))
    return _policy(data, str(file))


def _problems(data: dict[str, Any]) -> list[str]:
    problems = [f"unknown section [{name}]" for name in data if name not in _SCHEMA]
    for section, keys in _SCHEMA.items():
        values = data.get(section)
        if not isinstance(values, dict):
            problems.append(f"section [{section}] is missing")
            continue
        problems += _key_problems(f"[{section}]", values, keys, optional=())
    if not problems:
        problems += _value_problems(data)
    return problems


def _key_problems(where: str, values: dict[str, Any], keys: dict[str, Any], optional: tuple[str, ...]) -> list[str]:
    problems = [f"{where} has unknown key {name!r}" for name in values if name not in keys]
    for name, kind in keys.items():
        if name not in values:
            if name not in optional:
                problems.append(f"{where} misses key {name!r}")
        elif not isinstance(values[name], kind) or (kind is int and isinstance(values[name], bool)):
            problems.append(f"{where} {name} must be a {kind.__name__}")
        elif kind is list and name != "window" and not all(isinstance(v, str) for v in values[name]):
            problems.append(f"{where} {name} must be a list of strings")
    return problems


def _value_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    if data["no_assertion"]["mode"] not in NO_ASSERTION_MODES:
        problems.append(f"[no_assertion] mode must be one of {', '.join(NO_ASSERTION_MODES)}")
    windows = data["time_windows"]
    problems += [f"[time_windows] channel {c!r} is not one of {', '.join(CHANNELS)}"
                 for c in windows["channels"] if c not in CHANNELS]
    if windows["time"] not in TIME_ATTRIBUTES:
        problems.append(f"[time_windows] time must be one of {', '.join(TIME_ATTRIBUTES)}")
    for number, window in enumerate(windows["window"], 1):
        where = f"[[time_windows.window]] {number}"
        if not isinstance(window, dict):
            problems.append(f"{where} is not a table")
            continue
        problems += _key_problems(where, window, _WINDOW_KEYS, optional=("years",))
        if not window.get("class_codes") and not window.get("type_codes"):
            problems.append(f"{where} names no classCode or typeCode")
        if isinstance(window.get("years"), int) and window["years"] < 1:
            problems.append(f"{where} years must be at least 1 (leave it out for no limit)")
    return problems


def _policy(data: dict[str, Any], file: str) -> Policy:
    overrides, windows = data["overrides"], data["time_windows"]
    return Policy(
        name=data["policy"]["name"], source=data["policy"]["source"], date=data["policy"]["date"],
        no_assertion=data["no_assertion"]["mode"],
        personnel_purposes=frozenset(data["purpose_of_use"]["personnel"]),
        citizen_purposes=frozenset(data["purpose_of_use"]["citizen"]),
        personnel_roles=frozenset(data["roles"]["personnel"]),
        patient_required=data["patient"]["required"],
        personnel_hidden=tuple(data["confidentiality"]["personnel_hidden"]),
        citizen_hidden=tuple(data["confidentiality"]["citizen_hidden"]),
        confidentiality_purposes=frozenset(overrides["confidentiality_purposes"]),
        confidentiality_acp=frozenset(overrides["confidentiality_acp"]),
        blocks_purposes=frozenset(overrides["blocks_purposes"]),
        blocks_acp=frozenset(overrides["blocks_acp"]),
        time_windows_enabled=windows["enabled"], time_window_channels=frozenset(windows["channels"]),
        time_attribute=windows["time"],
        time_windows=tuple(TimeWindow(w["name"], frozenset(w["class_codes"]), frozenset(w["type_codes"]),
                                      w.get("years")) for w in windows["window"]),
        hidden_count_slot=data["response"]["hidden_count_slot"], file=file,
    )


__all__ = ["CHANNELS", "DEFAULT_POLICY_FILE", "Policy", "PolicyError", "TimeWindow", "load_policy"]
