"""``python -m pantheon_worker``: run a worker with settings from the environment."""

import logging

from pantheon_adapters.bootstrap import load_settings
from pantheon_worker.app import run_worker

if __name__ == "__main__":
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker(settings)
