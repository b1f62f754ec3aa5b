"""The pure domain: schema, features, parameters, training, evaluation, policies, feedback rules.

Only pandas, numpy, scikit-learn and pydantic: no file, network, environment or global state.
"""
