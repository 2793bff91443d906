"""The Textual app: a training screen and a writing screen over the engine (which knows nothing of it)."""
