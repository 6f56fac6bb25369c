"""API tokens (SPEC section 8): issued one per sign-in, expiring, stored hashed, revocable.

django-rest-knox keeps only a SHA-512 digest of each token and its expiry; these functions are
the one place the application creates and deletes them.
"""

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from .models import TokenSecondFactor


@transaction.atomic
def token_issue(user, *, second_factor_at=None) -> tuple[AuthToken, str]:
    """A new token for a sign-in: (its row, the token itself, which is shown only now).

    The user's expired tokens are deleted here rather than on every authenticated request,
    so that reading with a token never writes. `second_factor_at`: when the sign-in's `otp`
    was verified; such a token may make the changes a tenant guards with step-up MFA.
    """
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    if second_factor_at is not None:
        TokenSecondFactor.objects.create(token=instance, verified_at=second_factor_at)
    return instance, token


def token_revoke(token: AuthToken) -> None:
    """Revoke the one token a client signed out with."""
    AuthToken.objects.filter(pk=token.pk).delete()


def user_tokens_revoke(user) -> int:
    """Revoke every token of a user (sign-out everywhere, password change, deactivation,
    loss of every role); returns how many there were."""
    deleted, _ = AuthToken.objects.filter(user_id=user.pk).delete()
    return deleted
