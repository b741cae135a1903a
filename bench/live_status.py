"""Live status latency: heartbeat → device service → channels_redis → a browser's websocket.

Simulated devices each send one heartbeat a second, each at its own phase within the second,
through `devices.services.device_heartbeat` (the same path the device API uses), from producer
processes (two per core by default), while one websocket subscriber in its own process, logged in
as a platform administrator on a real ASGI server, receives the fleet updates. Latency is the time
from the heartbeat's arrival (its `last_seen_at`) to the message reaching the subscriber. A timed
warm-up first brings every device online (not measured). The baseline, measured in the same run, is
a bare Redis publish/subscribe round trip at the same rate.

    REDIS_URL=redis://127.0.0.1:6379/3 DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_bench \\
        .venv/bin/python bench/live_status.py --devices 2000 --seconds 30

Prints its figures; the last line is one JSON object. Target: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import sys
import threading
import time

from common import ROOT, django_setup, report, test_database


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def redis_baseline(url: str, rate: int, seconds: float) -> list[float]:
    import redis

    client = redis.Redis.from_url(url)
    pubsub = client.pubsub()
    pubsub.subscribe("bench.baseline")
    latencies: list[float] = []
    done = threading.Event()

    def listen():
        for message in pubsub.listen():
            if message["type"] != "message":
                continue
            if message["data"] == b"stop":
                break
            latencies.append((time.time() - float(message["data"])) * 1000)
        done.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    time.sleep(0.2)
    interval = 1.0 / rate
    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < seconds:
        client.publish("bench.baseline", repr(time.time()))
        sent += 1
        delay = started + sent * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    client.publish("bench.baseline", "stop")
    done.wait(10)
    return latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    # Two producer processes per core, as a web server runs its workers; more only adds contention
    # for the same cores (bench/README.md has figures for 8).
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cores)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("live_status needs Redis: set REDIS_URL (and DATABASE_URL for PostgreSQL).")
    # This run's own channel-layer keys: nothing left in Redis by an earlier run (a group member
    # that never left) can slow this one down.
    os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"bench-{os.getpid()}")
    django_setup()
    sys.path.insert(0, str(ROOT))
    import websockets
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from core.models import Region, Site
    from devices.models import Device
    from devices.services import device_heartbeat
    from tests.asgi_server import serve

    with test_database(), serve() as url:
        region = Region.objects.create(name="Bench", code="bench", kind=Region.Kind.CITY)
        site = Site.objects.create(name="Bench site", code="bench-site", region=region, kind=Site.Kind.STORE)
        Device.objects.bulk_create(
            Device(serial_number=f"BENCH-{i:05d}", name=f"Bench {i}", kind="vending", site=site)
            for i in range(args.devices)
        )
        devices = list(Device.objects.select_related("site__region"))
        # Warm-up, before anyone listens: every device's first heartbeat brings it online (a state
        # change, its "online" event and a first telemetry sample). The run measures the fleet in
        # its steady state; the warm-up's own time is printed.
        warm_started = time.perf_counter()
        for device in devices:
            device_heartbeat(device=device, telemetry={"temperature": "4.0"})
        warm_up_s = time.perf_counter() - warm_started
        admin = get_user_model().objects.create_superuser("bench", password="bench-pass-2026")
        session = SessionStore()
        session["_auth_user_id"] = str(admin.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = admin.get_session_auth_hash()
        session.create()

        # The subscriber is the browser: its own process, so it never competes with the server for
        # the interpreter lock. It sends its latencies back when told to stop.
        import multiprocessing

        context = multiprocessing.get_context("fork")
        received = context.Event()
        stop = context.Event()
        results = context.Queue()

        def subscriber_process():
            latencies: list[float] = []

            async def subscribe():
                ws_url = url.replace("http://", "ws://") + "/ws/fleet/"
                headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "Origin": url}
                async with websockets.connect(ws_url, additional_headers=headers, max_queue=None) as socket:
                    received.set()
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
                        except TimeoutError:
                            continue
                        now = datetime.datetime.now(datetime.UTC)
                        frame = json.loads(raw)  # one update, or a batch of those that arrived together
                        for message in frame["messages"] if frame["type"] == "batch" else [frame]:
                            seen = datetime.datetime.fromisoformat(message["device"]["last_seen_at"])
                            latencies.append((now - seen).total_seconds() * 1000)

            asyncio.run(subscribe())
            results.put(latencies)

        connection.close()
        subscriber = context.Process(target=subscriber_process, daemon=True)
        subscriber.start()
        if not received.wait(10):
            sys.exit("the websocket subscriber could not connect")

        # Producers run in their own processes, as web workers would: the server, the subscriber
        # and the measuring are not slowed by the heartbeat work.
        sent = context.Array("i", args.workers)
        cpu = context.Array("d", args.workers)  # each producer's CPU seconds, publisher thread included
        ids = [device.pk for device in devices]

        def produce(worker: int):
            from django.db import connections

            connections.close_all()
            cpu_started = time.process_time()
            mine = list(Device.objects.select_related("site__region").filter(pk__in=ids[worker :: args.workers]))
            # Devices are not synchronised: each has its own phase within the second, so a worker
            # spreads its devices' heartbeats evenly instead of sending them all at once.
            started = time.perf_counter() + worker / (args.workers * max(1, len(mine)))
            second = 0
            while time.perf_counter() - started < args.seconds:
                for index, device in enumerate(mine):
                    delay = started + second + index / len(mine) - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    device_heartbeat(device=device, telemetry={"temperature": "4.0"})
                    sent[worker] += 1
                second += 1
            time.sleep(0.5)  # let the publisher thread hand over the last messages
            cpu[worker] = time.process_time() - cpu_started
            connections.close_all()

        producers = [context.Process(target=produce, args=(w,)) for w in range(args.workers)]
        began = time.perf_counter()
        for process in producers:
            process.start()
        for process in producers:
            process.join()
        elapsed = time.perf_counter() - began
        time.sleep(1.0)
        stop.set()
        latencies = results.get(timeout=30)
        subscriber.join(5)
        sent = list(sent)
        cpu = list(cpu)

    total = sum(sent)
    rate = total / elapsed
    baseline = redis_baseline(os.environ["REDIS_URL"], max(1, int(rate)), min(args.seconds, 10))
    figures = {
        "devices": args.devices,
        "seconds": round(elapsed, 1),
        "warm_up_s": round(warm_up_s, 1),
        "heartbeats_sent": total,
        "heartbeats_per_s": round(rate, 1),
        "producer_cpu_ms_per_heartbeat": round(sum(cpu) / total * 1000, 3) if total else None,
        "workers": args.workers,
        "target_per_s": args.devices,
        "messages_received": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "redis_p50_ms": round(percentile(baseline, 0.50), 3),
        "redis_p99_ms": round(percentile(baseline, 0.99), 3),
        "target_p99_ms": 100,
    }
    report("live_status", figures, baseline_key="redis_p99_ms", measured_key="p99_ms")


if __name__ == "__main__":
    main()
