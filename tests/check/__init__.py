"""``fashion check`` (``fashion.check``): its verdicts on exports of every kind, its report, its
command line; for whoever maintains the check or writes a model it must judge."""
