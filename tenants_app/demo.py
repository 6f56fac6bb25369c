"""The demo world of SPEC section 5."""

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
]
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
}
DEFAULT_PASSWORD = "lockbox-demo"
