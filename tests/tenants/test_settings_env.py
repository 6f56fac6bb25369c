"""Configuration from the environment, and the refusal to start without a secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from lockbox_site.env import env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parents[2]


def _start(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="lockbox_site.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = _start({"DEBUG": "false", "LOCKBOX_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_starts_with_a_secret_key_or_in_debug(tmp_path):
    assert (
        _start(
            {"DEBUG": "false", "SECRET_KEY": "x" * 50, "LOCKBOX_VAR_DIR": str(tmp_path)}
        ).stdout.strip()
        == "started"
    )
    assert _start({"DEBUG": "true", "LOCKBOX_VAR_DIR": str(tmp_path)}).stdout.strip() == "started"
    assert (tmp_path / "dev-secret-key").exists()


def test_a_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env_str("SOME_SECRET") == "from-a-file"


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("Yes", True), ("0", False), ("off", False)]
)
def test_booleans_accept_only_true_and_false_words(monkeypatch, raw, value):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG") is value


def test_a_bad_boolean_or_number_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG")
    monkeypatch.setenv("TTL", "soon")
    with pytest.raises(ImproperlyConfigured, match="TTL must be a whole number"):
        env_int("TTL", 5)
    monkeypatch.setenv("TTL", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("TTL", 5, minimum=1)


def _configured(env_overrides, expression):
    unset = ("SECRET_KEY", "DEBUG", "CACHE_URL", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides, DEBUG="true", DJANGO_SETTINGS_MODULE="lockbox_site.settings")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print({expression})",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("cache_url", "backend", "location"),
    [
        ("", "django.core.cache.backends.filebased.FileBasedCache", "{var}/cache"),
        (
            "file://{var}/shared",
            "django.core.cache.backends.filebased.FileBasedCache",
            "{var}/shared",
        ),
        (
            "redis://10.1.2.3:6379/1",
            "django.core.cache.backends.redis.RedisCache",
            "redis://10.1.2.3:6379/1",
        ),
        (
            "rediss://cache.example:6380/0",
            "django.core.cache.backends.redis.RedisCache",
            "rediss://cache.example:6380/0",
        ),
    ],
)
def test_the_cache_is_one_every_process_shares(tmp_path, cache_url, backend, location):
    # Throttle counts live in the cache: a per-process cache (locmem) would multiply the limit
    # by the number of processes, whatever the database.
    for database in ("", "postgres://u@db.example:5432/lockbox"):
        env = {"LOCKBOX_VAR_DIR": str(tmp_path)}
        if database:
            env["DATABASE_URL"] = database
        if cache_url:
            env["CACHE_URL"] = cache_url.format(var=tmp_path)
        result = _configured(
            env, "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [backend, location.format(var=tmp_path)]


def test_an_unknown_cache_url_is_a_clear_error(tmp_path):
    result = _configured({"LOCKBOX_VAR_DIR": str(tmp_path), "CACHE_URL": "memcached://x"}, "1")
    assert result.returncode != 0
    assert "CACHE_URL must be redis://" in result.stderr


def test_a_trusted_proxy_that_is_not_an_address_is_a_clear_error(tmp_path):
    result = _configured(
        {"LOCKBOX_VAR_DIR": str(tmp_path), "LOCKBOX_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"},
        "settings.LOCKBOX_TRUSTED_PROXIES",
    )
    assert result.returncode != 0
    assert "LOCKBOX_TRUSTED_PROXIES: 'proxy.local' is not an IP address or network" in result.stderr
    ok = _configured(
        {"LOCKBOX_VAR_DIR": str(tmp_path), "LOCKBOX_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::1"},
        "settings.LOCKBOX_TRUSTED_PROXIES",
    )
    assert ok.stdout.strip() == "['10.0.0.0/8', '2001:db8::1']", ok.stderr
