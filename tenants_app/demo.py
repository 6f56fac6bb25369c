"""The demo world of SPEC section 5, with the additions of section 10 (appended, so the
earlier users keep the lower ids that tests and `make_request` pick first)."""

PROVIDER = {"slug": "provider-support", "name": "Provider Support", "kind": "provider"}
CUSTOMERS = [
    {
        "slug": "contoso",
        "name": "Contoso",
        "plan": "E5",
        "compliance_addon": False,
        "lockbox_enabled": True,
    },
    {
        "slug": "fabrikam",
        "name": "Fabrikam",
        "plan": "E3",
        "compliance_addon": False,
        "lockbox_enabled": False,
    },
    {
        "slug": "northwind",
        "name": "Northwind",
        "plan": "E3",
        "compliance_addon": True,
        "lockbox_enabled": False,
    },
    # SPEC 10: a tenant that asks two approvers and allows emergency access.
    {
        "slug": "tailspin",
        "name": "Tailspin",
        "plan": "E5",
        "compliance_addon": False,
        "lockbox_enabled": True,
        "required_approvals": 2,
        "allow_emergency_access": True,
    },
    # SPEC 14: signs in through the demo OpenID Connect provider (python -m demo_idp).
    {
        "slug": "woodgrove",
        "name": "Woodgrove",
        "plan": "E5",
        "compliance_addon": False,
        "lockbox_enabled": True,
    },
]
# Woodgrove's provider, as demo_idp/directory.json registers Lockbox there. Its users have no
# password here: alex@woodgrove.example is made at its first sign-in, Global Administrator by
# its `lockbox-admins` group.
WOODGROVE_SSO = {
    "issuer": "http://127.0.0.1:8100/o",
    "client_id": "lockbox-woodgrove",
    "client_secret": "woodgrove-demo-secret",
    "groups_claim": "groups",
    "role_mapping": {
        "lockbox-admins": "Global Administrator",
        "lockbox-approvers": "Customer Lockbox Access Approver",
        "lockbox-auditors": "Audit Reader",
    },
    "domains": ["woodgrove.example"],
}
USERS = [
    ("engineer@provider.example", "provider-support", "Support Engineer", "Eli", "Engineer"),
    ("manager@provider.example", "provider-support", "Support Manager", "Maya", "Manager"),
    ("admin@contoso.example", "contoso", "Global Administrator", "Ada", "Admin"),
    (
        "approver@contoso.example",
        "contoso",
        "Customer Lockbox Access Approver",
        "Avery",
        "Approver",
    ),
    ("auditor@contoso.example", "contoso", "Audit Reader", "Aude", "Auditor"),
    ("admin@fabrikam.example", "fabrikam", "Global Administrator", "Fay", "Admin"),
    ("admin@northwind.example", "northwind", "Global Administrator", "Nico", "Admin"),
    (
        "approver2@contoso.example",
        "contoso",
        "Customer Lockbox Access Approver",
        "Blake",
        "Approver",
    ),
    ("admin@tailspin.example", "tailspin", "Global Administrator", "Tess", "Admin"),
    (
        "approver@tailspin.example",
        "tailspin",
        "Customer Lockbox Access Approver",
        "Tao",
        "Approver",
    ),
]
CLOUD_PCS = {
    "contoso": [
        ("CPC-CON-001", "alex.wilber@contoso.example", "westeurope"),
        ("CPC-CON-002", "megan.bowen@contoso.example", "westeurope"),
        ("CPC-CON-003", "lee.gu@contoso.example", "eastus"),
        ("CPC-CON-004", "", "eastus"),
    ],
    "fabrikam": [("CPC-FAB-001", "jo.brown@fabrikam.example", "northeurope")],
    "northwind": [
        ("CPC-NW-001", "pat.lee@northwind.example", "westus2"),
        ("CPC-NW-002", "sam.ray@northwind.example", "westus2"),
    ],
    "tailspin": [
        ("CPC-TSP-001", "kim.ortiz@tailspin.example", "centralus"),
        ("CPC-TSP-002", "dev.rao@tailspin.example", "centralus"),
    ],
}
DEFAULT_PASSWORD = "lockbox-demo"
