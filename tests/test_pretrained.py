"""The model that ships inside the package: it loads, writes, and `generate` uses it by default."""

from __future__ import annotations

import keras
import numpy as np

from chargen_tui.plan import plan_run
from chargen_tui.pretrained import default_run_dir
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler

from .test_cli import cli


def test_the_shipped_model_loads_and_writes():
    run_dir = default_run_dir()
    vocab = run_dir.read_vocab()
    run_dir.read_config()
    assert run_dir.model_path.stat().st_size < 15_000_000
    model = keras.saving.load_model(run_dir.model_path, safe_mode=True)
    assert getattr(model, "optimizer", None) is None and model.output_shape[-1] == vocab.vocab_size
    # A pre-padded seed would fail on a GPU in cuDNN's kernel (test_distribute)
    assert [layer.use_cudnn for layer in model.layers if isinstance(layer, keras.layers.LSTM)] == [False]
    # Trained, not a placeholder: a plain Shakespearean line costs ~1.1 nats a character (ln 215 = 5.4
    # for an untrained model).
    ids = np.array(vocab.encode("KING HENRY:\nWhat say you, my good lord? Shall we go to the court and hear "
                                "the news?\n"))
    logits = np.asarray(model(ids[None, :-1]))[0]
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    assert -log_probs[np.arange(len(ids) - 1), ids[1:]].mean() < 1.6
    text = Sampler.from_run_dir(run_dir).generate("ROMEO:\n", 200, temperature=0.5, seed=0)[0]
    assert len(text) == 200 and len(set(text.split())) > 10  # words, not one repeated character


def test_generate_without_a_run_folder_uses_the_shipped_model():
    result = cli("generate", "--prefix", "KING:", "--length", "120", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("KING:") and len(result.stdout) == len("KING:") + 120 + 1
    assert len(set(result.stdout.split())) > 5


def test_the_shipped_model_is_a_base_for_english_of_many_kinds(tmp_path):
    run_dir = default_run_dir()
    vocab = run_dir.read_vocab()
    assert all(chr(c) in vocab.char_index for c in range(32, 127)) and set("‘’“”–—…éèçñüß") <= set(vocab.char_index)
    sampler = Sampler.from_run_dir(run_dir)
    modern = ("The meeting moved to Thursday, so we’ll have more time to prepare the report — and “fix” the "
              "numbers before anyone asks about them.")
    assert sampler.rows_loss(vocab.encode(modern)[None, :]) < 2.0  # nats a character
    plan = plan_run(RunDir(tmp_path / "mine"), {"start_from": "default"}, text="Ceci n'est pas une pipe. " * 400)
    assert plan.config.units == run_dir.read_config().units and plan.vocab.char_index.items() >= vocab.char_index.items()
