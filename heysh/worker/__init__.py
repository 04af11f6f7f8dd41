"""Worker processes: Temporal workers per ``WORKER_TYPES``, health and metrics.

Entry points: :func:`heysh.worker.runner.run_workers` (what ``heysh worker``
calls) and ``python -m heysh.worker``.
"""
