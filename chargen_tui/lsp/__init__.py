"""`chargen-tui lsp`: the model's suggestions in the writer's own editor (server.py)."""
