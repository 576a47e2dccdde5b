"""Background jobs: the ``JobQueue`` port on Dramatiq, and the actors that run them."""
