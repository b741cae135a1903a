"""Writes for staff: accounts and their roles."""

from django.contrib.auth.models import Group
from django.db import transaction

from core.services import audit_record
from staff.models import User
from staff.roles import ROLE_PERMISSIONS


@transaction.atomic
def staff_user_create(*, actor, username: str, password: str | None, role: str, **fields) -> User:
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}.")
    user = User(username=username, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=role))
    audit_record(actor=actor, action="staff.create", obj=user, changes={"role": role})
    return user


def user_password_changed(*, user: User) -> None:
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
    audit_record(actor=user, action="staff.password_change", obj=user)
