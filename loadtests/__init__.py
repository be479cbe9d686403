"""Locust load tests that prove a server holds its rate-limit tiers (``ragen-load``).

Layers, each importable without the next:
  scenario   the tier, the target and the phase timeline (plain data)
  records    one record per response; JSON lines
  checks     per-response checks: a well-formed 429, headers consistent with the tier
  analysis   verdicts on a finished run's records (plain Python, unit-tested on fabricated runs)
  report     the verdict table
  hooks, shape, users, locustfiles/   the Locust side (imports locust and gevent)
  runner     runs a locustfile headless in a subprocess; cli  the command line
"""
