"""Google Cloud Access Approval API v1 over REST, at `/v1/` (SPEC 13, INTEROP-GOOGLE.md).

A second surface over the same services as `/api/v1/`: it translates names, JSON and errors,
and never changes a request itself.
"""
