"""The embedded default's broker (adnet.fsbroker): a worker never takes a message half written."""

import threading
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from adnet import fsbroker

# Large messages: writing each takes long enough for a polling reader to find it midway.
MESSAGES = 200


@pytest.fixture
def channel(tmp_path):
    (tmp_path / "processed").mkdir()
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "processed_folder": str(tmp_path / "processed"),
        "store_processed": False,
        "control_folder": str(tmp_path / "control"),
    }
    with Connection(
        "filesystem://", transport=fsbroker.Transport, transport_options=options
    ) as conn:
        yield conn.channel()


def test_a_reader_polling_while_messages_are_written_gets_each_whole(channel):
    payload = {"body": "x" * 1_000_000}
    written = threading.Event()

    def write():
        for n in range(MESSAGES):
            channel._put("celery", {**payload, "n": n})
        written.set()

    writer = threading.Thread(target=write)
    writer.start()
    got = []
    try:
        while not (written.is_set() and len(got) == MESSAGES):
            try:
                got.append(channel._get("celery")["n"])
            except Empty:
                if written.is_set():
                    break
    finally:
        writer.join()
    assert sorted(got) == list(range(MESSAGES))


def test_an_undecodable_file_is_skipped_not_fatal(channel, tmp_path, caplog):
    (tmp_path / "0_bad.celery.msg").write_bytes(b"")
    channel._put("celery", {"n": 1})
    assert channel._get("celery") == {"n": 1}
    assert "undecodable message dropped" in caplog.text
    with pytest.raises(Empty):
        channel._get("celery")


def test_a_message_that_cannot_be_written_is_a_channel_error(channel, tmp_path):
    channel.data_folder_out = str(tmp_path / "missing")
    with pytest.raises(ChannelError):
        channel._put("celery", {"n": 1})
