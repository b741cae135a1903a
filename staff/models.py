"""The staff user. Phone numbers double as logins for clerks; everything a user did stays
attributed to them, so users are deactivated, never deleted."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scoping import RestrictedManager


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

    @property
    def role_labels(self) -> list[str]:
        """The roles in the reader's language (role_names are the groups' codes)."""
        from staff.roles import ROLE_LABELS

        return [str(ROLE_LABELS.get(name, name)) for name in self.role_names]

    def delete(self, *args, **kwargs):
        raise ValueError("Users are deactivated, never deleted.")


MONEY = {"max_digits": 12, "decimal_places": 2}

# What a till can take, by kind (seed 004): each clerk may be allowed some of them.
COLLECT_KINDS = ("cash", "card", "qr", "wallet", "points")


def all_collect_kinds() -> list[str]:
    return list(COLLECT_KINDS)


class StaffProfile(models.Model):
    """What a store employee may do beyond their role: the permission switches and refund limits
    a store owner sets when adding a clerk, and the stores they work in."""

    class Reports(models.TextChoices):
        NONE = "none", _("None")
        OWN = "own", _("Their own")
        STORE = "store", _("The whole store")

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="profile", verbose_name=_("user"))
    sites = models.ManyToManyField("core.Site", related_name="staff_profiles", verbose_name=_("stores"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="staff/photos/", blank=True)
    can_collect = models.BooleanField(_("collect payments"), default=True)
    collect_methods = models.JSONField(
        _("methods they may collect"),
        default=all_collect_kinds,
        blank=True,
        help_text=_("Any of cash, card, qr, wallet, points."),
    )
    collect_limit = models.DecimalField(
        _("maximum per collection"),
        null=True,
        blank=True,
        help_text=_("A larger collection is refused. Empty means no limit."),
        **MONEY,
    )
    collect_daily_limit = models.DecimalField(
        _("maximum collected per day"),
        null=True,
        blank=True,
        help_text=_("Collections beyond this total in a day are refused. Empty means no limit."),
        **MONEY,
    )
    can_sell_services = models.BooleanField(
        _("sell free-text lines"),
        default=True,
        help_text=_("Services and other items that are not in the catalog, with a price typed in."),
    )
    can_refund = models.BooleanField(_("refund"), default=False)
    refund_limit = models.DecimalField(
        _("maximum per refund"),
        null=True,
        blank=True,
        help_text=_("Refunds above this need approval. Empty means no limit."),
        **MONEY,
    )
    refund_daily_limit = models.DecimalField(
        _("maximum refunds per day"),
        null=True,
        blank=True,
        help_text=_("Refunds beyond this total in a day need approval. Empty means no limit."),
        **MONEY,
    )
    reports = models.CharField(_("view reports"), max_length=10, choices=Reports.choices, default=Reports.OWN)
    can_manage_members = models.BooleanField(_("manage members"), default=False)
    can_change_settings = models.BooleanField(_("change settings"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )

    scope_region_path = "sites__region__path"
    scope_site = "sites"
    scope_distinct = True
    objects = RestrictedManager()

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        permissions = [
            ("use_cashier", _("Can use the cashier console")),
            ("view_performance", _("Can view clerk performance")),
            ("manage_grants", _("Can give staff regions and stores")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_limit__isnull=True) | Q(refund_limit__gte=0), name="staff_refund_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(refund_daily_limit__isnull=True) | Q(refund_daily_limit__gte=0),
                name="staff_refund_daily_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(collect_limit__isnull=True) | Q(collect_limit__gte=0),
                name="staff_collect_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(collect_daily_limit__isnull=True) | Q(collect_daily_limit__gte=0),
                name="staff_collect_daily_limit_not_negative",
            ),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class Shift(models.Model):
    """A clerk's time at a till: opened with a cash float, closed with a counted amount."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="shifts", verbose_name=_("store"))
    clerk = models.ForeignKey(User, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("clerk"))
    opened_at = models.DateTimeField(pgettext_lazy("shift", "opened"), default=timezone.now)
    opening_float = models.DecimalField(_("cash float"), **MONEY)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("closed by")
    )
    expected_amount = models.DecimalField(_("expected cash"), null=True, blank=True, **MONEY)
    counted_amount = models.DecimalField(_("counted cash"), null=True, blank=True, **MONEY)
    variance = models.DecimalField(_("variance"), null=True, blank=True, **MONEY)
    note = models.CharField(_("note"), max_length=255, blank=True)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.UniqueConstraint(
                fields=["clerk"], condition=Q(closed_at__isnull=True), name="shift_one_open_per_clerk"
            ),
            models.CheckConstraint(condition=Q(opening_float__gte=0), name="shift_float_not_negative"),
        ]

    def __str__(self):
        return f"{self.clerk} @ {self.site} {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RefundApproval(models.Model):
    """A refund above the requester's limits, waiting for a store manager (or, above the
    manager's own limit, a regional administrator). No money moves until it is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Level(models.TextChoices):
        MANAGER = "manager", _("Store manager")
        REGIONAL = "regional", _("Regional administrator")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="refund_approvals", verbose_name=_("order")
    )
    payment = models.ForeignKey(
        "orders.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("payment")
    )
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    site = models.ForeignKey(
        "core.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=255)
    level = models.CharField(_("approver"), max_length=10, choices=Level.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="refund_requests", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=255, blank=True)
    refund = models.OneToOneField(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval",
        verbose_name=_("refund"),
    )

    scope_region_path = "region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("refund approval")
        verbose_name_plural = _("refund approvals")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_approval_amount_positive")]

    def __str__(self):
        return f"{self.order} −{self.amount} ({self.get_status_display()})"


class AnomalyRule(models.Model):
    """A threshold per region; rules on a region apply to its descendants unless they set their own."""

    class Kind(models.TextChoices):
        LARGE_AMOUNT = "large_amount", _("A single amount over")
        REFUNDS_PER_HOUR = "refunds_per_hour", _("More refunds in an hour than")
        REFUND_RATIO = "refund_ratio", _("Refund ratio of the day over (%)")
        OUTSIDE_HOURS = "outside_hours", _("Activity outside opening hours")
        SHIFT_VARIANCE = "shift_variance", _("Shift variance over")

    region = models.ForeignKey(
        "core.Region", on_delete=models.PROTECT, related_name="anomaly_rules", verbose_name=_("region")
    )
    kind = models.CharField(_("rule"), max_length=20, choices=Kind.choices)
    threshold = models.DecimalField(
        _("threshold"), default=0, help_text=_("Not used for activity outside opening hours."), **MONEY
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "region__path"
    scope_store_sees_region = True  # a store grant reads it (docs/adr/0035)
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["region__path", "kind"]
        verbose_name = _("anomaly rule")
        verbose_name_plural = _("anomaly rules")
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="anomaly_rule_one_per_region_kind"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="anomaly_threshold_not_negative"),
        ]

    def __str__(self):
        return f"{self.region}: {self.get_kind_display()} {self.threshold}"


class StaffAlert(models.Model):
    """An anomaly raised against a clerk's activity, with the evidence a manager needs."""

    rule = models.ForeignKey(AnomalyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(_("rule"), max_length=20, choices=AnomalyRule.Kind.choices)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    site = models.ForeignKey(
        "core.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    clerk = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="staff_alerts", verbose_name=_("clerk")
    )
    message = models.CharField(_("message"), max_length=255)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("acknowledged by")
    )

    scope_region_path = "region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("staff alert")
        verbose_name_plural = _("staff alerts")

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        """The alert in the reader's language (alerts are raised by the worker, in no one's)."""
        stored = (self.evidence or {}).get(MESSAGE_KEY)
        if not isinstance(stored, dict) or not stored.get("text"):
            return self.message
        try:
            return alert_text(stored["text"], stored.get("params") or {})
        except (KeyError, TypeError, ValueError):
            return self.message

    @property
    def evidence_items(self) -> list[tuple[str, object]]:
        """The evidence without the stored sentence, for the alert list."""
        return [(key, value) for key, value in (self.evidence or {}).items() if key != MESSAGE_KEY]


# Where an alert keeps its untranslated sentence and the values for it, inside `evidence`.
MESSAGE_KEY = "_message"


def alert_text(text: str, params: dict) -> str:
    """`text` translated into the active language with `params` filled in; `what` is a code
    ("payment" or "refund") so that it is translated too."""
    from django.utils.translation import gettext

    what = {"payment": gettext("Collection"), "refund": gettext("Refund")}
    params = {**params}
    if "what" in params:
        params["what"] = what.get(params["what"], params["what"])
    return gettext(text) % params


class OtpEnrolment(models.Model):
    """A one-time permission to set up a user's first two-factor device, sent to the user's own
    email or phone (or issued by a platform administrator), so a password alone cannot enrol one.
    Only the token's hash is stored; it works once, before it expires, for that user only."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="otp_enrolments", verbose_name=_("user"))
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("two-factor enrolment")
        verbose_name_plural = _("two-factor enrolments")

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


# --- Training, evaluations, ratings, rewards and penalties (seed 004; ADR 15) ------------------
SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class _OfProfile(models.Model):
    """Scoped through the clerk's stores, like the profile itself."""

    scope_region_path = "profile__sites__region__path"
    scope_site = "profile__sites"
    scope_distinct = True
    objects = RestrictedManager()

    class Meta:
        abstract = True


class TrainingRecord(_OfProfile):
    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        ATTENDED = "attended", _("Attended")

    profile = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("clerk")
    )
    date = models.DateField(_("date"))
    content = models.CharField(_("content"), max_length=300)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")

    def __str__(self):
        return f"{self.date} {self.content}"


class Evaluation(_OfProfile):
    """A manager's periodic evaluation of a clerk; colleagues add their ratings to it."""

    profile = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("clerk")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    score = models.PositiveSmallIntegerField(_("manager's score"), validators=SCORE_VALIDATORS)
    comment = models.TextField(_("comment"), blank=True)
    evaluated_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("evaluated by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-pk"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="staff_evaluation_period"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="staff_evaluation_score_1_5"),
        ]

    def __str__(self):
        return f"{self.profile} {self.period_start} – {self.period_end}"


class PeerRating(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="peer_ratings", verbose_name=_("evaluation")
    )
    rater = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("colleague"))
    score = models.PositiveSmallIntegerField(_("score"), validators=SCORE_VALIDATORS)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_region_path = "evaluation__profile__sites__region__path"
    scope_site = "evaluation__profile__sites"
    scope_distinct = True
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("peer rating")
        verbose_name_plural = _("peer ratings")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "rater"], name="staff_peer_rating_once"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="staff_peer_rating_score_1_5"),
        ]

    def __str__(self):
        return f"{self.evaluation} · {self.score}"


class RewardPenalty(_OfProfile):
    class Kind(models.TextChoices):
        REWARD = "reward", _("Reward")
        PENALTY = "penalty", _("Penalty")

    profile = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="rewards_penalties", verbose_name=_("clerk")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    reason = models.TextField(_("reason"))
    amount = models.DecimalField(
        _("amount"), null=True, blank=True, help_text=_("Money, if any; leave empty otherwise."), **MONEY
    )
    recorded_by = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("reward or penalty")
        verbose_name_plural = _("rewards and penalties")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="staff_reward_penalty_amount_not_negative"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="staff_reward_penalty_reason"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


# --- The offline till (ADR 20) -------------------------------------------------------------------
class OfflineSale(models.Model):
    """A sale the till rang up and collected (cash or card) while it could not reach the server,
    sent afterwards. The till's own id (a UUID) makes it apply once: a resend gets the first answer.
    What no longer matched when it arrived (a price, the shelf, the clerk's limits) is flagged for
    the store's manager, who resolves it; the money was taken, so the sale is always recorded."""

    class Status(models.TextChoices):
        SYNCED = "synced", _("Synced")
        FLAGGED = "flagged", _("Flagged for the manager")
        RESOLVED = "resolved", _("Resolved by the manager")

    client_id = models.UUIDField(_("till's sale id"), unique=True)
    fingerprint = models.CharField(max_length=64)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    clerk = models.ForeignKey(User, on_delete=models.PROTECT, related_name="offline_sales", verbose_name=_("clerk"))
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="offline_sales", verbose_name=_("shift")
    )
    method = models.CharField(_("method"), max_length=10, choices=[("cash", _("Cash")), ("card", _("Card"))])
    amount = models.DecimalField(_("amount"), **MONEY)
    happened_at = models.DateTimeField(_("happened"), db_index=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="offline_sale"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SYNCED, db_index=True)
    flags = models.JSONField(_("conflicts"), default=list, blank=True)
    answer = models.JSONField(default=dict, blank=True)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("resolved by")
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=255, blank=True)

    scope_region_path = "region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-happened_at", "-pk"]
        verbose_name = _("offline sale")
        verbose_name_plural = _("offline sales")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="offline_sale_amount_positive")]

    def __str__(self):
        return f"{self.client_id} {self.amount} ({self.get_status_display()})"

    @property
    def flag_messages(self) -> list[str]:
        from staff.offline import flag_message

        return [flag_message(flag) for flag in self.flags]
