"""Faults, load and fuzzing against the spawned server, and a client facing a server that breaks
off."""
