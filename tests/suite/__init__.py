"""The serving suite against the spawned model server: predictions, versions, config policies,
errors, status and metadata, classify and regress, each over REST and over gRPC; and the demo."""
