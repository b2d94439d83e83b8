"""The one reader of on/off switches in the environment (``PATRONUS_*``, ``POWERTOOLS_*``).

The words are those of Powertools, so that a ``POWERTOOLS_*`` switch means the same to Powertools
and to this package: ``1 true yes on y t`` and ``0 false no off n f``, in any case, surrounding
blanks ignored. An empty or unset variable takes the default. Any other value is refused with the
variable's name, instead of being read silently as "off".
"""

from __future__ import annotations

from collections.abc import Mapping

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f"})


class FlagError(ValueError):
    """A switch has a value that is neither on nor off."""


def parse_flag(value: str, *, name: str = "flag") -> bool:
    """``value`` as a boolean; ``name`` is only used in the error message."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FlagError(f"{name}: expected true or false (yes/no, on/off, 1/0), got {value!r}")


def env_flag(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    """The switch ``name`` of ``environ``; ``default`` when it is unset or blank."""
    value = environ.get(name)
    if value is None or not value.strip():
        return default
    return parse_flag(value, name=name)
