"""Fit: ICP points, grade, segment, hard exclusions and missing firmographics of a contact."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.effects import Reason
from streams.core.events import AccountProfiled, ContactProfiled
from streams.core.model import ScoringModel

FIT_CATEGORY = "fit"

# Exclusion codes, in precedence order (the first that applies is reported).
COMPETITOR = "competitor"
STUDENT = "student"
EXISTING_CUSTOMER = "existing_customer"
REGION_NOT_SERVED = "region_not_served"

# Review reasons: key firmographics still missing.
ACCOUNT_UNKNOWN = "account_unknown"


@dataclass(frozen=True, slots=True)
class FitAssessment:
    """How well a contact matches the ICP, and whether it may be qualified at all."""

    score: float
    grade: str  # A | B | C | D
    segment: str  # smb | mid_market | enterprise | unknown
    exclusion: str | None
    review_reasons: tuple[str, ...]
    reasons: tuple[Reason, ...]
    failed_must_haves: tuple[str, ...] = ()  # e.g. ("min_employees",): forces grade D


def profile_fit_facts(profile: ContactProfiled | None) -> tuple[str | None, ...] | None:
    """The only fields of a profile that ``assess_fit`` reads (a memo key: contacts with the
    same facts, account and domain have the same fit). Keep in step with this module."""
    if profile is None:
        return None
    return (profile.persona, profile.seniority, profile.country)


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def region_of(
    account: AccountProfiled | None, profile: ContactProfiled | None, model: ScoringModel
) -> str | None:
    """The account's region, else its country's, else the contact's country's region."""
    if account is not None:
        if account.region:
            return account.region.strip().upper()
        region = model.region_of(account.country)
        if region is not None:
            return region
    return model.region_of(profile.country) if profile is not None else None


def _exclusion(
    profile: ContactProfiled | None,
    account: AccountProfiled | None,
    email_domain: str | None,
    region: str | None,
    model: ScoringModel,
) -> str | None:
    rules = model.fit
    if model.is_competitor(email_domain) or (account and model.is_competitor(account.domain)):
        return COMPETITOR
    if rules.exclude_students and profile and _lower(profile.seniority) == "student":
        return STUDENT
    if rules.exclude_customers and account is not None and account.is_customer:
        return EXISTING_CUSTOMER
    if region is not None and region not in rules.regions_served:
        return REGION_NOT_SERVED
    return None


def _review_reasons(
    account: AccountProfiled | None, region: str | None, model: ScoringModel
) -> tuple[str, ...]:
    keys = model.fit.key_firmographics
    if account is None:
        return (ACCOUNT_UNKNOWN,) if "account" in keys else ()
    missing = {
        "industry": not account.industry,
        "employee_count": account.employee_count is None,
        "region": region is None,
    }
    return tuple(f"missing_{key}" for key in keys if missing.get(key, False))


def _points(
    profile: ContactProfiled | None, account: AccountProfiled | None, model: ScoringModel
) -> list[Reason]:
    rules = model.fit
    found: list[Reason] = []

    def add(dimension: str, value: str | None, points: float) -> None:
        if points:
            found.append(Reason(f"fit.{dimension}:{value}", FIT_CATEGORY, points, 1))

    if account is not None:
        industry = _lower(account.industry)
        if industry:
            add("industry", industry, rules.industry_points.get(industry, 0.0))
        if account.employee_count is not None:
            add("size", str(account.employee_count), rules.size_points(account.employee_count))
        stack = sorted({tool.strip().lower() for tool in account.tech_stack})
        matched = [tool for tool in stack if rules.tech_points.get(tool, 0.0)]
        tech = min(rules.tech_cap, sum(rules.tech_points[tool] for tool in matched))
        add("tech_stack", "+".join(matched), tech)
    if profile is not None:
        persona, seniority = _lower(profile.persona), _lower(profile.seniority)
        if persona:
            add("persona", persona, rules.persona_points.get(persona, 0.0))
        if seniority:
            add("seniority", seniority, rules.seniority_points.get(seniority, 0.0))
    return found


def _failed_must_haves(account: AccountProfiled | None, model: ScoringModel) -> tuple[str, ...]:
    """Must-haves that are known to fail (unknown values send a lead to review instead)."""
    if account is None:
        return ()
    rules, failed = model.fit, []
    count = account.employee_count
    if rules.min_employees is not None and count is not None and count < rules.min_employees:
        failed.append("min_employees")
    industry = _lower(account.industry)
    if rules.allowed_industries and industry and industry not in rules.allowed_industries:
        failed.append("industry")
    return tuple(failed)


def assess_fit(
    profile: ContactProfiled | None,
    account: AccountProfiled | None,
    email_domain: str | None,
    model: ScoringModel,
) -> FitAssessment:
    """Score the ICP fit of a contact from its CRM profile, account and company domain."""
    region = region_of(account, profile, model)
    reasons = sorted(_points(profile, account, model), key=lambda r: (-r.points, r.signal))
    score = max(0.0, min(100.0, sum(reason.points for reason in reasons)))
    failed = _failed_must_haves(account, model)
    segment = (
        model.segment_of(account.employee_count, account.named_account)
        if account is not None
        else model.segment_of(None)
    )
    return FitAssessment(
        score=score,
        grade="D" if failed else model.fit.grade_of(score),
        segment=segment,
        exclusion=_exclusion(profile, account, _lower(email_domain), region, model),
        review_reasons=_review_reasons(account, region, model),
        reasons=tuple(reasons),
        failed_must_haves=failed,
    )
