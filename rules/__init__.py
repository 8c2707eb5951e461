"""smo-audit's built-in rules, installed as the package `smo_audit_rules`.

One module per family; every `Rule` object defined in a module here is discovered by the same
entry-point loader that loads third-party rule plugins. The network catalogue (data, not code)
lives beside them in catalogue/*.toml, the scoring profile in scoring.toml.
"""
