"""The ``workbench`` command's exit codes, shared by the CLI and the report runner.

0 ok, 1 a check failed (when asked to fail on it), 2 bad input (one sentence
on stderr, no traceback), 3 the work itself failed.
"""

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2, 3
