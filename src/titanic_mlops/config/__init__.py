"""Where things run and where files live: settings from the environment, profiles, the layout."""
