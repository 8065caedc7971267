"""Connections to the two stores. Nothing here knows about a domain."""
