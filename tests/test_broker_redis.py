"""The Redis broker (production's): a channel publishes through one client and one connection,
not a new client per message (lockbox_site/broker_redis.py)."""

import os
import uuid
from unittest import mock

import pytest
from kombu import Connection, Exchange, Producer, Queue

from lockbox_site import broker_redis
from lockbox_site.celery import app
from tests.conftest import require_service


@pytest.fixture
def redis_url():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("the Redis broker is tested where CELERY_BROKER_URL is Redis")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        require_service(False, f"Redis at {url}")
    return url


def test_the_celery_app_publishes_through_this_transport(redis_url):
    with app.connection_for_write() as connection:
        assert isinstance(connection.default_channel, broker_redis.Channel)


def test_a_channel_publishes_every_message_through_one_client_and_connection(redis_url):
    name = f"test-broker-{uuid.uuid4()}"  # a queue of its own: nothing else reads it
    queue = Queue(name, Exchange(name), routing_key=name)
    with Connection(redis_url) as connection:
        channel = connection.channel()
        try:
            producer = Producer(channel)
            with mock.patch.object(
                channel, "_create_client", wraps=channel._create_client
            ) as created:
                for n in range(5):
                    producer.publish(
                        {"n": n}, exchange=queue.exchange, routing_key=name, declare=[queue]
                    )
                assert created.call_count == 1
                assert channel.pool._created_connections == 1
                # A new pool (kombu drops it after a fork) gets a client of its own.
                channel._disconnect_pools()
                producer.publish({"n": 5}, exchange=queue.exchange, routing_key=name)
                assert created.call_count == 2
            # Every message arrived, in order.
            bodies = []
            while (message := queue(channel).get(no_ack=True)) is not None:
                bodies.append(message.payload)
            assert bodies == [{"n": n} for n in range(6)]
        finally:
            queue(channel).delete()
            channel.close()
