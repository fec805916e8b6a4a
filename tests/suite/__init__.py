"""The serving suite against the spawned model server: predictions, versions, config policies,
errors, status and metadata, and the demo."""
