"""chargen-tui: train a character-level LSTM on your own text, watch it learn, write with it.

The core (config, corpus, vocab, plan, data, model, callbacks, training, run_dir, sampling, suggest)
knows nothing of the terminal UI; the CLI and the Textual app sit on top of it. Importing this
package does nothing else: no TensorFlow, no settings changed.
"""

__version__ = "0.1.0"
