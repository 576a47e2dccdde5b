"""Identity verifiers for external providers (Supabase Auth access tokens)."""
