"""Hard rules: pairs that must never be matched, whatever their score.

These are filters, not score penalties: a company that excluded a city never hears of its challenges.
"""

from __future__ import annotations

from datetime import date

from schemas import Challenge, CompanyProfile


def challenge_is_open(challenge: Challenge, today: date) -> bool:
    """Open, and its deadline (when it has one) not yet past."""
    return challenge.status == "open" and (challenge.deadline is None or challenge.deadline >= today)


def company_is_active(company: CompanyProfile) -> bool:
    return company.status == "active"


def city_fits(challenge: Challenge, company: CompanyProfile) -> bool:
    """An empty cities_of_interest means the company works with all six cities."""
    return not company.cities_of_interest or challenge.city in company.cities_of_interest


def eligible(challenge: Challenge, company: CompanyProfile, today: date) -> bool:
    return challenge_is_open(challenge, today) and company_is_active(company) and city_fits(challenge, company)
