"""Scoped rows of the gateway app for the generated scoping tests."""

import pathlib

from gateway.models import DexRead, LockBoard
from gateway.services import dex_import
from tests.factories import DeviceFactory, SiteFactory

SAMPLE = (pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "dex" / "animo.eva_dts").read_bytes()


def _read_in(region):
    read, _created = dex_import(device=DeviceFactory(site=SiteFactory(region=region)), content=SAMPLE, source="upload")
    return read


def _lock_board_in(region):
    return LockBoard.objects.create(device=DeviceFactory(kind="locker", site=SiteFactory(region=region)))


SCOPED_BUILDERS = {DexRead: _read_in, LockBoard: _lock_board_in}
