"""paxsim engine: domain-free discrete-event building blocks on SimPy.

Nothing in this package knows about rare earths, fabs or data centers; the
domain lives in :mod:`models`.
"""
