"""What happens to audit records and tokens when Django signs someone in or changes a user."""

from axes.helpers import get_failure_limit
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from lockbox_site.web import client_ip

from .models import User
from .services import sign_in_failure_record
from .tokens import user_tokens_revoke


@receiver(user_login_failed, dispatch_uid="lockbox_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django sends this from authenticate() for the web form and the API token endpoint alike.
    # django-axes' receiver (connected first: axes precedes tenants_app in INSTALLED_APPS) has
    # already counted this failure on the request.
    channel = "api" if request is not None and request.path.startswith("/api/") else "web"
    sign_in_failure_record(
        username=credentials.get("username"),
        client_ip=client_ip(request) if request is not None else None,
        channel=channel,
        failures=getattr(request, "axes_failures_since_start", None),
        limit=get_failure_limit(request, credentials),
    )


# Every way a password or the active flag changes (a view, the admin, `changepassword`, a
# script's set_password + save) ends in User.save(), so this is the one place that revokes
# the user's API tokens for it. (QuerySet.update() bypasses save(); the application never
# updates users that way.)
_CREDENTIAL_FIELDS = {"password", "is_active"}


@receiver(pre_save, sender=User, dispatch_uid="lockbox_user_credentials_changing")
def _note_credential_change(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._lockbox_revoke_tokens = False
    if raw or instance.pk is None:
        return
    if update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields):
        return  # e.g. last_login on every sign-in: no query
    old = sender.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    if old is None:
        return
    old_password, was_active = old
    deactivated = was_active and not instance.is_active
    password_changed = instance.password != old_password and not _hash_upgrade(
        instance, update_fields
    )
    instance._lockbox_revoke_tokens = deactivated or password_changed


def _hash_upgrade(instance, update_fields) -> bool:
    # check_password() re-hashes the same password in a newer format at sign-in and saves only
    # the password with `_password` cleared: the same secret, so the tokens stay valid.
    return (
        instance._password is None
        and update_fields is not None
        and set(update_fields) == {"password"}
        and is_password_usable(instance.password)
    )


@receiver(post_save, sender=User, dispatch_uid="lockbox_user_credentials_changed")
def _revoke_tokens_on_credential_change(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_lockbox_revoke_tokens", False):
        instance._lockbox_revoke_tokens = False
        user_tokens_revoke(instance)
