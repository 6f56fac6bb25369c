"""The provider's directory: a JSON file of users (password, name, groups) and clients.

Users and clients are loaded at start; groups and the test fault are read at each sign-in, so a
test (or you) can change someone's groups at the provider by editing the file.
"""

import json

from django.conf import settings


def read() -> dict:
    return json.loads(settings.DIRECTORY.read_text(encoding="utf-8"))


def load() -> None:
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    directory = read()
    for username, entry in directory["users"].items():
        user, _ = User.objects.get_or_create(username=username)
        user.email = username
        user.first_name = entry.get("name", "")
        user.is_active = entry.get("active", True)
        user.set_password(entry["password"])
        user.save()
    for client in directory["clients"]:
        Application.objects.filter(client_id=client["client_id"]).delete()
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(client["redirect_uris"]),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
