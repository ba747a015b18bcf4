"""The metadata profile a deployment runs and the options its rules read (DESIGN.md §7
`--profile ihe|norway`; PROFILE.md §3-§4 for the Norwegian knobs).

Wherever a ValidationContext is built from settings (the registry's ITI-42, the repository's
ITI-41, `xdsno validate`, `POST /validate`), the profile and the extras come from here, so every
entry point judges a message alike:

    profile, extras = profile_and_extras(settings)
    context = ValidationContext(Transaction.REGISTER, strict=settings.strict, extras=extras, ...)
"""
from __future__ import annotations

from typing import Any, Mapping

from profiles.catalog import load_profile
from profiles.norway.options import norway_extras
from profiles.rules import Profile

from .settings import Settings, SettingsError


def validation_extras(settings: Settings) -> Mapping[str, Any]:
    """ValidationContext.extras from the settings (the Norwegian options; harmless to `ihe`).

    The code-set folder is used when it exists (`xdsno codes import` creates it)."""
    folder = settings.effective_code_sets_dir
    try:
        return norway_extras(
            code_sets_dir=folder if folder.is_dir() else None,
            allow_synthetic=settings.allow_synthetic_persons,
            check_digit_scheme=settings.check_digit_scheme,
            language_codes=settings.language_codes,
            patient_authorities=settings.norway_patient_authorities,
            optionality=settings.norway_optionality,
            partial_code_lists=settings.partial_code_lists,
            code_bindings=settings.norway_code_bindings,
        )
    except ValueError as exc:  # includes CodeSetError from a malformed code-list file
        raise SettingsError(str(exc)) from None


def profile_and_extras(settings: Settings, profile_name: str | None = None) -> tuple[Profile, Mapping[str, Any]]:
    """The rule set (`profile_name`, else settings.profile) and the extras its context carries."""
    try:
        profile = load_profile(profile_name or settings.profile)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return profile, validation_extras(settings)
