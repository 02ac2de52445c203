"""Result tables: one replication's (``run``) and, beside them, a batch's summaries."""

from paxsim.models.results.batch import BatchResults, PrecisionStatus
from paxsim.models.results.compact import KEPT_TABLES, compact_tables
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.run import TABLES, Results, collect

__all__ = [
    "KEPT_TABLES",
    "TABLES",
    "BatchResults",
    "Comparison",
    "PrecisionStatus",
    "Results",
    "collect",
    "compact_tables",
]
