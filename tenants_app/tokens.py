"""API tokens (SPEC section 8): issued one per sign-in, expiring, stored hashed, revocable.

django-rest-knox keeps only a SHA-512 digest of each token and its expiry; these functions are
the one place the application creates and deletes them.
"""

from django.utils import timezone
from knox.models import AuthToken


def token_issue(user) -> tuple[AuthToken, str]:
    """A new token for a sign-in: (its row, the token itself, which is shown only now).

    The user's expired tokens are deleted here rather than on every authenticated request,
    so that reading with a token never writes.
    """
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def token_revoke(token: AuthToken) -> None:
    """Revoke the one token a client signed out with."""
    AuthToken.objects.filter(pk=token.pk).delete()


def user_tokens_revoke(user) -> int:
    """Revoke every token of a user (sign-out everywhere, password change, deactivation,
    loss of every role); returns how many there were."""
    deleted, _ = AuthToken.objects.filter(user_id=user.pk).delete()
    return deleted
