"""Result tables: one replication's (``run``) and, beside them, a batch's summaries."""

from paxsim.models.results.run import TABLES, Results, collect

__all__ = ["TABLES", "Results", "collect"]
