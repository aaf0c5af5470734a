"""`manage.py runloops [--only NAME ...]`: run the per-second loops until SIGTERM (adnet.loops)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from adnet import loops
from adnet.core import heap

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the work due every few seconds (journal drain, attribution, ...) until stopped."

    def add_arguments(self, parser):
        names = [loop.name for loop in loops.registry()]
        parser.add_argument("--only", nargs="+", choices=names, help="run only these loops")

    def handle(self, *args, **options):
        chosen = [
            loop for loop in loops.registry() if not options["only"] or loop.name in options["only"]
        ]
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        # Long-lived, like the worker: what it imported stays out of full collections.
        heap.freeze_imports()
        threads = loops.start(chosen, stop)
        if not threads:
            raise CommandError("no loop has anything to do in this deployment")
        logger.info("loops running: %s", ", ".join(t.name for t in threads))
        while not stop.wait(1.0):  # wakes for the signal handler
            pass
        logger.info("loops stopping")
        for thread in threads:
            thread.join()
        logger.info("loops stopped")
