from orders.models import PartnerClient, WebhookDelivery
from orders.partners import partner_client_create


def partner_in(region, **kwargs) -> PartnerClient:
    return partner_client_create(
        actor=None, name=f"Partner in {region}", kind="courier", region=region, **kwargs
    ).client


def _delivery_in(region):
    client = partner_in(region)
    return WebhookDelivery.objects.create(client=client, event="ping", payload={}, url="https://example.test/hook")


SCOPED_BUILDERS = {PartnerClient: partner_in, WebhookDelivery: _delivery_in}
