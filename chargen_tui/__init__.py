"""chargen-tui: train a character-level LSTM on your own text, watch it learn, write with it.

The core (config, corpus, vocab, data, model, training, run_dir, sampling) knows nothing of the
terminal UI; the CLI and the Textual app sit on top of it. Importing this package is cheap: nothing
here imports TensorFlow until a module that needs it is imported.
"""

__version__ = "0.1.0"

import os as _os

# NumPy's OpenBLAS reads this when NumPy is first imported, so it is set here, before any module of
# the package imports NumPy. The sampler's products are small: with more than one BLAS thread they
# ran up to 40x slower at times, the threads waiting on each other and on TensorFlow's (measured:
# a 100-character prime of a 512-unit LSTM, p50 7 ms and max 8 ms with one thread; p50 20 ms and
# max 832 ms with two). The user's own setting wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
