"""The conformance gate: verifies any implementation against spec/openapi.yaml."""
