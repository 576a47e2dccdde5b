"""The peer: a LiteLLM proxy in the benchmark's own venv (never a product dependency)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LITELLM_SPEC = "litellm[proxy]==1.108.7"
PEER_PACKAGES = ("litellm", "fastapi", "uvicorn", "uvloop", "httpx", "aiohttp", "openai")
MODEL_NAME = "bench-model"


def ensure_venv(venv: Path) -> Path:
    """``venv`` with LiteLLM's proxy installed (created once; a marker file says it is done)."""
    marker = venv / f".installed-{LITELLM_SPEC.replace('[', '_').replace(']', '_')}"
    python = venv / "bin" / "python"
    if marker.exists() and python.exists():
        return venv
    print(f"bench: creating {venv} with {LITELLM_SPEC} (once; a minute or two)…", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", LITELLM_SPEC], check=True)  # noqa: S603
    marker.touch()
    return venv


def versions(venv: Path) -> dict[str, str | None]:
    script = ("import importlib.metadata as m, json, sys\n"
              "def v(n):\n"
              "    try: return m.version(n)\n"
              "    except m.PackageNotFoundError: return None\n"
              f"print(json.dumps({{n: v(n) for n in {list(PEER_PACKAGES)!r}}}))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script],  # noqa: S603
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out))


def write_config(path: Path, *, provider_base_url: str, provider_model: str,
                 master_key: str) -> Path:
    """A minimal proxy: one model routed to the fake provider; a master key (the proxy
    refuses to start without one; with no database it is a plain comparison), no DB, no
    callbacks.

    JSON is valid YAML, so no YAML library is needed here.
    """
    config = {
        "model_list": [{
            "model_name": MODEL_NAME,
            "litellm_params": {"model": f"openai/{provider_model}",
                               "api_base": provider_base_url, "api_key": "sk-bench-dummy"},
        }],
        "litellm_settings": {"drop_params": True, "set_verbose": False,
                             "request_timeout": 60, "num_retries": 0,
                             "callbacks": [], "success_callback": [], "failure_callback": []},
        "general_settings": {"master_key": master_key, "disable_spend_logs": True,
                             "disable_error_logs": True,
                             "disable_adding_master_key_hash_to_db": True,
                             "store_model_in_db": False, "background_health_checks": False},
    }
    path.write_text(json.dumps(config, indent=2))
    return path


def environment(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("LITELLM_", "DATABASE_URL"))}
    env.update({
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",   # offline: no cost-map download
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "DISABLE_SCHEMA_UPDATE": "True",
        "NO_DOCS": "True",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("DATABASE_URL", None)
    env.pop("OPENAI_API_KEY", None)
    return env


def argv(venv: Path, config: Path, port: int) -> list[str]:
    return [str(venv / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
            "--port", str(port), "--num_workers", "1"]


