"""The price file (``prices.json``): each price with its unit, source, region and date."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.operator_tools.toolkit import ToolError

PRICE_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class Price:
    key: str
    usd: float | None  # None: no source gave a figure (the line is reported unpriced)
    unit: str
    source: str
    region: str
    note: str = ""
    as_of: str = ""  # the date of the figure's data: a price list's publication, or the day a page was read


class PriceBook:
    """The prices of one file, with figures the operator gave on the command line on top."""

    def __init__(self, prices: Mapping[str, Price], *, consulted: str, region: str) -> None:
        self._prices = dict(prices)
        self.consulted = consulted
        self.region = region

    @classmethod
    def load(cls, path: Path = PRICE_FILE, overrides: Mapping[str, float] | None = None) -> PriceBook:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            entries: dict[str, dict[str, Any]] = data["prices"]
            prices = {
                key: Price(
                    key=key,
                    usd=None if entry["usd"] is None else float(entry["usd"]),
                    unit=str(entry["unit"]),
                    source=str(entry["source"]),
                    region=str(entry["region"]),
                    note=str(entry.get("note", "")),
                    as_of=str(entry.get("as_of", "")),
                )
                for key, entry in entries.items()
            }
            book = cls(prices, consulted=str(data["consulted"]), region=str(data["region"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ToolError(f"{path}: not a readable price file ({exc!r})") from exc
        for key, usd in (overrides or {}).items():
            book.override(key, usd)
        return book

    def override(self, key: str, usd: float) -> None:
        current = self.get(key)
        self._prices[key] = Price(
            key=key, usd=usd, unit=current.unit, source="--price on the command line", region=self.region
        )

    def get(self, key: str) -> Price:
        try:
            return self._prices[key]
        except KeyError:
            raise ToolError(f"price {key!r} is not in the price file") from None

    def used(self, keys: set[str]) -> list[Price]:
        return [self._prices[key] for key in sorted(keys)]

    def foreign(self, keys: set[str]) -> list[Price]:
        """The prices among ``keys`` published for another region than the file's (``global`` aside)."""
        return [price for price in self.used(keys) if price.region not in {self.region, "global"}]


def parse_override(text: str) -> tuple[str, float]:
    """``KEY=USD`` from ``--price``."""
    key, sep, value = text.partition("=")
    try:
        usd = float(value)
    except ValueError:
        usd = -1.0
    if not sep or not key or usd < 0:
        raise ToolError(f"--price {text!r}: expected KEY=USD with a price of 0 or more")
    return key, usd
