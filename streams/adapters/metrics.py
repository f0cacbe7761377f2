"""Prometheus metrics: base units, labels of bounded cardinality (never a contact id or e-mail)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0, 60.0, 300.0)


class Metrics:
    """Every series one worker exports; one instance per worker (its own registry)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "qualstream_events_in_total", "Input records read, by source topic.",
            ["source"], registry=r)
        self.events_rejected = Counter(
            "qualstream_events_rejected_total",
            "Input records rejected to the dead-letter topic, by stage and reason.",
            ["stage", "reason"], registry=r)
        self.events_dropped = Counter(
            "qualstream_events_dropped_total",
            "Valid input records deliberately not scored (bot, internal traffic).",
            ["reason"], registry=r)
        self.dlq_records = Counter(
            "qualstream_dlq_records_total", "Records written to the dead-letter topic.",
            ["stage"], registry=r)
        self.duplicates = Counter(
            "qualstream_duplicates_skipped_total",
            "Inputs skipped as re-deliveries or duplicate event ids, by agent.",
            ["agent"], registry=r)
        self.processing = Histogram(
            "qualstream_processing_seconds", "Time spent processing one message, by agent.",
            ["agent"], buckets=LATENCY_BUCKETS, registry=r)
        self.processed = Counter(
            "qualstream_processed_total", "Messages processed, by agent.", ["agent"], registry=r)
        self.errors = Counter(
            "qualstream_processing_errors_total",
            "Messages that failed inside an agent (sent to the dead-letter topic), by agent.",
            ["agent"], registry=r)
        self.transitions = Counter(
            "qualstream_transitions_total",
            "Stage transitions emitted, by target stage, direction and trigger.",
            ["to_stage", "direction", "trigger"], registry=r)
        self.event_to_output = Histogram(
            "qualstream_event_to_output_seconds",
            "Event time of the causing input to the moment its output was sent.",
            ["output"], buckets=LATENCY_BUCKETS, registry=r)
        self.input_wait = Histogram(
            "qualstream_input_wait_seconds",
            "From a message's broker timestamp to the moment its agent starts processing it "
            "(each hop's share of the end-to-end latency), by agent.",
            ["agent"], buckets=LATENCY_BUCKETS, registry=r)
        self.rewinds = Counter(
            "qualstream_offset_rewinds_total",
            "Times an agent found inputs it never received and sought back to them.",
            ["agent"], registry=r)
        self.timers_fired = Counter(
            "qualstream_timers_fired_total", "Deadlines that fired, by timer kind.", ["kind"],
            registry=r)
        self.timer_lateness = Histogram(
            "qualstream_timer_lateness_seconds",
            "How long after its deadline a timer fired, by timer kind.", ["kind"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.assignments = Counter(
            "qualstream_assignments_total", "Leads assigned, by pool and rule.",
            ["pool", "rule"], registry=r)
        self.routing_failed = Counter(
            "qualstream_routing_failed_total", "Leads nobody could take, by reason.", ["reason"],
            registry=r)
        self.routing_latency = Histogram(
            "qualstream_routing_latency_seconds",
            "Event time of the routed trigger to its assignment.", buckets=LATENCY_BUCKETS,
            registry=r)
        self.sla_events = Counter(
            "qualstream_sla_events_total", "SLA timer events, by kind and status.",
            ["kind", "status"], registry=r)
        self.rejections = Counter(
            "qualstream_rejections_total",
            "Sales-ready leads rejected or disqualified by reps, by activity and first-touch "
            "source (the feedback loop).", ["activity", "source"], registry=r)
        self.table_keys = Gauge(
            "qualstream_table_keys", "Keys held in a table on this worker.", ["table"],
            registry=r)
        self.projection_writes = Counter(
            "qualstream_projection_writes_total",
            "Records the Redis projection wrote, by result (applied, stale, deleted).",
            ["result"], registry=r)
        self.projection_errors = Counter(
            "qualstream_projection_errors_total",
            "Redis projection failures, by kind (redis_unavailable, redis_auth, decode, "
            "redis_command, unexpected).", ["kind"], registry=r)
        # Computed when /metrics is scraped (streams/shell/scrape_gauges.py).
        self.sla_open_timers = Gauge(
            "qualstream_sla_open_timers",
            "SLA clocks running (open or warned) on this worker's partitions, by kind.",
            ["kind"], registry=r)
        self.consumer_lag = Gauge(
            "qualstream_consumer_lag_messages",
            "Messages not yet committed by this worker's agents: end offset minus committed "
            "offset, summed over its assigned partitions, by input topic.", ["topic"],
            registry=r)
        self.assigned_partitions = Gauge(
            "qualstream_assigned_partitions",
            "Partitions of each input topic assigned to this worker.", ["topic"], registry=r)
        self.ready = Gauge(
            "qualstream_ready", "1 once table recovery finished (what /readyz says), else 0.",
            registry=r)
        self.build_info = Gauge(
            "qualstream_build_info",
            "Always 1; the labels say the package version and the scoring model version.",
            ["version", "model_version"], registry=r)
        self.projection_lag = Gauge(
            "qualstream_projection_lag_seconds",
            "Wall time minus the event time (updated_at) of the last record the Redis "
            "projection applied.", registry=r)
