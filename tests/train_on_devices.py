"""Train the tiny model in a process of its own, as test_distribute needs: on logical CPU devices
(which TensorFlow must be given before it runs anything), or as a worker of the cluster in TF_CONFIG.

    python -m tests.train_on_devices OUT [--logical N] [--stop-after B] [--resume] [KNOB=VALUE ...]

Prints one JSON line: the loss after every batch, the validation loss of every epoch, how the run
ended, and where it said it trained.
"""

from __future__ import annotations

import argparse
import json
import threading

from chargen_tui.runtime import configure_environment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--logical", type=int, default=1, help="split the CPU into this many devices")
    parser.add_argument("--stop-after", type=int, help="stop after this many batches of the first epoch")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("knobs", nargs="*", help="KNOB=VALUE, the value as JSON")
    args = parser.parse_intermixed_args()
    configure_environment()
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")  # the same devices on every machine: the CPU's
    if args.logical > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical)

    from chargen_tui.events import BatchProgress, EpochEnd, TrainingStarted
    from chargen_tui.run_dir import RunDir

    from .helpers import make_text, train_tiny

    knobs = {name: json.loads(value) for name, value in (knob.split("=", 1) for knob in args.knobs)}
    stop, events = threading.Event(), []

    def record(event) -> None:
        events.append(event)
        if isinstance(event, BatchProgress) and (event.epoch, event.batch) == (1, args.stop_after):
            stop.set()

    end = train_tiny(RunDir(args.out), make_text(6000), record, resume=args.resume, stop=stop, **knobs)
    print(json.dumps({
        "losses": [event.loss for event in events if isinstance(event, BatchProgress)],
        "val_losses": [event.val_loss for event in events if isinstance(event, EpochEnd)],
        "end": type(end).__name__,
        "devices": next(event.devices for event in events if isinstance(event, TrainingStarted)),
    }))


if __name__ == "__main__":
    main()
