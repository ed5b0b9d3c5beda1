"""One module per subcommand; each exposes ``NAME``, ``HELP``, ``add_arguments`` and ``main``.
The command line (``suite.cli``) imports them all; importing one imports only what it needs (the
report and the gate import neither torch nor onnxruntime)."""
