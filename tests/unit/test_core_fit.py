"""Fit: ICP points, grades, segments, exclusions in precedence, review reasons."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from streams.core.events import AccountProfiled, ContactProfiled
from streams.core.fit import assess_fit, profile_fit_facts
from streams.core.model import parse_model

MODEL = parse_model(
    (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
)
PROFILE = ContactProfiled("p1", 1, "acme.com", "acc-1", "VP Sales", "vp", "sales",
                          "decision_maker", "US")
ACCOUNT = AccountProfiled("a1", 1, "acc-1", "acme.com", "software", 500, None, "US", None,
                          ("salesforce",), None, False, False)


def test_icp_points_grade_and_segment() -> None:
    fit = assess_fit(PROFILE, ACCOUNT, "acme.com", MODEL)
    assert fit.score == 95  # industry 25 + size 25 + salesforce 5 + decision maker 25 + vp 15
    assert (fit.grade, fit.segment, fit.exclusion, fit.review_reasons) == (
        "A", "mid_market", None, ())
    assert {r.signal for r in fit.reasons} == {
        "fit.industry:software", "fit.size:500", "fit.tech_stack:salesforce",
        "fit.persona:decision_maker", "fit.seniority:vp"}


def test_tech_stack_is_capped() -> None:
    stack = ("salesforce", "hubspot", "marketo", "segment", "snowflake")
    fit = assess_fit(PROFILE, replace(ACCOUNT, tech_stack=stack), "acme.com", MODEL)
    assert fit.score == 25 + 25 + 10 + 25 + 15


def test_failed_must_have_forces_grade_d() -> None:
    tiny = assess_fit(PROFILE, replace(ACCOUNT, employee_count=5), "acme.com", MODEL)
    assert tiny.grade == "D" and tiny.failed_must_haves == ("min_employees",)
    other = assess_fit(PROFILE, replace(ACCOUNT, industry="mining"), "acme.com", MODEL)
    assert other.grade == "D" and other.failed_must_haves == ("industry",)


def test_named_account_is_enterprise() -> None:
    fit = assess_fit(PROFILE, replace(ACCOUNT, employee_count=50, named_account=True),
                     "acme.com", MODEL)
    assert fit.segment == "enterprise"


def test_exclusions_each_and_in_precedence() -> None:
    def excl(profile: ContactProfiled, account: AccountProfiled | None,
             domain: str | None) -> str | None:
        return assess_fit(profile, account, domain, MODEL).exclusion

    student = replace(PROFILE, seniority="student")
    customer = replace(ACCOUNT, is_customer=True)
    latam = replace(ACCOUNT, country="BR")
    assert excl(PROFILE, ACCOUNT, "rivalcorp.com") == "competitor"
    assert excl(PROFILE, replace(ACCOUNT, domain="competeco.io"), "acme.com") == "competitor"
    assert excl(student, ACCOUNT, "acme.com") == "student"
    assert excl(PROFILE, customer, "acme.com") == "existing_customer"
    assert excl(PROFILE, latam, "acme.com") == "region_not_served"
    assert excl(PROFILE, replace(ACCOUNT, region="LATAM", country="US"), "x.com") \
        == "region_not_served"  # an explicit region wins over the country
    # precedence: competitor > student > existing_customer > region_not_served
    assert excl(student, replace(customer, country="BR"), "rivalcorp.com") == "competitor"
    assert excl(student, replace(customer, country="BR"), "acme.com") == "student"
    assert excl(PROFILE, replace(customer, country="BR"), "acme.com") == "existing_customer"
    # the contact's own country counts when there is no account yet
    assert excl(replace(PROFILE, country="AR"), None, None) == "region_not_served"


def test_review_reasons() -> None:
    assert assess_fit(PROFILE, None, None, MODEL).review_reasons == ("account_unknown",)
    bare = replace(ACCOUNT, industry=None, employee_count=None, country=None, region=None)
    fit = assess_fit(replace(PROFILE, country=None), bare, "acme.com", MODEL)
    assert fit.review_reasons == ("missing_industry", "missing_employee_count", "missing_region")
    assert fit.segment == "unknown" and fit.grade != "D"  # unknown facts fail no must-have
    # the region can come from the country map, or from the contact's country
    assert assess_fit(PROFILE, replace(ACCOUNT, country=None), "acme.com",
                      MODEL).review_reasons == ()


def test_fit_reads_only_the_profile_facts_its_memo_is_keyed_on() -> None:
    """``fit_of`` memoises on ``profile_fit_facts``: every other profile field is irrelevant."""
    others = {"event_id": "p2", "occurred_at": 2, "email_domain": "other.com",
              "account_id": "acc-2", "title": "Student", "department": "student"}
    assert set(others) | {"persona", "seniority", "country"} == {
        f.name for f in fields(ContactProfiled)}
    for account in (ACCOUNT, None):
        for profile in (PROFILE, replace(PROFILE, seniority="student", country="RU"),
                        replace(PROFILE, persona=None, country=None)):
            expected = assess_fit(profile, account, "acme.com", MODEL)
            changed = replace(profile, **others)  # type: ignore[arg-type]
            assert profile_fit_facts(changed) == profile_fit_facts(profile)
            assert assess_fit(changed, account, "acme.com", MODEL) == expected
