"""Reading the environment strictly: a value we cannot read is an error that names it.

``RFR_READ_ONLY=ture`` must stop the start with a message, not quietly mean False.
This module imports nothing of ours, so settings and every app can use it.
"""

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ImproperlyConfigured, ValueError):
    """An environment variable is malformed; the message names it and what it accepts."""


def _raw(name: str, env: Mapping[str, str] | None) -> str:
    return (os.environ if env is None else env).get(name, "").strip()


def boolean(name: str, default: bool = False, env: Mapping[str, str] | None = None) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); unset or empty gives the default."""
    value = _raw(name, env).lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/true/yes/on or 0/false/no/off, not {value!r}")


def integer(name: str, default: int, env: Mapping[str, str] | None = None, *, minimum: int | None = 0) -> int:
    """A whole number, at least ``minimum`` (None: no bound); unset or empty gives the default."""
    return number(name, default, env, kind=int, minimum=minimum)


def number(name, default, env=None, *, kind=float, minimum=0):
    value = _raw(name, env)
    if not value:
        return default
    try:
        result = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if minimum is not None and result < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {result}")
    return result


def listing(name: str, default: str = "", env: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list, blanks dropped."""
    source = os.environ if env is None else env
    return [item.strip() for item in source.get(name, default).split(",") if item.strip()]


def choice(name: str, choices: tuple[str, ...], env: Mapping[str, str] | None = None) -> str:
    """One of ``choices`` (any case); unset or empty gives the first."""
    value = _raw(name, env).lower()
    if not value:
        return choices[0]
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
