"""One module per revision: `rNNNN_<what>.py` with `revision = "NNNN"`, `down_revision` the one
before. A revision only ever adds; a released one is never edited."""
