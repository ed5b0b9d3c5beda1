"""Timing, on its own: the policy (``policy.py``: rounds, sessions, processes, one session's
rounds bracketed by the yardstick), the timing process (``process.py``, ``python -m
suite.timing.process SPEC.json``) and its session (``session.py``), the bench's pytest plugin
and items (``plugin.py``, ``items.py``, ``pytest.ini``), the yardstick, the machine's ceilings
(``ceilings.py``, ``plausible.py``), and what a run's timing processes measured, merged
(``result.py``). The run's own process (``bench/``) prepares, checks and coordinates."""
