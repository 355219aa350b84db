"""The SR comparison behind legacy_examples/sr_dropblock.py, in parts.

config (settings), data (images, degradation, batches), metrics (Y-PSNR),
stats (paired intervals, verdicts, seeds needed), model (network and TF1
graph), files (atomic writes), training (one run, resume), comparison
(every arm and seed), report (tables, JSON, figure).
"""
