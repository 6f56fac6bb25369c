"""`manage.py check --deploy`: production signs with a key it was given, not one it made."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def signing_key_configured(app_configs, **kwargs):
    if not settings.LOCKBOX_SIGNING_KEY_GENERATE:
        return []
    return [
        Warning(
            "LOCKBOX_SIGNING_KEY_FILE is not set: Lockbox signs with a key it generated under "
            "LOCKBOX_VAR_DIR, which each machine would make for itself and a rebuild would lose.",
            hint="Set LOCKBOX_SIGNING_KEY_FILE to an Ed25519 private key (PEM) kept as a secret.",
            id="lockbox.W001",
        )
    ]
