"""The scoring model: a versioned TOML data file parsed into frozen, typed rules."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from streams.core.account_rules import THIRD_PARTY_CATEGORY, AccountRules, parse_account
from streams.core.fit_rules import GRADES, FitRules, parse_fit
from streams.core.routing_rules import RoutingRules, parse_routing
from streams.core.sla_rules import DEFAULT_SLA, SlaRules, parse_sla
from streams.core.toml_fields import (
    ModelError,
    Table,
    number,
    optional_table,
    reject_unknown,
    string,
    strings,
    table,
)

__all__ = [
    "AccountRules", "ModelError", "ScoringModel", "SignalRule", "SlaRules", "Thresholds",
    "SegmentBand",
    "parse_model",
]

DAY_MS = 86_400_000
UNKNOWN_SEGMENT = "unknown"


@dataclass(frozen=True, slots=True)
class SignalRule:
    """Points per occurrence of a signal and the cap on its decayed sum (a floor if negative)."""

    name: str
    category: str
    points: float
    cap: float

    @property
    def negative(self) -> bool:
        return self.points < 0

    def clamp(self, value: float) -> float:
        """Apply the cap (positive signals) or the floor (negative ones) to a decayed sum."""
        return max(value, self.cap) if self.negative else min(value, self.cap)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Hysteresis band of a segment: enter sales-ready at ``enter``, leave below ``exit``."""

    enter: float
    exit: float


@dataclass(frozen=True, slots=True)
class SegmentBand:
    """A segment (ACV band) starting at ``min_employees``, with its own thresholds."""

    name: str
    min_employees: int
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class IngestRules:
    """What the ingest drops or refuses to match on (internal traffic, bots, free mail)."""

    free_mail_domains: frozenset[str]
    internal_domains: frozenset[str]
    internal_ip_prefixes: tuple[str, ...]
    bot_user_agent_patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """Everything that decides fit, intent, total and stage; stamped on every output."""

    version: str
    fit_weight: float
    intent_weight: float
    half_life_days: Mapping[str, float]  # category -> half-life
    signals: Mapping[str, SignalRule]
    requalification_triggers: frozenset[str]
    instant_triggers: frozenset[str]
    instant_hold_days: float
    sales_grades: frozenset[str]
    fit: FitRules
    segments: tuple[SegmentBand, ...]  # ascending by min_employees
    unknown_segment_uses: str
    named_account_segment: str
    country_regions: Mapping[str, str]
    ingest: IngestRules
    account: AccountRules
    routing: RoutingRules = field(default_factory=RoutingRules)
    sla: SlaRules = DEFAULT_SLA  # [sla] section; defaults when absent
    # Derived once per model for the hot path (not part of its identity): each scored
    # signal's half-life, and a memo of fit assessments, which depend only on the contact's
    # profile, account and domain (bounded; a cache changes no result, so the core stays pure).
    signal_half_lives: Mapping[str, float] = field(init=False, repr=False, compare=False)
    fit_memo: dict[object, object] = field(init=False, repr=False, compare=False)
    # each scored signal's (cap, negative, category): clamping without method calls
    signal_clamps: Mapping[str, tuple[float, bool, str]] = field(init=False, repr=False,
                                                                 compare=False)
    segment_thresholds: Mapping[str, Thresholds] = field(init=False, repr=False, compare=False)
    # the distinct half-lives of the signals, and 1.0 (an unscored signal's): one power each
    half_life_set: tuple[float, ...] = field(init=False, repr=False, compare=False)
    # the signals whose occurrence makes a contact engaged (positive points)
    engaging_signals: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        half_lives = {name: self.half_life_ms(rule.category)
                      for name, rule in self.signals.items()}
        # plain dicts, read-only by their type: a mappingproxy's lookups cost more (hot path)
        object.__setattr__(self, "signal_half_lives", half_lives)
        object.__setattr__(self, "half_life_set", tuple(sorted({*half_lives.values(), 1.0})))
        clamps = {name: (rule.cap, rule.negative, rule.category)
                  for name, rule in self.signals.items()}
        object.__setattr__(self, "signal_clamps", clamps)
        bands: dict[str, Thresholds] = {}
        for band in self.segments:
            bands.setdefault(band.name, band.thresholds)  # the first band of a name, as ever
        object.__setattr__(self, "segment_thresholds", MappingProxyType(bands))
        object.__setattr__(self, "fit_memo", {})
        object.__setattr__(self, "engaging_signals",
                           frozenset(n for n, rule in self.signals.items() if rule.points > 0))

    @property
    def known_signals(self) -> frozenset[str]:
        return frozenset(self.signals)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self.half_life_days)

    @property
    def free_mail_domains(self) -> frozenset[str]:
        return self.ingest.free_mail_domains

    @property
    def internal_domains(self) -> frozenset[str]:
        return self.ingest.internal_domains

    @property
    def internal_ip_prefixes(self) -> tuple[str, ...]:
        return self.ingest.internal_ip_prefixes

    @property
    def bot_user_agent_patterns(self) -> tuple[str, ...]:
        return self.ingest.bot_user_agent_patterns

    @property
    def instant_hold_ms(self) -> int:
        return round(self.instant_hold_days * DAY_MS)

    def signal(self, name: str) -> SignalRule | None:
        """The rule of signal ``name``, or None when this model does not score it."""
        return self.signals.get(name)

    def half_life_ms(self, category: str) -> float:
        return self.half_life_days[category] * DAY_MS

    def signal_half_life_ms(self, name: str) -> float:
        return self.half_life_ms(self.signals[name].category)

    def is_instant(self, signal: str | None) -> bool:
        return signal in self.instant_triggers

    def is_requalification(self, signal: str | None) -> bool:
        return signal in self.requalification_triggers

    def is_sales_grade(self, grade: str) -> bool:
        return grade in self.sales_grades

    def is_free_mail(self, domain: str) -> bool:
        return domain.strip().lower() in self.ingest.free_mail_domains

    def is_internal_domain(self, domain: str) -> bool:
        domain = domain.strip().lower()
        return any(domain == d or domain.endswith("." + d) for d in self.ingest.internal_domains)

    def is_internal_ip(self, ip: str) -> bool:
        return ip.strip().startswith(self.ingest.internal_ip_prefixes)

    def is_bot(self, user_agent: str | None) -> bool:
        """True when the user agent matches a bot pattern (a missing one is not a bot)."""
        if not user_agent:
            return False
        agent = user_agent.lower()
        return any(pattern in agent for pattern in self.ingest.bot_user_agent_patterns)

    def is_competitor(self, domain: str | None) -> bool:
        return domain is not None and domain.strip().lower() in self.fit.competitor_domains

    def region_of(self, country: str | None) -> str | None:
        """The sales region of an ISO 3166 alpha-2 country code, if mapped."""
        return None if not country else self.country_regions.get(country.strip().upper())

    def segment_of(self, employee_count: int | None, named_account: bool = False) -> str:
        """smb / mid_market / enterprise by size; named accounts are enterprise."""
        if named_account:
            return self.named_account_segment
        if employee_count is None:
            return UNKNOWN_SEGMENT
        name = UNKNOWN_SEGMENT
        for band in self.segments:
            if employee_count >= band.min_employees:
                name = band.name
        return name

    def thresholds(self, segment: str) -> Thresholds:
        """The hysteresis band of ``segment`` (unknown uses the configured segment's)."""
        found = self.segment_thresholds.get(segment)
        if found is not None:
            return found
        return self.thresholds(self.unknown_segment_uses)


def _parse_signals(root: Table, categories: Mapping[str, float]) -> dict[str, SignalRule]:
    raw = table(root, "signals", "model")
    signals: dict[str, SignalRule] = {}
    for name, entry in raw.items():
        where = f"signals.{name!r}"
        if not isinstance(entry, Mapping):
            raise ModelError(f"{where}: must be a table {{category, points, cap}}")
        reject_unknown(entry, {"category", "points", "cap"}, where)
        category = string(entry, "category", where)
        if category not in categories:
            raise ModelError(f"{where}: unknown category {category!r}")
        points, cap = number(entry, "points", where), number(entry, "cap", where)
        if points < 0 and not cap <= points:
            raise ModelError(f"{where}: a negative signal needs a floor cap <= points")
        if points >= 0 and not cap >= points:
            raise ModelError(f"{where}: cap must be >= points")
        signals[name] = SignalRule(name, category, points, cap)
    if not signals:
        raise ModelError("signals: the model scores no signal")
    return signals


def _parse_segments(root: Table) -> tuple[tuple[SegmentBand, ...], str, str]:
    seg = table(root, "segments", "model")
    reject_unknown(seg, {"unknown_uses", "named_account", "band"}, "segments")
    raw_bands = seg.get("band")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise ModelError("segments.band: must be a non-empty array of tables")
    bands = []
    for index, raw in enumerate(raw_bands):
        where = f"segments.band[{index}]"
        if not isinstance(raw, Mapping):
            raise ModelError(f"{where}: must be a table")
        reject_unknown(raw, {"name", "min_employees", "enter", "exit"}, where)
        enter, exit_ = number(raw, "enter", where), number(raw, "exit", where)
        if enter <= exit_:
            raise ModelError(f"{where}: enter ({enter}) must be > exit ({exit_})")
        min_employees = number(raw, "min_employees", where)
        bands.append(SegmentBand(string(raw, "name", where), int(min_employees),
                                 Thresholds(enter, exit_)))
    bands.sort(key=lambda band: band.min_employees)
    names = {band.name for band in bands}
    if len(names) != len(bands) or UNKNOWN_SEGMENT in names:
        raise ModelError("segments.band: names must be unique and not 'unknown'")
    unknown_uses = string(seg, "unknown_uses", "segments")
    named = string(seg, "named_account", "segments")
    for key, value in (("unknown_uses", unknown_uses), ("named_account", named)):
        if value not in names:
            raise ModelError(f"segments.{key}: unknown segment {value!r}")
    return tuple(bands), unknown_uses, named


def parse_model(text: str) -> ScoringModel:
    """Parse and validate a scoring model; raise ModelError on anything invalid."""
    try:
        root = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"not valid TOML: {exc}") from exc
    reject_unknown(
        root,
        {"version", "weights", "categories", "signals", "stages", "segments", "fit", "regions",
         "ingest", "account", "sla", "routing"},
        "model",
    )
    version = string(root, "version", "model")

    weights = table(root, "weights", "model")
    reject_unknown(weights, {"fit", "intent"}, "weights")
    fit_weight, intent_weight = number(weights, "fit", "weights"), number(weights, "intent",
                                                                          "weights")
    if fit_weight < 0 or intent_weight < 0:
        raise ModelError("weights: must not be negative")

    raw_categories = table(root, "categories", "model")
    categories: dict[str, float] = {}
    for name, entry in raw_categories.items():
        if not isinstance(entry, Mapping):
            raise ModelError(f"categories.{name}: must be a table {{half_life_days}}")
        reject_unknown(entry, {"half_life_days"}, f"categories.{name}")
        half_life = number(entry, "half_life_days", f"categories.{name}")
        if half_life <= 0:
            raise ModelError(f"categories.{name}.half_life_days: must be > 0")
        categories[name] = half_life
    if THIRD_PARTY_CATEGORY not in categories:
        raise ModelError(f"categories: missing {THIRD_PARTY_CATEGORY!r} (account topic surges)")
    signals = _parse_signals(root, categories)

    stages = table(root, "stages", "model")
    reject_unknown(
        stages,
        {"sales_grades", "instant_triggers", "instant_hold_days", "requalification_triggers"},
        "stages",
    )
    triggers = {}
    for key in ("instant_triggers", "requalification_triggers"):
        names = strings(stages, key, "stages")
        unknown = sorted(set(names) - set(signals))
        if unknown:
            raise ModelError(f"stages.{key}: unknown signal(s) {', '.join(unknown)}")
        triggers[key] = frozenset(names)
    hold_days = number(stages, "instant_hold_days", "stages")
    if hold_days < 0:
        raise ModelError("stages.instant_hold_days: must be >= 0")
    sales_grades = strings(stages, "sales_grades", "stages")
    if not set(sales_grades) <= set(GRADES):
        raise ModelError(f"stages.sales_grades: grades are {', '.join(GRADES)}")

    segments, unknown_uses, named = _parse_segments(root)

    regions = table(root, "regions", "model")
    country_regions = {}
    for country, region in regions.items():
        if not isinstance(region, str) or not region:
            raise ModelError(f"regions.{country}: must be a region name")
        country_regions[country.upper()] = region.upper()

    ingest = table(root, "ingest", "model")
    reject_unknown(
        ingest,
        {"free_mail_domains", "internal_domains", "internal_ip_prefixes",
         "bot_user_agent_patterns"},
        "ingest",
    )
    fit = parse_fit(root)
    account = parse_account(optional_table(root, "account", "model"),
                            [band.name for band in segments], fit.persona_points)
    return ScoringModel(
        version=version,
        fit_weight=fit_weight,
        intent_weight=intent_weight,
        half_life_days=MappingProxyType(categories),
        signals=MappingProxyType(signals),
        requalification_triggers=triggers["requalification_triggers"],
        instant_triggers=triggers["instant_triggers"],
        instant_hold_days=hold_days,
        sales_grades=frozenset(sales_grades),
        fit=fit,
        segments=segments,
        unknown_segment_uses=unknown_uses,
        named_account_segment=named,
        country_regions=MappingProxyType(country_regions),
        ingest=IngestRules(
            free_mail_domains=frozenset(
                strings(ingest, "free_mail_domains", "ingest", lower=True)),
            internal_domains=frozenset(strings(ingest, "internal_domains", "ingest", lower=True)),
            internal_ip_prefixes=strings(ingest, "internal_ip_prefixes", "ingest"),
            bot_user_agent_patterns=strings(ingest, "bot_user_agent_patterns", "ingest",
                                            lower=True),
        ),
        account=account,
        routing=parse_routing(optional_table(root, "routing", "model")),
        sla=parse_sla(optional_table(root, "sla", "model")),
    )
