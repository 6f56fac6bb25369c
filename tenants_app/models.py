from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from lockbox_site.model_loading import LoadedPlainly

from . import policy

LOCKBOX_PLANS = {"E5"}


class Tenant(LoadedPlainly):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        PROVIDER = "provider", "Provider"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    plan = models.CharField(max_length=60, blank=True, help_text="E5, E3, Business Premium, …")
    compliance_addon = models.BooleanField(default=False)
    lockbox_enabled = models.BooleanField(
        "Require approval for all data access requests", default=False
    )
    lockbox_updated_at = models.DateTimeField(null=True, blank=True)
    lockbox_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The Lockbox policy (SPEC 9). Stored explicitly, defaults taken when the row is made, so a
    # tenant's effective policy changes only through its audited service, never because the
    # deployment's environment changed. Written only by tenants_app.services.
    required_approvals = models.PositiveSmallIntegerField(
        policy.LABELS["required_approvals"], default=1
    )
    pending_ttl_hours = models.PositiveSmallIntegerField(
        policy.LABELS["pending_ttl_hours"], default=policy.default_pending_ttl_hours
    )
    max_access_minutes = models.PositiveSmallIntegerField(
        policy.LABELS["max_access_minutes"], default=policy.default_max_access_minutes
    )
    require_decision_comment = models.BooleanField(
        policy.LABELS["require_decision_comment"], default=False
    )
    allow_emergency_access = models.BooleanField(
        policy.LABELS["allow_emergency_access"], default=False
    )
    notification_emails = models.JSONField(
        policy.LABELS["notification_emails"], default=list, blank=True
    )
    # SPEC 14: decisions and every settings or role change need a fresh second factor.
    require_mfa_for_decisions = models.BooleanField(
        policy.LABELS["require_mfa_for_decisions"], default=False
    )
    # Signed-in users of this tenant are signed out after this long without a request
    # (lockbox_site.sessions.IdleTimeoutMiddleware); 60 minutes unless the tenant says otherwise.
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        "Sign out after inactivity (minutes)",
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(required_approvals__gte=policy.APPROVALS[0])
                & Q(required_approvals__lte=policy.APPROVALS[1]),
                name="tenant_required_approvals_range",
            ),
            models.CheckConstraint(
                condition=Q(pending_ttl_hours__gte=policy.PENDING_TTL_HOURS[0])
                & Q(pending_ttl_hours__lte=policy.PENDING_TTL_HOURS[1]),
                name="tenant_pending_ttl_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(max_access_minutes__gte=policy.ACCESS_MINUTES[0])
                & Q(max_access_minutes__lte=policy.ACCESS_MINUTES[1]),
                name="tenant_max_access_minutes_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    @property
    def lockbox_available(self) -> bool:
        """Customer Lockbox comes with E5, or with the compliance add-on on other plans."""
        return self.is_customer and (self.plan in LOCKBOX_PLANS or self.compliance_addon)


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        """Sign-in (web and API) finds "Admin@Contoso.example" as admin@contoso.example; an
        exact match wins should two names ever differ only in case."""
        try:
            return self.get(**{self.model.USERNAME_FIELD: username})
        except self.model.DoesNotExist:
            return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser, LoadedPlainly):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="users")

    objects = CaseInsensitiveUserManager()

    REQUIRED_FIELDS = ["email", "tenant"]

    def __str__(self):
        return self.username


class CloudPC(LoadedPlainly):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        RESTARTING = "restarting", "Restarting"
        STOPPED = "stopped", "Stopped"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="cloud_pcs")
    name = models.CharField(max_length=100)
    assigned_user = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=60)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    diagnostics = models.JSONField(default=dict, blank=True)
    last_restarted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Cloud PC"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="cloudpc_unique_name")
        ]

    def __str__(self):
        return self.name


class TokenSecondFactor(models.Model):
    """An API token obtained with `otp` at sign-in (SPEC 14): where a tenant requires MFA for
    decisions, only such a token may decide. Deleted with its token."""

    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    verified_at = models.DateTimeField()

    def __str__(self):
        return f"second factor of token {self.token_id[:8]}…"


class IdentityProvider(models.Model):
    """A customer tenant's OpenID Connect provider (SPEC 14), at most one per tenant.

    Written only by tenants_app.sso_services. `client_secret` is write-only: no page, API or
    audit record shows it back.
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="identity_provider"
    )
    enabled = models.BooleanField(default=True)
    issuer = models.URLField("Issuer URL", max_length=500)
    client_id = models.CharField("Client ID", max_length=255)
    client_secret = models.CharField("Client secret", max_length=500)
    groups_claim = models.CharField("Groups claim", max_length=100, default="groups")
    # The provider's group name -> one of the tenant's roles (tenants_app.roles).
    role_mapping = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.tenant} via {self.issuer}"


class IdentityProviderDomain(models.Model):
    """An e-mail domain whose users sign in through its tenant's provider; unique across
    tenants, so one address always finds one tenant."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self):
        return self.domain
