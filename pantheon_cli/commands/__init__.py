"""One module per command group; :mod:`pantheon_cli.main` mounts them."""
