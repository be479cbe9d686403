"""Locust load tests that prove a server holds its rate-limit tiers (``ragen-load``).

Layers, each importable without the next:
  scenario   the tier, the target and the phase timeline (plain data)
  records    one record per response; JSON lines
  checks     per-response checks: a well-formed 429, headers consistent with the tier
  analysis   verdicts on a finished run's records (plain Python, unit-tested on fabricated runs)
  report     the verdict table
  hooks, shape, users, locustfiles/   the Locust side (imports locust and gevent)
  launch     runs one tier's locustfile headless in a Locust subprocess
  runner     runs a LoadConfig: preflight, each tier, verdicts, report files
  cli        the command line: options -> LoadConfig (the entry point is __main__)
"""
