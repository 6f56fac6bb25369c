from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Access requests"

    def ready(self):
        # audit_app must not import requests_app (which imports it): it announces each
        # checkpoint, and the webhooks, which live here, subscribe.
        from audit_app.checkpoints import checkpoint_issued

        from .services.webhooks import checkpoint_webhooks_enqueue

        checkpoint_issued.connect(
            checkpoint_webhooks_enqueue, dispatch_uid="requests_app.checkpoint_webhooks"
        )
