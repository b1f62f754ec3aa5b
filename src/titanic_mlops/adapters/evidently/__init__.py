"""The Evidently 0.7 adapter, the only package that imports Evidently: the reports a cycle builds
(`reports`) and the workspace they are kept in (`workspace`). One module per concern."""
