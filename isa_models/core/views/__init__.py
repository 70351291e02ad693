"""Report views over a timing run: summary, port pressure, timeline, bottleneck, unit pressure, packets.

Engine layer (DESIGN.md §6). Each view is a `Listener` passed to `time_program(...,
listeners=[view])`; it only accumulates from events and results, then renders with
`render_text()` and `to_json()`. docs/reports.md explains every column and character. `VIEWS`
names them for the command line; a view class whose ``engines`` attribute lists engine kinds
renders only runs of those engines (the packet views need an engine that issues packets), one
without it renders every engine's run: `views_for` gives the names that apply to an engine.
A view class with ``headline = True`` also renders, through ``headline_text()``, a short form a
report prints without being asked (the packets of an HVX kernel's hot loop): `headline_views`.
"""

from isa_models.core.views.bottleneck import BottleneckView
from isa_models.core.views.packets import PacketListingView
from isa_models.core.views.pressure import PortPressureView
from isa_models.core.views.summary import SummaryView
from isa_models.core.views.timeline import TimelineView
from isa_models.core.views.units import UnitPressureView

__all__ = ["SummaryView", "PortPressureView", "TimelineView", "BottleneckView", "UnitPressureView",
           "PacketListingView", "VIEWS", "views_for", "applies", "headline_views"]

#: view name (as ``--views`` spells it) -> view class, in the order reports print them
VIEWS = {"summary": SummaryView, "pressure": PortPressureView, "timeline": TimelineView,
         "bottleneck": BottleneckView, "units": UnitPressureView, "packets": PacketListingView}


def applies(name: str, engine: str) -> bool:
    """Whether view `name` (a `VIEWS` key) renders a run of engine kind `engine`."""
    engines = getattr(VIEWS[name], "engines", None)
    return engines is None or engine in engines


def views_for(engine: str) -> tuple[str, ...]:
    """The names of the views that render a run of engine kind `engine` (`machine.engine`)."""
    return tuple(name for name in VIEWS if applies(name, engine))


def headline_views(engine: str) -> tuple[str, ...]:
    """The views of engine kind `engine` that a report prints by default (``headline = True``)."""
    return tuple(name for name in views_for(engine) if getattr(VIEWS[name], "headline", False))
