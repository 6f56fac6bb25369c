"""lockbox-verify: check a Lockbox audit export or evidence bundle without trusting Lockbox.

Depends on `cryptography` only; see README.md for the customer's steps.
"""

__version__ = "1.0.0"
