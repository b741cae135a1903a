"""Clerks' development (seed 004): training records, the manager's periodic evaluations with
their colleagues' ratings, rewards and penalties with their reasons, and customers' ratings of a
collection from the receipt's QR code. Writes are audited; reads for pages and the performance
export are in `appraisal_summary`. See ADR 15."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils.translation import gettext as _

from core.services import audit_record
from staff.models import Evaluation, PeerRating, RewardPenalty, StaffProfile, TrainingRecord

RATING_SALT = "staff.receipt-rating"
# A receipt's QR code stays valid for a month: long enough to rate at home, short enough that an
# old receipt found in a bin is worth nothing.
RATING_TOKEN_MAX_AGE = datetime.timedelta(days=31)
# Per client address, then for the whole deployment (core.services.rate_take).
RATING_LIMITS = (("address", "20/hour"), ("global", "2000/hour"))


def _region_of(profile: StaffProfile):
    site = profile.sites.select_related("region").first()
    return site.region if site else None


def _check_manager(actor, profile: StaffProfile, *, action: str) -> None:
    """Only whoever manages the clerk records their training, evaluation, reward or penalty: never
    the clerk themselves (staff.services' rules for changing a profile, ADR 8)."""
    from staff.services import _check_actor_may_manage, _refuse

    if getattr(actor, "pk", None) == profile.user_id:
        _refuse(
            actor,
            action=action,
            obj=profile.user,
            region=_region_of(profile),
            errors=_("Nobody records their own training, evaluation, reward or penalty."),
        )
    _check_actor_may_manage(actor, profile.user, action=action)


def training_record(*, actor, profile: StaffProfile, date, content: str, result: str, note: str = "") -> TrainingRecord:
    _check_manager(actor, profile, action="staff.training")
    record = TrainingRecord(profile=profile, date=date, content=content, result=result, note=note, recorded_by=actor)
    record.full_clean(exclude=["profile", "recorded_by"])
    with transaction.atomic():
        record.save()
        audit_record(
            actor=actor,
            action="staff.training",
            obj=profile.user,
            changes={"date": str(date), "content": content, "result": result},
            region=_region_of(profile),
        )
    return record


def evaluation_record(
    *, actor, profile: StaffProfile, period_start, period_end, score: int, comment: str = ""
) -> Evaluation:
    _check_manager(actor, profile, action="staff.evaluation")
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})
    evaluation = Evaluation(
        profile=profile,
        period_start=period_start,
        period_end=period_end,
        score=score,
        comment=comment,
        evaluated_by=actor,
    )
    evaluation.full_clean(exclude=["profile", "evaluated_by"])
    with transaction.atomic():
        evaluation.save()
        audit_record(
            actor=actor,
            action="staff.evaluation",
            obj=profile.user,
            changes={"period": [str(period_start), str(period_end)], "score": score},
            region=_region_of(profile),
        )
    return evaluation


def colleagues_of(user):
    """Profiles of the people who work in one of `user`'s stores, `user` excepted."""
    from staff.policies import profile_of

    own = profile_of(user)
    if own is None:
        return StaffProfile.objects.none()
    return StaffProfile.objects.filter(sites__in=own.sites.all(), user__is_active=True).exclude(user=user).distinct()


def peer_rating_add(*, actor, evaluation: Evaluation, score: int, comment: str = "") -> PeerRating:
    """A colleague's rating of an evaluation: someone working in one of the clerk's stores, once."""
    from staff.services import _refuse

    profile = evaluation.profile
    if actor.pk == profile.user_id:
        _refuse(actor, action="staff.peer_rating", obj=profile.user, errors=_("Nobody rates themselves."))
    if not colleagues_of(actor).filter(pk=profile.pk).exists():
        _refuse(
            actor,
            action="staff.peer_rating",
            obj=profile.user,
            region=_region_of(profile),
            errors=_("Only colleagues from the same store rate a clerk."),
        )
    rating = PeerRating(evaluation=evaluation, rater=actor, score=score, comment=comment)
    rating.full_clean(exclude=["evaluation", "rater"], validate_constraints=False)
    try:
        with transaction.atomic():
            rating.save()
            audit_record(
                actor=actor,
                action="staff.peer_rating",
                obj=profile.user,
                changes={"evaluation": evaluation.pk, "score": score},
                region=_region_of(profile),
            )
    except IntegrityError:
        raise ValidationError(_("You have already rated this evaluation.")) from None
    return rating


def reward_penalty_record(
    *, actor, profile: StaffProfile, kind: str, date, reason: str, amount: Decimal | None = None
) -> RewardPenalty:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason.")})
    _check_manager(actor, profile, action="staff.reward_penalty")
    entry = RewardPenalty(
        profile=profile, kind=kind, date=date, reason=reason.strip(), amount=amount, recorded_by=actor
    )
    entry.full_clean(exclude=["profile", "recorded_by"])
    with transaction.atomic():
        entry.save()
        audit_record(
            actor=actor,
            action=f"staff.{kind}",
            obj=profile.user,
            changes={"date": str(date), "reason": entry.reason, "amount": str(amount) if amount is not None else None},
            region=_region_of(profile),
        )
    return entry


# --- Customers' ratings from the receipt -----------------------------------------------------
def rating_token(payment) -> str:
    return signing.dumps({"p": payment.pk}, salt=RATING_SALT, compress=True)


def rating_payment(token: str):
    """The collection a receipt's token names, or None for a bad, expired or unusable token."""
    from orders.models import Payment

    try:
        data = signing.loads(token or "", salt=RATING_SALT, max_age=RATING_TOKEN_MAX_AGE)
        payment_id = int(data["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Payment.objects.select_related("order__site__region", "order__region", "collected_by")
        .filter(pk=payment_id, status=Payment.Status.SUCCEEDED, collected_by__isnull=False)
        .first()
    )


class RatingRefused(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def customer_rating_add(*, payment, rating: int, comment: str = "", client_address: str = ""):
    """A customer's rating of the clerk who collected `payment`: once per collection, within the
    rate limits per address and in all."""
    from core.services import RateLimited, rate_take
    from members.models import Feedback

    if not 1 <= int(rating) <= 5:
        raise RatingRefused(_("Choose from 1 to 5 stars."))
    order = payment.order
    limits = [(name, f"receipt-rating:{name}:{rate}:{client_address}", rate) for name, rate in RATING_LIMITS[:1]]
    limits += [(name, f"receipt-rating:{name}:{rate}", rate) for name, rate in RATING_LIMITS[1:]]
    try:
        with transaction.atomic():
            rate_take(limits=limits if client_address else limits[1:])
            if Feedback.objects.filter(payment=payment).exists():
                raise RatingRefused(_("This collection has been rated already. Thank you!"), status=409)
            with transaction.atomic():
                feedback = Feedback.objects.create(
                    payment=payment,
                    order=order,
                    customer=order.customer,
                    clerk=payment.collected_by,
                    region=order.site.region if order.site_id else order.region,
                    site=order.site,
                    rating=int(rating),
                    comment=(comment or "").strip()[:2000],
                    subject="order",
                )
    except RateLimited:
        raise RatingRefused(_("Too many ratings from here; please try again later."), status=429) from None
    except IntegrityError:
        raise RatingRefused(_("This collection has been rated already. Thank you!"), status=409) from None
    return feedback


# --- Reads -------------------------------------------------------------------------------------
def appraised_users(*, viewer, start, end, site=None, only_user=None) -> set[int]:
    """Ids of clerks in the viewer's scope with a training, an evaluation, a reward or a penalty in
    the period [start, end) (aware datetimes, as the performance page passes them)."""
    first, last = start.date(), (end - datetime.timedelta(days=1)).date()
    ids: set[int] = set()
    for queryset, field in (
        (TrainingRecord.objects.restrict(viewer), "date"),
        (Evaluation.objects.restrict(viewer), "period_end"),
        (RewardPenalty.objects.restrict(viewer), "date"),
    ):
        queryset = queryset.filter(**{f"{field}__gte": first, f"{field}__lte": last})
        if site is not None:
            queryset = queryset.filter(profile__sites=site)
        if only_user is not None:
            queryset = queryset.filter(profile__user=only_user)
        ids.update(queryset.values_list("profile__user", flat=True))
    return ids


def appraisal_summary(user_ids, *, start=None, end=None) -> dict[int, dict]:
    """Per clerk (user id): training and evaluation figures, rewards and penalties, for a period
    (dates; None means all time). Rows only for ids given, which the caller has already scoped."""
    user_ids = list(user_ids)
    summary = {
        pk: {
            "trainings": 0,
            "trainings_passed": 0,
            "evaluation_score": None,
            "peer_rating": None,
            "rewards": 0,
            "penalties": 0,
            "rewards_amount": Decimal("0.00"),
            "penalties_amount": Decimal("0.00"),
        }
        for pk in user_ids
    }

    def within(field):
        q = Q()
        if start is not None:
            q &= Q(**{f"{field}__gte": start})
        if end is not None:
            q &= Q(**{f"{field}__lte": end})
        return q

    trainings = TrainingRecord.objects.filter(within("date"), profile__user__in=user_ids)
    for row in trainings.values("profile__user").annotate(
        n=Count("pk"), passed=Count("pk", filter=Q(result=TrainingRecord.Result.PASSED))
    ):
        summary[row["profile__user"]].update(trainings=row["n"], trainings_passed=row["passed"])
    evaluations = (
        Evaluation.objects.filter(within("period_end"), profile__user__in=user_ids)
        .select_related("profile")
        .order_by("profile__user", "-period_end", "-pk")
    )
    latest = {}
    for evaluation in evaluations:
        latest.setdefault(evaluation.profile.user_id, evaluation)
    for user_id, evaluation in latest.items():
        peers = evaluation.peer_ratings.aggregate(avg=Avg("score"))["avg"]
        summary[user_id].update(
            evaluation_score=evaluation.score, peer_rating=round(float(peers), 2) if peers is not None else None
        )
    entries = RewardPenalty.objects.filter(within("date"), profile__user__in=user_ids)
    for row in entries.values("profile__user", "kind").annotate(n=Count("pk"), total=Sum("amount")):
        key = "rewards" if row["kind"] == RewardPenalty.Kind.REWARD else "penalties"
        summary[row["profile__user"]][key] = row["n"]
        summary[row["profile__user"]][f"{key}_amount"] = row["total"] or Decimal("0.00")
    return summary
