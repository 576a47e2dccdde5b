"""Entities and pure rules: no I/O, no clocks read, no ids invented behind the caller's back."""
