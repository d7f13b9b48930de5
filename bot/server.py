"""Serve the Starlette app with uvicorn, after bringing the database schema up to date."""

from __future__ import annotations

import gc
import logging

import uvicorn

from bot import logsetup
from bot.app import create_app
from bot.config import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings, *, migrate: bool = True, verbose: bool = False) -> int:
    """Run the bot until interrupted; return the process exit code."""
    # Before the migrations: their tool's lines take the format too (and its start-up chatter goes).
    logsetup.configure(settings.log, verbose=verbose)
    if migrate:
        from storage.migrate import upgrade

        try:
            upgrade(settings.database.url)
        except Exception as exc:
            log.debug("migration failed", exc_info=True)
            log.error("Cannot prepare the database (%s): %s", settings.database.url.split("@")[-1], exc)
            return 1
    app = create_app(settings)
    # Everything loaded so far (libraries, settings, the lexicon) lives as long as the process: keep
    # it out of the cyclic garbage collector, whose full passes over ~100 MB of such objects were
    # the webhook's slowest answers (tens of milliseconds each; docs/BENCHMARKS.md).
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level="debug" if verbose else settings.log.level.lower(),
        # uvicorn installs no handlers of its own: its lines go through logsetup's, in the same format.
        log_config=None,
        access_log=settings.server.access_log,
        # Behind a reverse proxy, trust its X-Forwarded-* headers only from loopback.
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0
