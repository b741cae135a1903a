"""Clerks' training, evaluations, colleagues' and customers' ratings, rewards and penalties
(seed 004), through the pages: recorded by whoever manages the clerk and audited, shown on the
clerk's page and in the performance export; a customer rates a collection once from the
receipt's QR code, without signing in."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from members.models import Feedback
from orders.models import Payment
from staff import appraisals
from staff.models import Evaluation, PeerRating, RewardPenalty, StaffProfile, TrainingRecord
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _clerk_page(world):
    return reverse("staff:clerk-detail", args=[StaffProfile.objects.get(user=world.clerk).pk])


def _collected_by(clerk, site, total="12.00"):
    from decimal import Decimal

    order = make_order(site=site, paid=True, total=Decimal(total))
    Payment.objects.filter(order=order).update(collected_by=clerk, collected_at=timezone.now())
    return Payment.objects.get(order=order)


def test_the_manager_records_training_evaluation_reward_and_penalty_on_the_clerks_page(world, client):
    client.force_login(world.manager)
    page = _clerk_page(world)
    posts = [
        {"action": "training", "training-date": TODAY, "training-content": "Refund rules", "training-result": "passed"},
        {
            "action": "evaluation",
            "evaluation-period_start": TODAY.replace(day=1),
            "evaluation-period_end": TODAY,
            "evaluation-score": 4,
            "evaluation-comment": "Friendly, quick",
        },
        {
            "action": "reward_penalty",
            "reward-kind": "reward",
            "reward-date": TODAY,
            "reward-reason": "Top seller",
            "reward-amount": "200.00",
        },
        {"action": "reward_penalty", "reward-kind": "penalty", "reward-date": TODAY, "reward-reason": "Late twice"},
    ]
    for data in posts:
        response = client.post(page, data)
        assert response.status_code == 302, response.content.decode()[:800]
    profile = StaffProfile.objects.get(user=world.clerk)
    assert profile.trainings.get().content == "Refund rules"
    assert profile.evaluations.get().score == 4
    assert {(r.kind, r.reason, r.amount) for r in profile.rewards_penalties.all()} == {
        ("reward", "Top seller", 200),
        ("penalty", "Late twice", None),
    }
    html = client.get(page).content.decode()
    for text in ("Refund rules", "Passed", "Friendly, quick", "Top seller", "Late twice", "200.00"):
        assert text in html
    actions = set(AuditEntry.objects.filter(actor=world.manager).values_list("action", flat=True))
    assert {"staff.training", "staff.evaluation", "staff.reward", "staff.penalty"} <= actions


def test_wrong_entries_are_refused_clearly_and_change_nothing(world, client):
    client.force_login(world.manager)
    page = _clerk_page(world)
    response = client.post(
        page, {"action": "reward_penalty", "reward-kind": "penalty", "reward-date": TODAY, "reward-reason": ""}
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(
        page,
        {
            "action": "evaluation",
            "evaluation-period_start": TODAY,
            "evaluation-period_end": TODAY.replace(year=TODAY.year - 1),
            "evaluation-score": 3,
        },
    )
    assert response.status_code == 400 and "cannot end before it starts" in response.content.decode()
    response = client.post(
        page,
        {
            "action": "evaluation",
            "evaluation-period_start": TODAY,
            "evaluation-period_end": TODAY,
            "evaluation-score": 9,
        },
    )
    assert response.status_code == 400
    assert not RewardPenalty.objects.exists() and not Evaluation.objects.exists()
    # Nobody records on themselves; a clerk may not record at all.
    own = reverse("staff:clerk-detail", args=[StaffProfile.objects.get(user=world.manager).pk])
    response = client.post(
        own, {"action": "reward_penalty", "reward-kind": "reward", "reward-date": TODAY, "reward-reason": "Me"}
    )
    assert response.status_code == 400 and "Nobody records their own" in response.content.decode()
    assert AuditEntry.objects.filter(actor=world.manager, action="denied.staff.reward_penalty").exists()
    client.force_login(world.clerk)
    response = client.post(
        page, {"action": "training", "training-date": TODAY, "training-content": "x", "training-result": "passed"}
    )
    assert response.status_code == 403
    assert not TrainingRecord.objects.exists() and not RewardPenalty.objects.exists()


def test_colleagues_from_the_same_store_rate_an_evaluation_once(world, client):
    profile = StaffProfile.objects.get(user=world.clerk)
    evaluation = appraisals.evaluation_record(
        actor=world.manager, profile=profile, period_start=TODAY, period_end=TODAY, score=4
    )
    colleague = UserFactory(role="clerk")
    StaffProfile.objects.create(user=colleague).sites.add(world.east_store)
    stranger = UserFactory(role="clerk")
    StaffProfile.objects.create(user=stranger).sites.add(world.west_store)

    client.force_login(colleague)
    listing = client.get(reverse("staff:colleague-ratings")).content.decode()
    assert f'data-evaluation="{evaluation.pk}"' in listing
    response = client.post(
        reverse("staff:colleague-ratings"), {"evaluation": evaluation.pk, "score": 5, "comment": "Helps"}
    )
    assert response.status_code == 302
    response = client.post(reverse("staff:colleague-ratings"), {"evaluation": evaluation.pk, "score": 1})
    assert response.status_code == 400 and "already rated" in response.content.decode()
    assert f'data-evaluation="{evaluation.pk}"' not in client.get(reverse("staff:colleague-ratings")).content.decode()

    client.force_login(stranger)
    assert f'data-evaluation="{evaluation.pk}"' not in client.get(reverse("staff:colleague-ratings")).content.decode()
    response = client.post(reverse("staff:colleague-ratings"), {"evaluation": evaluation.pk, "score": 1})
    assert response.status_code == 400 and "Only colleagues from the same store" in response.content.decode()
    client.force_login(world.clerk)
    response = client.post(reverse("staff:colleague-ratings"), {"evaluation": evaluation.pk, "score": 5})
    assert response.status_code == 400 and "Nobody rates themselves" in response.content.decode()
    assert list(PeerRating.objects.values_list("rater", "score")) == [(colleague.pk, 5)]
    client.force_login(world.manager)
    row = re.search(
        rf'data-evaluation="{evaluation.pk}">(.*?)</tr>', client.get(_clerk_page(world)).content.decode(), re.S
    )
    assert "5.00 (1)" in row.group(1)


def test_a_customer_rates_a_collection_once_from_the_receipts_qr_code(world, client):
    payment = _collected_by(world.clerk, world.east_store)
    client.force_login(world.clerk)
    receipt = client.get(reverse("staff:receipt", args=[payment.order_id])).content.decode()
    assert "<svg" in receipt and "Scan to rate" in receipt
    link = re.search(r'data-rating-link="([^"]+)"', receipt).group(1)
    client.logout()

    response = client.get(link)
    assert response.status_code == 200 and 'id="rating-form"' in response.content.decode()
    response = client.post(link, {"rating": 5, "comment": "Quick and kind"})
    assert response.status_code == 200 and "Thank you for your rating" in response.content.decode()
    feedback = Feedback.objects.get(payment=payment)
    assert (feedback.clerk, feedback.rating, feedback.site, feedback.order_id) == (
        world.clerk,
        5,
        world.east_store,
        payment.order_id,
    )
    response = client.post(link, {"rating": 1})
    assert response.status_code == 409 and "rated already" in response.content.decode()
    assert Feedback.objects.filter(payment=payment).count() == 1
    assert client.post(link, {"rating": 7}).status_code == 400
    assert client.get(link.replace("/rate/", "/rate/x")).status_code == 404
    # The manager sees it on the clerk's page.
    client.force_login(world.manager)
    html = client.get(_clerk_page(world)).content.decode()
    assert "Quick and kind" in html and "5.00 from 1 rating" in html


def test_customer_ratings_are_rate_limited_per_address(world, client, monkeypatch):
    monkeypatch.setattr(appraisals, "RATING_LIMITS", (("address", "2/hour"), ("global", "100/hour")))
    links = [
        reverse("staff:customer-rating", args=[appraisals.rating_token(_collected_by(world.clerk, world.east_store))])
        for _ in range(3)
    ]
    assert [client.post(link, {"rating": 4}).status_code for link in links] == [200, 200, 429]
    assert Feedback.objects.count() == 2
    assert client.post(links[2], {"rating": 4}, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_the_performance_export_carries_training_evaluation_and_rewards(world, client):
    _collected_by(world.clerk, world.east_store)
    profile = StaffProfile.objects.get(user=world.clerk)
    appraisals.training_record(actor=world.manager, profile=profile, date=TODAY, content="Till", result="passed")
    appraisals.training_record(actor=world.manager, profile=profile, date=TODAY, content="Safety", result="failed")
    appraisals.evaluation_record(actor=world.manager, profile=profile, period_start=TODAY, period_end=TODAY, score=3)
    appraisals.reward_penalty_record(actor=world.manager, profile=profile, kind="penalty", date=TODAY, reason="Late")
    client.force_login(world.manager)
    body = client.get(reverse("staff:performance"), {"export": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    row = next(r for r in rows if r["Collections"] == "1")
    assert (row["Trainings"], row["Trainings passed"], row["Manager's score"], row["Penalties"], row["Rewards"]) == (
        "2",
        "1",
        "3",
        "1",
        "0",
    )
    page = client.get(reverse("staff:performance")).content.decode()
    assert '<td class="trainings">1/2</td>' in page and '<td class="evaluation">3</td>' in page


def test_a_clerk_with_only_a_reward_in_the_period_has_a_row_in_the_export(world, client):
    profile = StaffProfile.objects.get(user=world.clerk)
    appraisals.reward_penalty_record(
        actor=world.manager, profile=profile, kind="reward", date=TODAY, reason="Spotless shelves", amount=50
    )
    stranger = UserFactory(role="clerk")
    StaffProfile.objects.create(user=stranger).sites.add(world.west_store)
    appraisals.reward_penalty_record(actor=world.admin, profile=stranger.profile, kind="reward", date=TODAY, reason="x")
    client.force_login(world.manager)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("staff:performance"), {"export": "csv"}).content.decode("utf-8-sig"))
        )
    )
    assert [(r["Collections"], r["Rewards"], r["Rewards amount"]) for r in rows] == [("0", "1", "50.0")]
