"""The conformance checks: one package per kind, one module per capability.

Importing a module registers its checks (`spine_testing._check.check`); `faults` holds the
fault-injection scenarios adapters call with a server they may break (not registered checks).
"""
