"""chargen-tui: train a character-level LSTM on your own text, watch it learn, write with it.

    import chargen_tui as cg
    model = cg.load()                    # the shipped model; cg.load("runs/mine") for a run folder
    model.generate(n=3, prefix="The king", temperature=0.5, length=200, seed=0)
    model = cg.train("fortunes.txt", out="runs/fortunes", texts="sep:%", epochs=10)

`load`, `train`, `Model` and the rest are in `chargen_tui.api`. The core (config, corpus, texts,
vocab, plan, data, model, callbacks, training, run_dir, sampling, suggest) knows nothing of the
terminal UI; the API, the CLI and the Textual app sit on top of it. Importing this package imports
no TensorFlow (`train` does) and changes no settings.
"""

from .api import Generated, Model, TrainingFailed, load, train
from .errors import UserError

__all__ = ["Generated", "Model", "TrainingFailed", "UserError", "load", "train"]
__version__ = "0.1.0"
