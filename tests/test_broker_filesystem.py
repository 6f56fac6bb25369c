"""The broker that needs no server (`filesystem://`, make run's default): a message is never
read half-written."""

import json
import os

from kombu import Connection

from lockbox_site import broker_fs


def test_a_message_appears_in_the_queue_only_whole(tmp_path, monkeypatch):
    queue_dir = tmp_path / "queue"
    queue_dir.mkdir()
    seen_while_writing = []
    real_write = os.write

    def spying_write(fd, data):
        # What a consumer listing the folder would find at this moment.
        seen_while_writing.append(sorted(p.name for p in queue_dir.iterdir()))
        return real_write(fd, data)

    monkeypatch.setattr(broker_fs.os, "write", spying_write)
    options = {"data_folder_in": str(queue_dir), "data_folder_out": str(queue_dir)}
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        channel._put("celery", {"body": "x" * 100_000})
        [name] = os.listdir(queue_dir)
        assert name.endswith(".celery.msg")
        assert json.loads((queue_dir / name).read_text())["body"] == "x" * 100_000
        # While the bytes were being written no file named like a message existed.
        assert seen_while_writing
        assert all(not any(n.endswith(".msg") for n in names) for names in seen_while_writing)
        assert channel._get("celery") == {"body": "x" * 100_000}
