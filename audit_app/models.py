from django.db import models
from django.utils import timezone

from tenants_app.models import Tenant


class RecordType(models.TextChoices):
    LOCKBOX = "Windows365CustomerLockbox"
    SETTINGS = "CustomerLockboxSettings"
    SIGN_IN = "LockboxSignIn"


class Operation(models.TextChoices):
    REQUEST_CREATED = "RequestCreated"
    REQUEST_INTERNALLY_APPROVED = "RequestInternallyApproved"
    REQUEST_INTERNALLY_DENIED = "RequestInternallyDenied"
    REQUEST_APPROVED = "RequestApproved"
    REQUEST_AUTO_APPROVED = "RequestAutoApproved"
    REQUEST_DENIED = "RequestDenied"
    REQUEST_CANCELLED = "RequestCancelled"
    REQUEST_EXPIRED = "RequestExpired"
    ACCESS_REVOKED = "AccessRevoked"
    ACCESS_EXPIRED = "AccessExpired"
    OPERATOR_ACTION = "OperatorAction"
    LOCKBOX_SETTING_CHANGED = "LockboxSettingChanged"
    RETENTION_POLICY_CREATED = "RetentionPolicyCreated"
    RETENTION_POLICY_UPDATED = "RetentionPolicyUpdated"
    RETENTION_POLICY_DELETED = "RetentionPolicyDeleted"
    RETENTION_APPLIED = "RetentionApplied"
    WEBHOOK_REGISTERED = "WebhookRegistered"
    WEBHOOK_DELETED = "WebhookDeleted"
    # SPEC 12: an endpoint's events changed or it was re-enabled; it answered 410 and was
    # disabled; a test event or a replayed delivery was sent on request.
    WEBHOOK_UPDATED = "WebhookUpdated"
    WEBHOOK_DISABLED = "WebhookDisabled"
    WEBHOOK_TESTED = "WebhookTested"
    WEBHOOK_DELIVERY_RETRIED = "WebhookDeliveryRetried"
    SIGN_IN_FAILED = "SignInFailed"
    SIGN_IN_UNLOCKED = "SignInUnlocked"
    ROLE_ASSIGNED = "RoleAssigned"
    ROLE_REMOVED = "RoleRemoved"
    TENANT_PLAN_CHANGED = "TenantPlanChanged"
    SIGN_IN_LOCKED_OUT = "SignInLockedOut"
    USER_DEACTIVATED = "UserDeactivated"
    USER_REACTIVATED = "UserReactivated"
    REQUEST_APPROVAL_ADDED = "RequestApprovalAdded"
    INFORMATION_REQUESTED = "InformationRequested"
    INFORMATION_PROVIDED = "InformationProvided"
    EMERGENCY_ACCESS_GRANTED = "EmergencyAccessGranted"
    EMERGENCY_ACCESS_REVIEWED = "EmergencyAccessReviewed"
    EMERGENCY_REVIEW_OVERDUE = "EmergencyReviewOverdue"
    MFA_ENROLLED = "MfaEnrolled"
    MFA_REMOVED = "MfaRemoved"
    MFA_VERIFICATION_FAILED = "MfaVerificationFailed"
    SINGLE_SIGN_ON_CHANGED = "SingleSignOnChanged"
    SIGNED_IN = "SignedIn"
    USER_PROVISIONED = "UserProvisioned"


# The exact names, as users' scripts and the SPEC spell them, for forms and filters.
RECORD_TYPE_CHOICES = [(value, value) for value in RecordType.values]
OPERATION_CHOICES = [(value, value) for value in Operation.values]


class ActorType(models.TextChoices):
    CUSTOMER = "customer"
    PROVIDER = "provider"
    SYSTEM = "system"


class Result(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"


class AuditRecord(models.Model):
    """Append-only. Written only by `audit_app.services.audit_record`; deleted only by retention."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_index=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField(help_text="Position in the tenant's hash chain")
    record_type = models.CharField(max_length=40, choices=RecordType.choices)
    operation = models.CharField(max_length=40, choices=Operation.choices)
    actor = models.CharField(max_length=200)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    object_type = models.CharField(max_length=40, blank=True)
    # A user's name can be 150 characters: room for it, and for any other object's id.
    object_id = models.CharField(max_length=200, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.SUCCESS)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Copied from details.request_id so "everything under one request" is an index scan.
    request_id = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "seq"], name="audit_unique_tenant_seq")
        ]
        indexes = [
            # Search: tenant + time range, newest first (selectors.audit_record_list).
            models.Index(fields=["tenant", "-created_at", "-id"], name="audit_tenant_time"),
            models.Index(
                fields=["tenant", "record_type", "-created_at", "-id"], name="audit_tenant_type"
            ),
            models.Index(fields=["tenant", "request_id"], name="audit_tenant_request"),
            models.Index(fields=["tenant", "object_id"], name="audit_tenant_object"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.operation} by {self.actor}"


class AuditChainHead(models.Model):
    """The newest link of a tenant's chain; its row lock serialises that tenant's appends."""

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"{self.tenant} @ {self.last_seq}"


class AuditPrunedRange(models.Model):
    """A run of a tenant's chain that retention deleted, so verification can step over it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    # When it was pruned: set by retention (not auto_now_add) because the signed statement
    # carries it as `pruned_at` and is made before the row is written.
    created_at = models.DateTimeField(default=timezone.now)
    # A signed statement of the range (SPEC 11), so nobody without the key can forge one to
    # hide a deletion. Blank for ranges pruned before ranges were signed.
    jws = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "first_seq"], name="audit_pruned_tenant_seq")]

    def __str__(self):
        return f"{self.tenant} {self.first_seq}..{self.last_seq}"


class AuditCheckpoint(models.Model):
    """A signed statement of a tenant's chain head at a moment (SPEC 11). The customer keeps
    copies (webhooks, downloads); a later log that does not extend it has been changed."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    previous = models.CharField(max_length=64, blank=True, help_text="sha256 of the previous JWS")
    jws = models.TextField()

    class Meta:
        ordering = ["-seq", "-id"]
        indexes = [models.Index(fields=["tenant", "-seq"], name="audit_checkpoint_tenant_seq")]

    def __str__(self):
        return f"{self.tenant} checkpoint @ {self.seq}"


class RetentionPolicy(models.Model):
    class Duration(models.TextChoices):
        P90D = "P90D", "90 days"
        P180D = "P180D", "180 days"
        P1Y = "P1Y", "1 year"
        P3Y = "P3Y", "3 years"
        P5Y = "P5Y", "5 years"
        P7Y = "P7Y", "7 years"
        P10Y = "P10Y", "10 years"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    record_types = models.JSONField(default=list, blank=True)
    operations = models.JSONField(default=list, blank=True)
    duration = models.CharField(max_length=5, choices=Duration.choices)
    priority = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retention policies"
        ordering = ["priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "priority"], name="retention_unique_priority"
            ),
            models.UniqueConstraint(fields=["tenant", "name"], name="retention_unique_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def days(self) -> int:
        return DURATION_DAYS[self.duration]


DURATION_DAYS = {
    "P90D": 90,
    "P180D": 180,
    "P1Y": 365,
    "P3Y": 1095,
    "P5Y": 1826,
    "P7Y": 2557,
    "P10Y": 3653,
}
