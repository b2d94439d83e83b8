"""The on-premises baseline: what the datacenter's three servers cost a month, from the
operator's own figures. The defaults are placeholders to replace, not measured or published
prices: every one is an option of ``scripts/cost_estimate.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class OnPremises:
    servers: int = 3  # web, database, file server
    server_price_usd: float = 6000.0  # purchase price of one server
    server_lifetime_years: float = 5.0  # amortisation period
    storage_tb: float = 2.0  # usable disk, with its redundancy
    storage_usd_per_tb_month: float = 20.0  # disks, controllers, backup media, amortised
    licences_usd_month: float = 0.0  # operating systems, database, backup software
    power_and_rack_usd_month_per_server: float = 100.0
    manual_update_hours_month: float = 8.0  # patching, upgrades, restarts by hand
    hourly_rate_usd: float = 60.0

    def lines(self) -> list[tuple[str, float]]:
        amortised = self.servers * self.server_price_usd / (self.server_lifetime_years * 12)
        return [
            (f"{self.servers} servers, amortised over {self.server_lifetime_years:g} years", amortised),
            (f"storage, {self.storage_tb:g} TB", self.storage_tb * self.storage_usd_per_tb_month),
            ("licences", self.licences_usd_month),
            ("power and rack", self.servers * self.power_and_rack_usd_month_per_server),
            (
                f"manual updates, {self.manual_update_hours_month:g} h",
                self.manual_update_hours_month * self.hourly_rate_usd,
            ),
        ]

    def total(self) -> float:
        return sum(usd for _, usd in self.lines())

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": asdict(self),
            "lines": [{"item": item, "usd": round(usd, 2)} for item, usd in self.lines()],
            "monthly_usd": round(self.total(), 2),
        }
