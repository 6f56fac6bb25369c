"""A small OpenID Connect provider for the demo and the tests (SPEC 14), built on
django-oauth-toolkit: its own Django project, users, RS256 key and SQLite file. Not part of
Lockbox: Lockbox talks to it over HTTP only, as it would to Entra ID, Okta or Keycloak.

Run it with `python -m demo_idp` (see __main__.py); `make run` starts it beside the app.
"""
