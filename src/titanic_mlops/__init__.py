"""titanic-mlops: the domain, its adapters and stores, the use cases, and the command line.

Layers, top to bottom (import-linter enforces them): `cli` -> the shells (`pipelines`, `serving`,
`monitoring`) -> `services` -> `config` -> `adapters` | `stores` -> `domain` | `atomic`.
"""
