"""The fit part of the scoring model: ICP points tables, must-haves, exclusions, grades."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from streams.core.toml_fields import (
    ModelError,
    Table,
    as_number,
    boolean,
    integer,
    number,
    points_table,
    reject_unknown,
    strings,
    table,
)

GRADES = ("A", "B", "C", "D")
KEY_FIRMOGRAPHICS = ("account", "industry", "employee_count", "region")


@dataclass(frozen=True, slots=True)
class SizeBand:
    """Points for a company of at least ``min_employees`` (the highest matching band wins)."""

    min_employees: int
    points: float


@dataclass(frozen=True, slots=True)
class FitRules:
    """ICP rules: points per trait, gates, hard exclusions and the grade cut-offs."""

    industry_points: Mapping[str, float]
    size_bands: tuple[SizeBand, ...]  # ascending by min_employees
    tech_points: Mapping[str, float]
    tech_cap: float
    persona_points: Mapping[str, float]
    seniority_points: Mapping[str, float]
    min_employees: int | None
    allowed_industries: frozenset[str]  # empty: any industry
    competitor_domains: frozenset[str]
    regions_served: frozenset[str]
    exclude_students: bool
    exclude_customers: bool
    key_firmographics: tuple[str, ...]
    grade_floors: tuple[tuple[str, float], ...]  # (A, 75), (B, 50), (C, 25); below: D

    def size_points(self, employee_count: int) -> float:
        """Points of the highest size band that ``employee_count`` reaches (0 below all)."""
        points = 0.0
        for band in self.size_bands:
            if employee_count >= band.min_employees:
                points = band.points
        return points

    def grade_of(self, score: float) -> str:
        """The letter grade of a fit score (D below every floor)."""
        for grade, floor in self.grade_floors:
            if score >= floor:
                return grade
        return "D"


def _frozen_points(parent: Table, key: str, where: str) -> Mapping[str, float]:
    return MappingProxyType({k.lower(): v for k, v in points_table(parent, key, where).items()})


def parse_fit(root: Table) -> FitRules:
    """Read and validate the ``[fit]`` table."""
    fit = table(root, "fit", "model")
    reject_unknown(
        fit,
        {"industry", "size", "tech_stack", "persona", "seniority", "must_have", "exclusions",
         "grades", "key_firmographics"},
        "fit",
    )
    bands = []
    raw_bands = fit.get("size")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise ModelError("fit.size: must be a non-empty array of {min_employees, points}")
    for index, raw in enumerate(raw_bands):
        where = f"fit.size[{index}]"
        if not isinstance(raw, Mapping):
            raise ModelError(f"{where}: must be a table")
        reject_unknown(raw, {"min_employees", "points"}, where)
        bands.append(SizeBand(integer(raw, "min_employees", where), number(raw, "points", where)))
    bands.sort(key=lambda band: band.min_employees)

    tech = table(fit, "tech_stack", "fit")
    reject_unknown(tech, {"cap", "points"}, "fit.tech_stack")
    tech_cap = number(tech, "cap", "fit.tech_stack")

    must = table(fit, "must_have", "fit")
    reject_unknown(must, {"min_employees", "industries"}, "fit.must_have")
    min_employees = integer(must, "min_employees", "fit.must_have") if "min_employees" in must \
        else None
    allowed = strings(must, "industries", "fit.must_have", lower=True) \
        if "industries" in must else ()

    excl = table(fit, "exclusions", "fit")
    reject_unknown(
        excl,
        {"competitor_domains", "regions_served", "exclude_students", "exclude_customers"},
        "fit.exclusions",
    )
    key_firmographics = strings(fit, "key_firmographics", "fit")
    for name in key_firmographics:
        if name not in KEY_FIRMOGRAPHICS:
            raise ModelError(
                f"fit.key_firmographics: unknown {name!r} (known: {', '.join(KEY_FIRMOGRAPHICS)})"
            )

    grades = table(fit, "grades", "fit")
    reject_unknown(grades, set(GRADES[:-1]), "fit.grades")
    floors = tuple((g, as_number(grades.get(g), f"fit.grades.{g}")) for g in GRADES[:-1])
    if not floors[0][1] > floors[1][1] > floors[2][1]:
        raise ModelError("fit.grades: floors must strictly decrease from A to C")

    return FitRules(
        industry_points=_frozen_points(fit, "industry", "fit"),
        size_bands=tuple(bands),
        tech_points=_frozen_points(tech, "points", "fit.tech_stack"),
        tech_cap=tech_cap,
        persona_points=_frozen_points(fit, "persona", "fit"),
        seniority_points=_frozen_points(fit, "seniority", "fit"),
        min_employees=min_employees,
        allowed_industries=frozenset(allowed),
        competitor_domains=frozenset(
            strings(excl, "competitor_domains", "fit.exclusions", lower=True)
        ),
        regions_served=frozenset(
            r.upper() for r in strings(excl, "regions_served", "fit.exclusions")
        ),
        exclude_students=boolean(excl, "exclude_students", "fit.exclusions"),
        exclude_customers=boolean(excl, "exclude_customers", "fit.exclusions"),
        key_firmographics=key_firmographics,
        grade_floors=floors,
    )
