"""The GPU check: does chargen-tui train on this machine's GPU, and do its models answer there?

    bash benchmarks/gpu_check.sh          # a fresh venv with tensorflow[and-cuda], then this
    python benchmarks/gpu_check.py [--seconds 60] [--device GPU:0]

1. Prints the devices TensorFlow sees; no GPU is a failure.
2. Trains the default job (`chargen-tui train` on the embedded corpus) for `--seconds` and prints
   its training speed in characters per second (the last batch's figure: after the first batch).
3. Checks that its training step runs cuDNN's LSTM kernel: the step's graph on training windows
   (no padding) holds `CudnnRNNV3` and its gradient.
4. Checks that `model.keras` answers a pre-padded seed on the device (Keras' cuDNN path fails on a
   GPU for a left-padded mask; the model users get must not take it), with the same logits as
   on the CPU and as the NumPy sampler, and that greedy generation on the device writes what the
   sampler writes on the CPU.

Exits 1 on any failure, each printed as a line starting "FAIL". `--device CPU:0` runs the checks
that need no GPU (2 and 4) on the CPU, to try the script on a machine without one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chargen_tui.runtime import send_tensorflow_logs_to  # noqa: E402

SEED = "The model reads"  # shorter than the window: the seed is pre-padded, as the editor pads it
GREEDY = 30  # characters of greedy generation compared (the seed and they fit one window)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training time (default: 60)")
    parser.add_argument("--device", default="GPU:0", help="the device checked (default: GPU:0)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chargen-gpu-check-"))
    send_tensorflow_logs_to(work / "tensorflow.log")
    import tensorflow as tf

    print("TensorFlow", tf.__version__, "sees:", ", ".join(d.name for d in tf.config.list_physical_devices()))
    failures = []
    if args.device.startswith("GPU") and not tf.config.list_physical_devices("GPU"):
        print(f"FAIL no GPU is visible to TensorFlow (its log: {work / 'tensorflow.log'})")
        return 1
    run = train_default_job(work / "run", args.seconds)
    if args.device.startswith("GPU"):
        failures += check_cudnn(run, args.device)
    failures += check_model_keras(run, args.device)
    for failure in failures:
        print("FAIL", failure)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


def train_default_job(out: Path, seconds: float):
    from chargen_tui.events import BatchProgress, Finished, Stopped
    from chargen_tui.plan import plan_run
    from chargen_tui.run_dir import RunDir
    from chargen_tui.training import train

    progress: list[BatchProgress] = []
    plan = plan_run(RunDir(out), {"time_budget": seconds})  # a budget ends with model.keras saved
    end = train(plan, lambda event: progress.append(event) if isinstance(event, BatchProgress) else None)
    if not isinstance(end, (Finished, Stopped)):
        raise SystemExit(f"FAIL training ended with {end}")
    print(f"trained {seconds:.0f} s: {progress[-1].chars_per_sec:,.0f} chars/s (after the first batch), "
          f"loss {progress[-1].loss:.3f}")
    return plan.run


def check_cudnn(run, device: str) -> list[str]:
    """Is cuDNN's kernel in the training step's graph (the checkpoint's model, as training has it)?"""
    import numpy as np
    import tensorflow as tf

    from chargen_tui.model import load_model

    vocab = run.read_vocab()
    model = load_model(run.checkpoint_model_path(run.read_checkpoint()), vocab.vocab_size)
    windows = np.random.default_rng(0).integers(1, vocab.vocab_size, (8, run.read_config().seq_len + 1))
    with tf.device(device):
        step = tf.function(model.train_step).get_concrete_function(
            (tf.constant(windows[:, :-1], tf.int32), tf.constant(windows[:, 1:], tf.int32)))
    ops = _op_types(step.graph.as_graph_def())
    found = sorted(op for op in ops if op.startswith("CudnnRNN"))
    print("cuDNN ops in the training step:", ", ".join(found) or "none")
    return [] if {"CudnnRNNV3", "CudnnRNNBackpropV3"} <= ops else ["the training step does not run cuDNN's LSTM"]


def _op_types(graph_def) -> set[str]:
    ops = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        ops |= {node.op for node in function.node_def}
    return ops


def check_model_keras(run, device: str) -> list[str]:
    """model.keras on `device` for a pre-padded seed: it answers, as the CPU and the sampler do."""
    import keras
    import numpy as np
    import tensorflow as tf

    from chargen_tui.sampling import Sampler

    failures = []
    model = keras.saving.load_model(run.model_path, safe_mode=True)
    sampler = Sampler.from_run_dir(run)
    window = sampler.window(SEED)[None, :]
    try:
        with tf.device(device):
            on_device = np.asarray(model(window))[0, -1]
    except Exception as error:  # the failure this checks for is a tf.Assert (InvalidArgumentError)
        return [f"model.keras does not answer a pre-padded seed on {device}: {type(error).__name__}: "
                f"{str(error).splitlines()[0][:200]}"]
    with tf.device("CPU:0"):
        on_cpu = np.asarray(model(window))[0, -1]
    by_sampler = sampler.prime(SEED)[1][0]
    for name, other in (("Keras on the CPU", on_cpu), ("the NumPy sampler", by_sampler)):
        gap = float(np.abs(on_device - other).max())
        print(f"logits for a pre-padded seed on {device} against {name}: max difference {gap:.2e}")
        if gap > 1e-3:
            failures.append(f"model.keras' logits on {device} differ from {name}'s by {gap:.2e}")
    text = SEED
    with tf.device(device):
        for _ in range(GREEDY):
            text += sampler.vocab.decode([int(np.argmax(np.asarray(model(sampler.window(text)[None, :]))[0, -1]))])
    cpu_text = SEED + sampler.generate(SEED, GREEDY, temperature=0.0)[0]
    print(f"greedy on {device}: {text[len(SEED):]!r}\ngreedy by the sampler: {cpu_text[len(SEED):]!r}")
    if text != cpu_text:
        failures.append(f"greedy generation on {device} differs from the CPU's")
    return failures


if __name__ == "__main__":
    sys.exit(main())
