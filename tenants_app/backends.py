"""The sign-in backend: Django's ModelBackend, with the user loaded per request in one
precompiled statement together with its tenant and its groups (issue 17).

Every request of a signed-in user loads the user again (the session middleware calls
`get_user`), and every permission check then reads `user.tenant`: the join loads both at once,
and `lockbox_site.compiled` skips building the statement each time.
"""

from django.contrib.auth.backends import ModelBackend

from lockbox_site.compiled import Compiled
from lockbox_site.ids import as_id

from .models import User
from .roles import remember_groups, with_group_names

PATH = "tenants_app.backends.UserBackend"

_USER_WITH_TENANT = Compiled(
    lambda pk: with_group_names(User.objects.filter(pk=pk).select_related("tenant"))
)


def user_with_tenant(user_id) -> User | None:
    """The user with its tenant and its groups, in one statement."""
    pk = as_id(user_id)
    user = None if pk is None else _USER_WITH_TENANT.first(pk)
    if user is not None:
        remember_groups(user, user)
    return user


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_with_tenant(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
