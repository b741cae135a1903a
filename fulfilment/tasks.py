from celery import shared_task

# Tracking pushes can be missed (our callback down, a carrier without pushes): every 30 minutes the
# parcels still on their way are asked about (fulfilment.shipping.tracking_poll).
BEAT_SCHEDULE = {
    "fulfilment-tracking-poll": {"task": "fulfilment.tasks.tracking_poll", "schedule": 1800.0},
}


@shared_task
def tracking_poll() -> int:
    from fulfilment.shipping import tracking_poll as poll

    return poll()
