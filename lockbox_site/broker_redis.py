"""kombu's Redis transport, publishing through one Redis client per channel (issue 17).

kombu builds a new `redis.Redis` for every message it publishes (`Channel.conn_or_acquire`
without a client calls `_create_client`), and the client's constructor (its table of about 170
response callbacks) cost more CPU than sending the message: about a sixth of each outbox
publish after an approval's commit. The connection itself already came from the channel's pool
and stayed open; the client object around it did not. A `redis.Redis` holds no state of its
own besides its pool and may be shared, so the channel keeps one per pool: a new pool (after a
fork or a reconnect, when kombu drops the old one) gets a new client. Registered as the `redis`
transport when the Celery app loads, like broker_fs.py for `filesystem`.
"""

from contextlib import contextmanager

from kombu.transport import TRANSPORT_ALIASES, redis


class Channel(redis.Channel):
    _shared_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        pool = self.pool
        shared = self._shared_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._shared_client = self._create_client()
        yield shared


class Transport(redis.Transport):
    Channel = Channel


def register() -> None:
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
