"""`/api/v1/users/`: a Global Administrator's view of their tenant's users, roles and lockouts."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from lockbox_site.api_docs import ERRORS, STATE_ERRORS
from lockbox_site.web import client_ip

from .lockouts import locked_out_usernames
from .models import User
from .role_services import user_roles_set, user_unlock
from .roles import ALL_GROUPS
from .selectors import tenant_users


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    locked_out = serializers.SerializerMethodField()

    def get_display_name(self, user) -> str:
        return user.get_full_name() or user.username

    def get_roles(self, user) -> list[str]:
        return sorted(group.name for group in user.groups.all())

    def get_locked_out(self, user) -> bool:
        return user.username in self.context["locked_out"]


class UserRolesInput(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_GROUPS),
        max_length=len(ALL_GROUPS),
        help_text="The user's whole set of roles (an empty list removes every role).",
    )


@extend_schema_view(
    list=extend_schema(responses={200: UserSerializer(many=True), 403: ERRORS[403]}),
    retrieve=extend_schema(responses={200: UserSerializer, **ERRORS}),
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The users of the caller's tenant; for its Global Administrators only."""

    serializer_class = UserSerializer
    queryset = User.objects.none()  # the model, for the schema; get_queryset is the real one

    def get_queryset(self):
        return tenant_users(self.request.user)

    def _data(self, users, many=False):
        users = list(users) if many else [users]
        context = {"locked_out": locked_out_usernames(user.username for user in users)}
        data = UserSerializer(users, many=True, context=context).data
        return data if many else data[0]

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self._data(page, many=True))

    def retrieve(self, request, pk=None):
        return Response(self._data(self.get_object()))

    def _fresh(self, user):
        # Not through get_queryset: an administrator who just gave up their own role may no
        # longer list users, but still gets the result of the change they made.
        return self._data(User.objects.prefetch_related("groups").get(pk=user.pk))

    @extend_schema(request=UserRolesInput, responses={200: UserSerializer, **STATE_ERRORS})
    @action(detail=True, methods=["put"])
    def roles(self, request, pk=None):
        data = UserRolesInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_roles_set(
            actor=request.user,
            user_id=pk,
            roles=data.validated_data["roles"],
            client_ip=client_ip(request),
        )
        return Response(self._fresh(user))

    @extend_schema(request=None, responses={200: UserSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        user = user_unlock(actor=request.user, user_id=pk, client_ip=client_ip(request))
        return Response(self._fresh(user))
