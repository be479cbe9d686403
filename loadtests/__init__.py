"""Locust load tests that prove a server holds its rate-limit tiers."""
