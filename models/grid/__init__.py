"""Grid interconnection: one gate per region (studies, headroom, background requests)."""

from paxsim.models.grid.gate import GridRegionGate
from paxsim.models.grid.pipeline import PIPELINE_COLUMNS
from paxsim.models.grid.request import (
    GRID_REQUEST_COLUMNS,
    MAX_RESTUDIES,
    GridConnection,
    GridRequest,
)

__all__ = [
    "GRID_REQUEST_COLUMNS",
    "MAX_RESTUDIES",
    "PIPELINE_COLUMNS",
    "GridConnection",
    "GridRegionGate",
    "GridRequest",
]
