"""interfirm-kg: a linked-data knowledge graph of inter-firm cooperation (UNCTAD/ITE/EDS/2, 1997)."""

__version__ = "0.2.0"
