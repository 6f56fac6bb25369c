from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from lockbox_site.web import client_ip

from .services import sign_in_failure_record


@receiver(user_login_failed, dispatch_uid="lockbox_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django sends this from authenticate() for the web form and the API token endpoint alike.
    channel = "api" if request is not None and request.path.startswith("/api/") else "web"
    sign_in_failure_record(
        username=credentials.get("username"),
        client_ip=client_ip(request) if request is not None else None,
        channel=channel,
    )
