"""Scoping builders for the staff app's models."""

import datetime
from decimal import Decimal

from members.models import Feedback
from staff.models import (
    AnomalyRule,
    Evaluation,
    OfflineSale,
    PeerRating,
    RefundApproval,
    RewardPenalty,
    Shift,
    StaffAlert,
    StaffProfile,
    TrainingRecord,
)
from tests.factories import SiteFactory, UserFactory, make_order


def _profile_in(region):
    profile = StaffProfile.objects.create(user=UserFactory(role="clerk"))
    profile.sites.add(SiteFactory(region=region))
    return profile


def _shift_in(region):
    return Shift.objects.create(
        site=SiteFactory(region=region), clerk=UserFactory(role="clerk"), opening_float=Decimal("100")
    )


def _approval_in(region):
    order = make_order(site=SiteFactory(region=region), paid=True)
    return RefundApproval.objects.create(
        order=order,
        region=region,
        site=order.site,
        amount=Decimal("5.00"),
        reason="test",
        level=RefundApproval.Level.MANAGER,
        requested_by=UserFactory(role="clerk"),
    )


def _alert_in(region):
    site = SiteFactory(region=region)
    return StaffAlert.objects.create(
        kind=AnomalyRule.Kind.LARGE_AMOUNT, region=region, site=site, message="test", dedupe_key=f"t:{site.pk}"
    )


def _feedback_in(region):
    return Feedback.objects.create(region=region, site=SiteFactory(region=region), rating=4)


def _offline_sale_in(region):
    import uuid

    from django.utils import timezone

    site = SiteFactory(region=region)
    return OfflineSale.objects.create(
        client_id=uuid.uuid4(),
        fingerprint="test",
        region=region,
        site=site,
        clerk=UserFactory(role="clerk"),
        method="card",
        amount=Decimal("5.00"),
        happened_at=timezone.now(),
        status=OfflineSale.Status.FLAGGED,
        flags=[{"kind": "stock_out", "product": "Tea", "wanted": 2, "taken": 1}],
    )


TODAY = datetime.date(2026, 12, 1)


def _training_in(region):
    return TrainingRecord.objects.create(profile=_profile_in(region), date=TODAY, content="Till", result="passed")


def _evaluation_in(region):
    return Evaluation.objects.create(profile=_profile_in(region), period_start=TODAY, period_end=TODAY, score=4)


def _peer_rating_in(region):
    return PeerRating.objects.create(evaluation=_evaluation_in(region), rater=UserFactory(role="clerk"), score=3)


def _reward_in(region):
    return RewardPenalty.objects.create(profile=_profile_in(region), kind="reward", date=TODAY, reason="Good work")


SCOPED_BUILDERS = {
    TrainingRecord: _training_in,
    Evaluation: _evaluation_in,
    PeerRating: _peer_rating_in,
    RewardPenalty: _reward_in,
    StaffProfile: _profile_in,
    Shift: _shift_in,
    RefundApproval: _approval_in,
    StaffAlert: _alert_in,
    AnomalyRule: lambda region: AnomalyRule.objects.create(
        region=region, kind=AnomalyRule.Kind.LARGE_AMOUNT, threshold=100
    ),
    Feedback: _feedback_in,
    OfflineSale: _offline_sale_in,
}
