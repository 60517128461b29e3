"""Connectors for the Cplus shop's own database, whose schema the shop owns."""
