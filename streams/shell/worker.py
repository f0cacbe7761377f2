"""The worker process: create the topics, build the pipeline and run it until stopped."""

from __future__ import annotations

import asyncio
import logging

from streams.config import Settings
from streams.core.model import ScoringModel, parse_model

log = logging.getLogger("qualstream.worker")


def load_model(settings: Settings) -> ScoringModel:
    """Read the scoring model named by ``QUALSTREAM_MODEL`` (the default ships in the package)."""
    return parse_model(settings.model_path.read_text(encoding="utf-8"))


async def ensure_topics(settings: Settings) -> None:
    """Create every public topic (inputs and outputs) the worker reads or writes."""
    from streams.devstack import create_topics
    from streams.security import kafka_client_kwargs

    t = settings.topics
    names = [*t.contact_sources(), *t.account_sources(), t.reps, t.activity,
             t.qualification_events, t.qualification_contacts, t.qualification_accounts,
             t.assignments, t.sla_events, t.dlq]
    compacted = [t.crm_contacts, t.crm_accounts, t.reps, t.qualification_contacts,
                 t.qualification_accounts]
    await create_topics(settings.kafka_bootstrap_servers, names, settings.partitions,
                        compacted=compacted,
                        security=kafka_client_kwargs(settings.kafka_security))


def run_worker(settings: Settings) -> None:
    """Run one worker in the foreground (Faust handles SIGTERM/SIGINT for a clean stop)."""
    from faust import Worker

    from streams.shell.app import build_pipeline

    model = load_model(settings)
    asyncio.run(ensure_topics(settings))
    pipeline = build_pipeline(settings, model)
    log.info("model %s; metrics on http://%s:%s/metrics", model.version, settings.web_host,
             settings.web_port)
    worker = Worker(pipeline.app, loglevel=settings.log_level, quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG whenever the level is WARNING or
    # above, so every debug call of aiokafka and Faust built a log record (about 6% of a busy
    # worker's CPU in a profile). A worker is a service, not a terminal: no spinner.
    worker.spinner = None
    worker.execute_from_commandline()
