"""The conformance suite: property tests per clause family, run with ``pytest --pyargs conformance.suite --iut NAME``.

Every test draws its scenario from ``strategies`` (filtered on the capabilities the IUT reported), plays it through the
session's driver, and lets the judge speak; a violation raises the per-clause exception so Hypothesis shrinks it.
"""
