"""The serial cabinet protocol and drivers (pyserial), run_gateway, the simulated cabinet, store-and-forward to the platform, and the EVA-DTS (DEX) audit import (the devices issue fills it)."""
