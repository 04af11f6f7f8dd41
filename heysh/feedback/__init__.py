"""The feedback loop: decisions become labels, audits keep the guarantees honest.

One module per job: :mod:`~heysh.feedback.export` (decision history as a
labelled dataset), :mod:`~heysh.feedback.audits` (blind audit requests and
labels), :mod:`~heysh.feedback.audit_report` (observed error rates against
the certified bounds), :mod:`~heysh.feedback.drift` (score drift),
:mod:`~heysh.feedback.agreement` (model and controllers versus each other),
:mod:`~heysh.feedback.queue` (review queue order) and
:mod:`~heysh.feedback.report` (the combined report).
"""
