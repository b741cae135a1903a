"""What a server process does once Django is loaded, before its first request."""

import gc


def freeze_loaded_objects() -> None:
    """Load every URLconf (and so every view, serializer and form module) now, then move all the
    objects that exist into the garbage collector's permanent generation (`gc.freeze()`).

    A full (generation 2) collection walks every tracked object. In a loaded project that is
    about 230,000 of them, which took 300–570 ms on the shared 2-core box under load: the one
    request in seven of `bench/reports.py`'s API lists that was ten times slower than the rest
    (issue 19, ADR 0025). Modules, classes and settings live as long as the process, so walking
    them finds nothing to free; frozen, they are left out and a full collection costs what the
    request's own objects cost."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import of every urls module is the point
    gc.collect()
    gc.freeze()
