"""The use cases: one module per stage and per service, over the domain, adapters and stores.

No web framework and no orchestrator: the shells (`pipelines`, `serving`, `monitoring`) and the
CLI call these.
"""
