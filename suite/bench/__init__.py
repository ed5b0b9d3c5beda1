"""The bench runs under pytest: each (case, runtime) pair is a parametrized item, so that
pytest-benchmark's fixture does the timing and writes its own JSON beside results.json.
``python -m suite run`` is the front that loads the cases, starts pytest and writes the results."""
