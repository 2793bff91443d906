"""chargen-tui: train a character-level LSTM on your own text, watch it learn, write with it.

The core (config, corpus, vocab, data, model, training, run_dir, sampling) knows nothing of the
terminal UI; the CLI and the Textual app sit on top of it. Importing this package is cheap: nothing
here imports TensorFlow until a module that needs it is imported.
"""

__version__ = "0.1.0"
