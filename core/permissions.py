"""API permissions that follow Django's model permissions exactly as admin does: an active staff
member holding (any of) the named permissions; a superuser holds them all. Being staff alone
opens nothing (docs/reliability.md, row 15)."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def staff_with(*any_of: str, read_only_for_all: bool = False) -> type[BasePermission]:
    """A permission class: the user is active, staff and has one of `any_of` ("app.codename").
    With `read_only_for_all`, GET/HEAD/OPTIONS are open to anyone."""

    class StaffWithPermission(BasePermission):
        message = f"You need the {' or '.join(any_of)} permission (as in admin)."
        reads_open_to_all = read_only_for_all  # the schema says so (core.schema)

        def has_permission(self, request, view) -> bool:
            if read_only_for_all and request.method in SAFE_METHODS:
                return True
            user = request.user
            if not (user and user.is_authenticated and user.is_active and user.is_staff):
                return False
            return any(user.has_perm(name) for name in any_of)

    StaffWithPermission.__name__ = f"StaffWith_{'_or_'.join(p.replace('.', '_') for p in any_of)}"
    return StaffWithPermission
