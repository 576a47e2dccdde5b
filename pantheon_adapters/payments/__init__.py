"""Payment adapters: implementations of ``pantheon_core.ports.payments.Payments``."""
