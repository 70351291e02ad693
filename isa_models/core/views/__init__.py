"""Report views over a timing run: summary, port pressure, timeline, bottleneck, packet listing.

Engine layer (DESIGN.md §6). Each view is a `Listener` passed to `time_program(...,
listeners=[view])`; it only accumulates from events and results, then renders with
`render_text()` and `to_json()`. docs/reports.md explains every column and character.
"""

from isa_models.core.views.bottleneck import BottleneckView
from isa_models.core.views.packets import PacketListingView
from isa_models.core.views.pressure import PortPressureView
from isa_models.core.views.summary import SummaryView
from isa_models.core.views.timeline import TimelineView

__all__ = ["SummaryView", "PortPressureView", "TimelineView", "BottleneckView", "PacketListingView"]
