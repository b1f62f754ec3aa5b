"""Where the loop keeps its state: the prediction log, monitoring state, locks, history.

`interfaces` names the contracts, one module per backend implements them, and `factory` picks
a backend from a URL, importing it only when asked (the pattern of MLflow's tracking stores and
Feast's online stores). Backends never import the factory.
"""
