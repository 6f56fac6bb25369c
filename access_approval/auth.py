from tenants_app.authentication import TokenAuthentication

from .errors import REALM


class BearerAuthentication(TokenAuthentication):
    """The API's own tokens, as `Bearer <t>` (what google-auth sends) or `Token <t>`; a 401
    names the Bearer scheme, so the client knows how to answer it."""

    def authenticate_header(self, request):
        return REALM
