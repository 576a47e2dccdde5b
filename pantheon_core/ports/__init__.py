"""Ports: the small protocols core needs from the outside world, one role each."""
