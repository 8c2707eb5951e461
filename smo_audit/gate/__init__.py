"""The CI gate: thresholds and `fail-on` over a finished report, baselines and report diffs.

It reads reports (the JSON contract) and configuration, never pages: the same verdict comes out of
a fresh audit and of `smo-audit report`/`diff` over saved JSON.
"""
