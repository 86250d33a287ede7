"""The soak's event stream: a seeded mix of what cities and companies really send, and the state it leaves.

Pure (no Kafka): `Workload` hands out one event at a time and keeps the final state those events
define (every id's newest version, which companies were erased), so the soak can rank that state
offline at the end. Entities are synthetic (bench.data: sample_data's sentences recombined); the
population stays bounded (new companies and challenges are balanced by erasures, withdrawals and
closures), so a flat memory curve is what a worker without a leak shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from schemas import Challenge, CompanyProfile

Kind = Literal[
    "new-company",
    "company-update",
    "company-tombstone",
    "company-withdrawal",
    "new-challenge",
    "challenge-update",
    "challenge-closure",
]

# relative weights of the steady stream: mostly profile updates, as in production
WEIGHTS: dict[Kind, float] = {
    "company-update": 0.40,
    "new-company": 0.14,
    "company-tombstone": 0.07,
    "company-withdrawal": 0.07,
    "new-challenge": 0.12,
    "challenge-update": 0.12,
    "challenge-closure": 0.08,
}


@dataclass(frozen=True)
class Event:
    """One event to publish: an entity version, or a company tombstone (`entity` None, `company_id` set)."""

    kind: Kind
    entity: Challenge | CompanyProfile | None = None
    company_id: str | None = None


class Workload:
    """Events and the state they leave. `company_pool` and `challenge_pool` supply ids and texts."""

    def __init__(
        self,
        company_pool: list[CompanyProfile],
        challenge_pool: list[Challenge],
        seed: int = 7,
        companies: tuple[int, int] = (80, 160),
        open_challenges: tuple[int, int] = (8, 24),
    ) -> None:
        self.rng = random.Random(seed)
        self._company_pool = list(company_pool)
        self._challenge_pool = list(challenge_pool)
        self.company_bounds = companies
        self.challenge_bounds = open_challenges
        self.companies: dict[str, CompanyProfile] = {}  # newest version of every company ever sent
        self.challenges: dict[str, Challenge] = {}  # newest version of every challenge ever sent
        self.erased: set[str] = set()  # tombstoned company ids (never sent again)
        self._next_company = 0
        self._next_challenge = 0

    # -- the state ----------------------------------------------------------------------------
    @property
    def live_companies(self) -> list[CompanyProfile]:
        """Active companies that were not erased: the ones a challenge can be matched with."""
        return [c for i, c in self.companies.items() if i not in self.erased and c.status == "active"]

    @property
    def open_challenges(self) -> list[Challenge]:
        return [c for c in self.challenges.values() if c.status == "open"]

    # -- events -------------------------------------------------------------------------------
    def initial(self, companies: int, challenges: int) -> list[Event]:
        """The state loaded before the steady stream: `companies` companies, then `challenges` challenges."""
        return [self._new_company() for _ in range(companies)] + [self._new_challenge() for _ in range(challenges)]

    def next_event(self) -> Event:
        kinds = [k for k in WEIGHTS if self._possible(k)]
        kind = self.rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        return getattr(self, "_" + kind.replace("-", "_"))()

    def sweep(self, kind: Literal["challenges", "companies"]) -> list[Event]:
        """A new version, same content, of every open challenge or live company: the final ranking probe."""
        if kind == "challenges":
            return [self._bump_challenge(c, "challenge-update") for c in self.open_challenges]
        return [self._bump_company(c, "company-update") for c in self.live_companies]

    def _possible(self, kind: Kind) -> bool:
        n_companies, n_open = len(self.live_companies), len(self.open_challenges)
        low_co, high_co = self.company_bounds
        low_ch, high_ch = self.challenge_bounds
        if kind == "new-company":
            return n_companies < high_co and self._next_company < len(self._company_pool)
        if kind in ("company-tombstone", "company-withdrawal"):
            return n_companies > low_co
        if kind == "company-update":
            return n_companies > 0
        if kind == "new-challenge":
            return n_open < high_ch and self._next_challenge < len(self._challenge_pool)
        if kind == "challenge-closure":
            return n_open > low_ch
        return n_open > 0  # challenge-update

    def _new_company(self) -> Event:
        company = self._company_pool[self._next_company].model_copy(update={"version": 1, "status": "active"})
        self._next_company += 1
        self.companies[company.company_id] = company
        return Event("new-company", company)

    def _new_challenge(self) -> Event:
        challenge = self._challenge_pool[self._next_challenge].model_copy(update={"version": 1, "status": "open"})
        self._next_challenge += 1
        self.challenges[challenge.challenge_id] = challenge
        return Event("new-challenge", challenge)

    def _bump_company(self, company: CompanyProfile, kind: Kind, **update: object) -> Event:
        newer = company.model_copy(update={"version": company.version + 1, **update})
        self.companies[newer.company_id] = newer
        return Event(kind, newer)

    def _bump_challenge(self, challenge: Challenge, kind: Kind, **update: object) -> Event:
        newer = challenge.model_copy(update={"version": challenge.version + 1, **update})
        self.challenges[newer.challenge_id] = newer
        return Event(kind, newer)

    def _company_update(self) -> Event:
        """A new description and tags, taken from another synthetic profile (so the vector changes)."""
        company = self.rng.choice(self.live_companies)
        text = self.rng.choice(self._company_pool)
        return self._bump_company(company, "company-update", description=text.description, tags=text.tags)

    def _company_tombstone(self) -> Event:
        company_id = self.rng.choice(self.live_companies).company_id
        self.erased.add(company_id)
        return Event("company-tombstone", company_id=company_id)

    def _company_withdrawal(self) -> Event:
        return self._bump_company(self.rng.choice(self.live_companies), "company-withdrawal", status="withdrawn")

    def _challenge_update(self) -> Event:
        challenge = self.rng.choice(self.open_challenges)
        text = self.rng.choice(self._challenge_pool)
        return self._bump_challenge(challenge, "challenge-update", description=text.description)

    def _challenge_closure(self) -> Event:
        return self._bump_challenge(self.rng.choice(self.open_challenges), "challenge-closure", status="closed")
