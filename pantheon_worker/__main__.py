"""``python -m pantheon_worker``: run a worker with settings from the environment."""

from pantheon_adapters.bootstrap import load_settings
from pantheon_worker.app import run_worker

if __name__ == "__main__":
    run_worker(load_settings())  # it sets up logging (PANTHEON_LOG_FORMAT) itself
