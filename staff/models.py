"""The staff user. Phone numbers double as logins for clerks; everything a user did stays
attributed to them, so users are deactivated, never deleted."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Gender(models.TextChoices):
        UNSPECIFIED = "", _("Unspecified")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def role_names(self) -> list[str]:
        return [group.name for group in self.groups.all()]

    def delete(self, *args, **kwargs):
        raise ValueError("Users are deactivated, never deleted.")
