"""Allocation under concurrency on PostgreSQL, and the whole locker flow over a real serial line."""

import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.sms import OutboxSMSProvider
from devices.models import Device
from gateway import protocol as p
from gateway.driver import CabinetGateway
from gateway.simulator import Cabinet
from gateway.sinks import LocalSink
from lockers.models import Compartment, LockerOrder
from lockers.services import compartments_create, locker_assign
from orders.models import OrderKind, OrderStatus
from tests.factories import CustomerFactory, DeviceFactory, make_order


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_allocations_on_five_free_compartments():
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    compartments_create(bank=bank, sizes=["M"] * 5)
    orders = [make_order(site=bank.site, kind=OrderKind.LOCKER, paid=True) for _ in range(20)]
    barrier = threading.Barrier(20)
    results = [None] * 20

    def assign(index):
        try:
            barrier.wait()
            results[index] = locker_assign(order=orders[index], bank=bank, size="M", actor=None)
        except ValidationError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [r for r in results if isinstance(r, LockerOrder)]
    assert len(won) == 5
    assert len([r for r in results if isinstance(r, ValidationError)]) == 15
    assert len({r.compartment_id for r in won}) == 5
    assert Compartment.objects.filter(bank=bank, state="reserved").count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_whole_locker_flow_through_the_gateway_and_simulated_cabinet(tmp_path, settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    compartments_create(bank=bank, sizes=["S", "M", "L"])
    customer = CustomerFactory(phone="13900000001")
    order = make_order(site=bank.site, kind=OrderKind.LOCKER, paid=True, total=Decimal("3.00"), customer=customer)
    with Cabinet(addresses=(1,), locks=3, directory=str(tmp_path)) as cabinet:
        gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: bank}), timeout=0.2, retries=2)
        gateway.bus.open()
        gateway.cycle(idle=0.02)
        # Courier: the bank assigns the medium compartment, its door opens over the serial line.
        locker_order = locker_assign(order=order, bank=bank, size="M", actor=None)
        gateway.cycle(idle=0.02)
        door = locker_order.compartment.door
        assert cabinet.boards[1].pulses[door - 1] == 1
        # The goods go in and the door closes: ready, and the customer gets the code.
        cabinet.boards[1].close_door(door - 1)
        gateway.cycle(idle=0.05)
        locker_order.refresh_from_db()
        assert locker_order.stage == "ready"
        phone, text = OutboxSMSProvider.outbox[-1]
        assert phone == "13900000001"
        code = re.search(r"\b(\d{8})\b", text).group(1)
        # The customer types the code at the bank's keypad: the door opens once; they take the goods.
        cabinet.send_keypad(1, "00000000" if code != "00000000" else "11111111")  # a wrong code first
        gateway.cycle(idle=0.05)
        assert cabinet.boards[1].pulses[door - 1] == 1
        cabinet.send_keypad(1, code)
        gateway.cycle(idle=0.05)
        gateway.cycle(idle=0.05)
        assert cabinet.boards[1].pulses[door - 1] == 2
        cabinet.boards[1].close_door(door - 1)
        gateway.cycle(idle=0.05)
        gateway.bus.close()
    locker_order.refresh_from_db()
    order.refresh_from_db()
    assert locker_order.stage == "collected" and order.status == OrderStatus.COMPLETED
    assert Compartment.objects.get(pk=locker_order.compartment_id).state == "free"
    assert p.OPEN in {f.command for f in cabinet.received}
