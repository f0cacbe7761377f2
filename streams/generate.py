"""Seeded synthetic traffic: CRM reference data, then a behaviour stream with bots and bad records."""

from __future__ import annotations

import asyncio
import random
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from streams.config import Settings

Record = dict[str, Any]

INDUSTRIES = {"software": 24, "fintech": 12, "healthcare": 12, "retail": 10, "manufacturing": 10,
              "education": 8, "media": 6, "logistics": 6, "insurance": 5, "government": 3,
              "nonprofit": 2, None: 2}  # fmt: skip
COUNTRIES = {"US": ("NA", 30), "CA": ("NA", 5), "GB": ("EMEA", 8), "DE": ("EMEA", 7),
             "FR": ("EMEA", 4), "NL": ("EMEA", 3), "ES": ("EMEA", 2), "SE": ("EMEA", 2),
             "JP": ("APAC", 3), "AU": ("APAC", 3), "IN": ("APAC", 4), "SG": ("APAC", 2),
             "BR": ("LATAM", 4), "MX": ("LATAM", 3), "AR": ("LATAM", 2), "CO": ("LATAM", 1),
             "CL": ("LATAM", 1)}  # fmt: skip
SIZE_BANDS = {(3, 199): 50, (200, 1999): 32, (2000, 60000): 18}
TECH = ["aws", "gcp", "azure", "kubernetes", "snowflake", "salesforce", "hubspot", "segment",
        "kafka", "postgres", "datadog", "okta", "stripe", "shopify", "databricks", "terraform"]  # fmt: skip
COMPETITOR_DOMAINS = ("rivalcorp.com", "competeco.io")
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me")
INTERNAL_DOMAIN = "qualstream.io"
NAME_A = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Tyrell", "Wonka", "Nimbus",
          "Orbit", "Pioneer", "Quanta", "Helix", "Summit", "Vertex", "Andes", "Pampa", "Sol"]  # fmt: skip
NAME_B = ["Labs", "Systems", "Health", "Capital", "Retail", "Works", "Learning", "Analytics",
          "Logistics", "Media", "Cloud", "Group"]  # fmt: skip
FIRST = ["Ana", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
         "Kemi", "Luis", "Maria", "Nils", "Olga", "Pedro", "Priya", "Sofia", "Tomás", "Wei"]  # fmt: skip
LAST = ["Silva", "Smith", "Müller", "García", "Tanaka", "Kumar", "Rossi", "Dubois", "Okafor",
        "Nguyen", "Johansson", "Fernández", "Kowalski", "Brown", "Santos", "Cohen"]  # fmt: skip
# persona -> ([(title, seniority, department)], weight)
PERSONAS = {
    "decision_maker": ([("CTO", "c_level", "engineering"), ("CFO", "c_level", "finance"),
                        ("VP Engineering", "vp", "engineering"), ("VP Sales", "vp", "sales")], 14),
    "champion": ([("Director of Engineering", "director", "engineering"),
                  ("Marketing Ops Manager", "manager", "marketing")], 18),
    "technical_evaluator": ([("Staff Engineer", "individual_contributor", "engineering"),
                             ("Solutions Architect", "individual_contributor", "it")], 18),
    "procurement": ([("Procurement Manager", "manager", "procurement")], 6),
    "end_user": ([("Data Analyst", "individual_contributor", "operations"),
                  ("Software Engineer", "individual_contributor", "engineering")], 26),
    "influencer": ([("Product Marketing Manager", "manager", "marketing")], 12),
    "unknown": ([("", "unknown", "")], 6),
}  # fmt: skip
PAGES = {"blog": 30, "docs": 20, "product": 18, "pricing": 10, "home": 9, "integration": 4,
         "security": 3, "case_study": 4, "careers": 2}  # fmt: skip
EMAIL_TYPES = {"delivered": 40, "open": 30, "click": 16, "reply": 3, "bounce": 3,
               "unsubscribe": 2, "spam_report": 1}  # fmt: skip
PRODUCT_TYPES = {"signup": 10, "trial_started": 8, "activation_milestone": 12, "team_invite": 10,
                 "feature_used": 50, "usage_spike": 10}  # fmt: skip
NURTURE_FORMS = {"content_download": 5, "webinar_registration": 3, "trial_signup": 2}
INTENT_TOPICS = ["stream processing", "lead scoring", "revenue operations", "marketing automation",
                 "data pipelines", "sales engagement"]  # fmt: skip
BOT_AGENTS = ["Googlebot/2.1 (+http://www.google.com/bot.html)", "AhrefsBot/7.0", "bingbot/2.0",
              "Mozilla/5.0 (compatible; SemrushBot/7~bl)"]  # fmt: skip
BROWSERS = ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"]  # fmt: skip
UTM = [("google", "brand-search"), ("linkedin", "abm-q3"), ("newsletter", "monthly-digest"),
       ("g2", "review-listing")]  # fmt: skip
BAD_KINDS = ("random_bytes", "truncated", "wrong_schema", "missing_event_id", "future_timestamp")
DAY_MS = 86_400_000


class Encoder(Protocol):
    """The part of the codec API the generator needs."""

    def encode(self, topic: str, record: Record) -> bytes: ...


class Generated(NamedTuple):
    """One message to produce: topic base name (no prefix), key and encoded value."""

    topic_base: str
    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Draft:
    """A generated message with what it is made of, for tests and statistics."""

    topic_base: str
    key: str
    value: bytes
    kind: str  # account, contact, rep, web, form, email, product, intent, bot, internal,
    # duplicate, or "bad:<BAD_KINDS member>"
    record: Record | None = None


@dataclass(slots=True)
class Session:
    """A browsing visit in progress: the fields its page views share, and pages left."""

    fields: Record
    kind: str
    remaining: int


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """Shape of the synthetic traffic; shares are of behaviour messages."""

    accounts: int = 40
    max_contacts_per_account: int = 6
    free_mail_contacts: int = 8
    reps: int = 8
    mean_gap_ms: float = 200.0  # event-clock step between behaviour messages
    bad_ratio: float = 0.01
    bot_ratio: float = 0.02
    internal_ratio: float = 0.01
    duplicate_ratio: float = 0.005
    # Weights of the good behaviour kinds.
    mix: dict[str, float] = field(
        default_factory=lambda: {
            "web": 45.0,
            "form": 4.0,
            "email": 30.0,
            "product": 12.0,
            "intent": 6.0,
            "crm_update": 3.0,
        }  # fmt: skip
    )
    sales_form_share: float = 0.5  # of "form": demo_request / contact_sales


def _weighted(rng: random.Random, table: dict[Any, Any]) -> Any:
    keys = list(table)
    weights = [v[-1] if isinstance(v, tuple) else v for v in table.values()]
    return rng.choices(keys, weights)[0]


class TrafficGenerator:
    """Deterministic for a given (seed, config, now_ms); time is the event clock it advances."""

    def __init__(self, encoder: Encoder, seed: int, now_ms: int, config: TrafficConfig) -> None:
        self.encoder = encoder
        self.config = config
        self.clock_ms = now_ms
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, seeded on purpose
        self.accounts: list[Record] = []
        self.contacts: list[Record] = []
        self.rep_ids = [f"rep-{i:03d}" for i in range(1, config.reps + 1)]
        self._recent: list[Draft] = []
        self._session: Session | None = None

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _draft(self, topic: str, key: str, record: Record, kind: str) -> Draft:
        return Draft(topic, key, self.encoder.encode(topic, record), kind, record)

    def __iter__(self) -> Iterator[Generated]:
        for d in self.drafts():
            yield Generated(d.topic_base, d.key, d.value)

    def drafts(self) -> Iterator[Draft]:
        """Reference data (reps, accounts, contacts) first, then endless behaviour."""
        yield from self.reference_data()
        while True:
            yield self.next_behaviour()

    def reference_data(self) -> Iterator[Draft]:
        for i, rep_id in enumerate(self.rep_ids):
            yield self._draft("sales.reps", rep_id, self._rep(i, rep_id), "rep")
        for i in range(1, self.config.accounts + 1):
            account = self._account(i)
            self.accounts.append(account)
            yield self._draft("crm.accounts", account["account_id"], account, "account")
            for _ in range(self.rng.randint(1, self.config.max_contacts_per_account)):
                yield self._contact_draft(self._contact(account))
        for _ in range(self.config.free_mail_contacts):
            yield self._contact_draft(self._contact(None))

    def _contact_draft(self, contact: Record) -> Draft:
        self.contacts.append(contact)
        return self._draft("crm.contacts", contact["contact_id"], contact, "contact")

    def _rep(self, i: int, rep_id: str) -> Record:
        """Territory reps follow the sun in their region's timezone; the last two are a 24x7
        on-call fallback pool, so that somebody can always take a lead."""
        regions = [("NA", "America/New_York"), ("EMEA", "Europe/Berlin"),
                   ("APAC", "Asia/Singapore"), ("LATAM", "America/Sao_Paulo")]
        region, timezone = regions[i % 4]
        on_call = i >= max(1, len(self.rep_ids) - 2)
        territories = [f"{region}:{segment}" for segment in ("smb", "mid_market", "enterprise")]
        return {"event_id": self._id(), "occurred_at": self.clock_ms, "rep_id": rep_id,
                "name": f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                "active": True, "pools": ["fallback"] if on_call else [],
                "territories": [] if on_call else territories, "weight": 1 + i % 3,
                "max_open": 25, "work_start_minute": 0 if on_call else 480,
                "work_end_minute": 1440 if on_call else 1080,
                "work_days": [1, 2, 3, 4, 5, 6, 7] if on_call else [1, 2, 3, 4, 5],
                "timezone": "UTC" if on_call else timezone,
                "manager_rep_id": self.rep_ids[0] if i else None}  # fmt: skip

    def _account(self, n: int) -> Record:
        rng = self.rng
        competitor = n <= len(COMPETITOR_DOMAINS) and self.config.accounts >= 10
        if competitor:
            domain = COMPETITOR_DOMAINS[n - 1]
            name = domain.split(".")[0].title()
        else:
            name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)}"
            domain = f"{name.lower().replace(' ', '')}{n}.{rng.choice(['com', 'io', 'co'])}"
        country = _weighted(rng, COUNTRIES)
        low, high = _weighted(rng, SIZE_BANDS)
        employees = rng.randint(low, high)
        missing_firmographics = rng.random() < 0.05
        return {
            "event_id": self._id(), "occurred_at": self.clock_ms, "account_id": f"acc-{n:05d}",
            "domain": domain, "name": name,
            "industry": None if missing_firmographics else _weighted(rng, INDUSTRIES),
            "employee_count": None if missing_firmographics else employees,
            "annual_revenue": employees * rng.randint(80, 400) * 1000,
            "country": country, "region": COUNTRIES[country][0],
            "tech_stack": sorted(rng.sample(TECH, rng.randint(0, 5))),
            "owner_rep_id": rng.choice(self.rep_ids) if rng.random() < 0.25 else None,
            "is_customer": rng.random() < 0.1, "named_account": rng.random() < 0.1,
        }  # fmt: skip

    def _contact(self, account: Record | None) -> Record:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        persona = _weighted(rng, PERSONAS)
        title, seniority, department = rng.choice(PERSONAS[persona][0])
        if account is not None and rng.random() < 0.03:
            persona, title, seniority, department = "end_user", "Student", "student", "education"
        plain = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
        local = plain.encode("ascii", "ignore").decode()
        domain = account["domain"] if account else rng.choice(FREE_MAIL)
        return {
            "event_id": self._id(), "occurred_at": self.clock_ms,
            "contact_id": f"con-{len(self.contacts) + 1:06d}",
            "email": f"{local}{rng.randint(1, 99)}@{domain}", "first_name": first,
            "last_name": last, "title": title or None, "seniority": seniority,
            "department": department or None, "persona": persona,
            "country": account["country"] if account else rng.choice(list(COUNTRIES)),
            "account_id": account["account_id"] if account else None,
        }  # fmt: skip

    def next_behaviour(self) -> Draft:
        """One behaviour message; advances the event clock."""
        cfg, rng = self.config, self.rng
        self.clock_ms += max(1, int(rng.expovariate(1.0 / cfg.mean_gap_ms)))
        roll = rng.random()
        if roll < cfg.bad_ratio:
            return self._bad(rng.choice(BAD_KINDS))
        roll -= cfg.bad_ratio
        if roll < cfg.duplicate_ratio and self._recent:
            again = rng.choice(self._recent)
            return replace(again, kind="duplicate")
        roll -= cfg.duplicate_ratio
        if roll < cfg.bot_ratio:
            draft = self._page_view(self._new_session(None, "bot"))
        elif roll - cfg.bot_ratio < cfg.internal_ratio:
            draft = self._page_view(self._new_session(None, "internal"))
        else:
            draft = self._good(_weighted(rng, cfg.mix))
        self._recent = [*self._recent[-63:], draft]
        return draft

    def _good(self, kind: str) -> Draft:
        if kind == "intent":
            return self._intent()
        if kind == "crm_update":
            return self._crm_update()
        contact = self.rng.choice(self.contacts)
        if kind == "web":
            if self._session is None or self._session.remaining <= 0:
                known = self.rng.random() < 0.7
                self._session = self._new_session(contact if known else None, "web")
            return self._page_view(self._session)
        if kind == "form":
            return self._form(contact)
        if kind == "email":
            return self._email(contact)
        return self._product(contact)

    def _base(self) -> Record:
        return {"event_id": self._id(), "occurred_at": self.clock_ms}

    def _new_session(self, contact: Record | None, kind: str) -> Session:
        rng = self.rng
        visitor: Record = {"anonymous_id": f"v{rng.getrandbits(48):012x}"}
        if contact is not None:
            visitor = {"contact_id": contact["contact_id"], "email": contact["email"]}
        extra: Record = {
            "user_agent": rng.choice(BROWSERS),
            "ip": f"203.0.113.{rng.randint(1, 254)}",
        }
        if kind == "bot":
            extra["user_agent"] = rng.choice(BOT_AGENTS)
        elif kind == "internal":
            extra["email"] = f"{rng.choice(FIRST).lower()}@{INTERNAL_DOMAIN}"
            extra["ip"] = f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}"
        elif rng.random() < 0.4:
            extra["utm_source"], extra["utm_campaign"] = rng.choice(UTM)
        pages = rng.randint(1, 6) if kind == "web" else 1
        return Session(visitor | extra | {"session_id": f"s-{rng.getrandbits(40):x}"}, kind, pages)

    def _page_view(self, session: Session) -> Draft:
        """The next page of ``session``: a visit is several views sharing a session id."""
        session.remaining -= 1
        category = _weighted(self.rng, PAGES)
        record = self._base() | session.fields | {
            "type": "page_view", "url": f"https://www.qualstream.io/{category}",
            "page_category": category,
        }  # fmt: skip
        key = record.get("contact_id") or record["anonymous_id"]
        return self._draft("events.web", key, record, session.kind)

    def _form(self, contact: Record) -> Draft:
        rng = self.rng
        if rng.random() < self.config.sales_form_share:
            form = rng.choice(["demo_request", "contact_sales"])
        else:
            form = _weighted(rng, NURTURE_FORMS)
        record = self._base() | {
            "type": "form_submit", "form_type": form, "contact_id": contact["contact_id"],
            "email": contact["email"], "url": f"https://www.qualstream.io/forms/{form}",
            "user_agent": rng.choice(BROWSERS), "session_id": f"s-{rng.getrandbits(40):x}",
        }  # fmt: skip
        return self._draft("events.web", contact["contact_id"], record, "form")

    def _email(self, contact: Record) -> Draft:
        kind = _weighted(self.rng, EMAIL_TYPES)
        record = self._base() | {
            "type": kind, "contact_id": contact["contact_id"], "email": contact["email"],
            "campaign_id": f"cmp-{self.rng.randint(1, 12):02d}",
            "link_url": "https://www.qualstream.io/pricing" if kind == "click" else None,
        }  # fmt: skip
        return self._draft("events.email", contact["contact_id"], record, "email")

    def _product(self, contact: Record) -> Draft:
        kind = _weighted(self.rng, PRODUCT_TYPES)
        record = self._base() | {
            "type": kind, "contact_id": contact["contact_id"], "email": contact["email"],
            "workspace_id": f"ws-{contact.get('account_id') or contact['contact_id']}",
            "feature": self.rng.choice(["dashboards", "alerts", "api", "sso"])
            if kind in ("feature_used", "usage_spike") else None,
            "milestone": "first_pipeline" if kind == "activation_milestone" else None,
            "quantity": self.rng.randint(1, 50) if kind in ("team_invite", "usage_spike") else None,
        }  # fmt: skip
        return self._draft("events.product", contact["contact_id"], record, "product")

    def _intent(self) -> Draft:
        account = self.rng.choice(self.accounts)
        record = self._base() | {
            "type": "topic_surge", "domain": account["domain"],
            "account_id": account["account_id"] if self.rng.random() < 0.5 else None,
            "topic": self.rng.choice(INTENT_TOPICS), "strength": self.rng.randint(0, 100),
            "provider": self.rng.choice(["bombora", "g2"]),
        }  # fmt: skip
        return self._draft("events.intent", account["domain"], record, "intent")

    def _crm_update(self) -> Draft:
        if self.rng.random() < 0.5:
            account = dict(self.rng.choice(self.accounts))
            account |= self._base() | {"employee_count": self.rng.randint(3, 60000)}
            return self._draft("crm.accounts", account["account_id"], account, "crm_update")
        contact = dict(self.rng.choice(self.contacts))
        contact |= self._base() | {"title": self.rng.choice(["Head of Data", "VP Marketing"])}
        return self._draft("crm.contacts", contact["contact_id"], contact, "crm_update")

    def _bad(self, kind: str) -> Draft:
        rng = self.rng
        good = self._email(rng.choice(self.contacts))
        value, record = good.value, good.record
        if kind == "random_bytes":
            value, record = rng.randbytes(rng.randint(1, 64)), None
        elif kind == "truncated":
            value, record = value[: rng.randint(1, len(value) - 1)], None
        elif kind == "wrong_schema":  # a valid intent record where an e-mail event belongs
            value, record = self._intent().value, None
        elif kind == "missing_event_id":
            record = dict(good.record or {}) | {"event_id": ""}
            value = self.encoder.encode("events.email", record)
        else:  # future_timestamp
            record = dict(good.record or {}) | {"occurred_at": self.clock_ms + 30 * DAY_MS}
            value = self.encoder.encode("events.email", record)
        return Draft("events.email", good.key, value, f"bad:{kind}", record)


@dataclass(slots=True)
class ProduceStats:
    """What :func:`produce` sent."""

    reference: int = 0
    behaviour: int = 0
    bad: int = 0
    elapsed_s: float = 0.0
    by_topic: dict[str, int] = field(default_factory=dict)


async def produce(
    settings: Settings,
    *,
    seed: int = 1,
    rate: float = 100.0,
    duration_s: float | None = None,
    count: int | None = None,
    config: TrafficConfig | None = None,
    now_ms: int | None = None,
    encoder: Encoder | None = None,
    on_progress: Callable[[ProduceStats], None] | None = None,
) -> ProduceStats:
    """Send the reference data, then behaviour at ``rate``/s until ``count`` or ``duration_s``.

    ``rate <= 0`` sends as fast as possible; with neither limit it runs until cancelled.
    """
    from aiokafka import AIOKafkaProducer

    from streams.devstack import producer_kwargs
    from streams.security import kafka_client_kwargs

    if encoder is None:
        from streams.codecs import codec_for

        encoder = codec_for(settings.schema_registry_url)
    config = config or TrafficConfig()
    # The event clock follows the wall clock at the requested rate; flat out, events are
    # 1 ms apart so that event times never run ahead of the wall clock by much.
    config = replace(config, mean_gap_ms=1000.0 / rate if rate > 0 else 1.0)
    start_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    generator = TrafficGenerator(encoder, seed, start_ms, config)
    stats = ProduceStats()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, **producer_kwargs(settings),
        **kafka_client_kwargs(settings.kafka_security),
    )
    await producer.start()
    started = time.monotonic()
    try:
        pending: list[asyncio.Future[Any]] = []
        for draft in generator.reference_data():
            pending.append(await _send(producer, settings, draft, stats))
            stats.reference += 1
        await asyncio.gather(*pending)
        pending = []
        started = time.monotonic()
        while (count is None or stats.behaviour < count) and (
            duration_s is None or time.monotonic() - started < duration_s
        ):
            draft = generator.next_behaviour()
            pending.append(await _send(producer, settings, draft, stats))
            stats.behaviour += 1
            stats.bad += draft.kind.startswith("bad:")
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending = []
            if rate > 0:
                ahead = stats.behaviour / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if on_progress is not None and stats.behaviour % 1000 == 0:
                on_progress(stats)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
        stats.elapsed_s = time.monotonic() - started
    return stats


async def _send(producer: Any, settings: Settings, draft: Draft, stats: ProduceStats) -> Any:
    topic = settings.topics.name(draft.topic_base)
    stats.by_topic[topic] = stats.by_topic.get(topic, 0) + 1
    return await producer.send(topic, value=draft.value, key=draft.key.encode())
