"""kombu's filesystem transport with whole messages only: the embedded default's broker.

kombu (5.x) creates a message's file under its final name and then writes it; a worker
polling the folder can take the file in between, read it empty, and die of the JSON error
("Unrecoverable error: JSONDecodeError"), which `make soak` met within minutes. Here a
message is written under a name the reader skips and renamed into place once complete
(a rename is atomic within a filesystem), and a file that still cannot be decoded is
logged and skipped rather than fatal.
"""

import logging
import os
import time
import uuid

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # The reader takes only names ending in ".<queue>.msg".
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        while True:
            try:
                return super()._get(queue)
            except ValueError:  # taken from the folder already: skipping it drops it
                logger.error("undecodable message dropped from the filesystem broker")


class Transport(filesystem.Transport):
    Channel = Channel
