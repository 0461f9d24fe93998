"""The customers themselves: who they are and where they live, their hidden traits and needs, the
events of their lives, their habits, app behaviour, consents and leaving."""
