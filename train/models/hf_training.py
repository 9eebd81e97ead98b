"""Fine-tune one `Encoder` with the Hugging Face Trainer on `datasets` data.

Early stopping on dev macro-F1 keeps the best epoch's weights; warmup then linear
decay; gradient accumulation; bf16 (or fp16) when a GPU is present; length-grouped
batches with dynamic padding. Each evaluation is handed to `log(metrics, step=epoch)`,
which the training run forwards to MLflow.

    >>> train_encoder(encoder, train_records, dev_records, labels, settings, seed=13, log=print)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from train.data import Record
from vnzh_runtime.encoder import Encoder

if TYPE_CHECKING:
    from train.models.transformer_config import TransformerSettings


def precision_flags(precision: str) -> dict[str, bool]:
    import torch

    if precision == "auto":
        if not torch.cuda.is_available():
            precision = "fp32"
        else:
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def to_dataset(encoder: Encoder, records: list[Record], labels: list[str]):
    from datasets import Dataset

    ids = encoder.encode(encoder.prepare([r.text for r in records]))
    if encoder.model.config.problem_type == "multi_label_classification":  # the whole label set, as floats for BCE
        targets = [[float(label in r.labels) for label in labels] for r in records]
    else:
        targets = [labels.index(r.label) for r in records]
    return Dataset.from_dict({"input_ids": ids, "label": targets})


def macro_f1(prediction) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    if prediction.label_ids.ndim == 2:  # multi-label: label sets, each label present where its logit is > 0
        return {"macro_f1": f1_score(prediction.label_ids > 0.5, prediction.predictions > 0, average="macro", zero_division=0),
                "accuracy": float(((prediction.predictions > 0) == (prediction.label_ids > 0.5)).all(axis=1).mean())}
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {"macro_f1": f1_score(prediction.label_ids, predicted, average="macro"),
            "accuracy": accuracy_score(prediction.label_ids, predicted)}


def epoch_logger(log: Callable):
    from transformers import TrainerCallback

    class EpochLogger(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                log({"train_loss": logs["loss"]}, step=round(state.epoch or 0))

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            log({k.removeprefix("eval_"): v for k, v in (metrics or {}).items()
                 if k in ("eval_loss", "eval_macro_f1", "eval_accuracy")}, step=round(state.epoch or 0))

    return EpochLogger()


def logs_to_stderr(trainer) -> None:
    """The Trainer writes each log dict (`{'loss': '1.79', 'epoch': '1'}`) on stdout, where `python -m
    train` prints its report: the same lines go to stderr, beside the progress bar."""
    import sys

    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    def write(logs: dict) -> None:
        print({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in logs.items() if k != "total_flos"}, file=sys.stderr)

    class StderrPrinter(PrinterCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_local_process_zero and logs:
                write(logs)

    class StderrProgress(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and self.training_bar is not None and logs:
                self.training_bar.clear()
                write(logs)
                self.training_bar.refresh()

    for printer, replacement in ((PrinterCallback, StderrPrinter), (ProgressCallback, StderrProgress)):
        if trainer.pop_callback(printer) is not None:
            trainer.add_callback(replacement)


def world_size() -> int:
    """Processes in this training (torchrun / accelerate launch set WORLD_SIZE); 1 for a plain run."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def distributed_on_cpu() -> bool:
    """Several processes and no accelerator: the Trainer must be told (use_cpu), or each process trains alone."""
    import torch

    return world_size() > 1 and torch.accelerator.current_accelerator() is None


@contextmanager
def checkpoint_dir() -> Iterator[str]:
    """Scratch space for the Trainer's checkpoints, removed afterwards.

    With several processes every rank must name the same directory, since the best
    checkpoint that rank 0 saved is loaded back by all of them: rank 0 picks it and
    broadcasts the path, and each node's first process creates it (`save_on_each_node`
    then writes it on every node, so several nodes need no shared disk)."""
    if world_size() <= 1:
        with tempfile.TemporaryDirectory(prefix="vnzh-checkpoints-") as path:
            yield path
        return
    import torch.distributed as dist
    from accelerate import PartialState

    state = PartialState(cpu=distributed_on_cpu())  # joins the process group that torchrun / accelerate launch set up (gloo on CPU)
    path = [tempfile.mkdtemp(prefix="vnzh-checkpoints-") if state.is_main_process else None]
    dist.broadcast_object_list(path, src=0)
    if state.is_local_main_process:
        os.makedirs(path[0], exist_ok=True)
    state.wait_for_everyone()
    try:
        yield path[0]
    finally:
        state.wait_for_everyone()
        if state.is_local_main_process:
            shutil.rmtree(path[0], ignore_errors=True)


def train_encoder(encoder: Encoder, train: list[Record], dev: list[Record], labels: list[str],
                  settings: "TransformerSettings", seed: int, log: Callable) -> Encoder:
    import torch
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments

    with checkpoint_dir() as checkpoints:
        args = TrainingArguments(
            output_dir=checkpoints, num_train_epochs=settings.epochs, learning_rate=settings.learning_rate,
            per_device_train_batch_size=settings.batch_size, per_device_eval_batch_size=max(64, settings.batch_size),
            gradient_accumulation_steps=settings.grad_accum, warmup_steps=settings.warmup_ratio,
            weight_decay=settings.weight_decay, lr_scheduler_type="linear", seed=seed,
            eval_strategy="epoch", save_strategy="epoch", logging_strategy="epoch", save_total_limit=2,
            load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
            save_only_model=True, save_on_each_node=world_size() > 1, dataloader_pin_memory=torch.cuda.is_available(),
            train_sampling_strategy="group_by_length", report_to="none", use_cpu=distributed_on_cpu(),
            **precision_flags(settings.precision))
        trainer = Trainer(
            model=encoder.model, args=args, train_dataset=to_dataset(encoder, train, labels),
            eval_dataset=to_dataset(encoder, dev, labels), data_collator=DataCollatorWithPadding(encoder.tokenizer),
            compute_metrics=macro_f1,
            callbacks=[EarlyStoppingCallback(settings.early_stopping_patience), epoch_logger(log)])
        logs_to_stderr(trainer)
        trainer.train()
        # Optimizer steps: with N data-parallel processes, about 1/N of a single process's.
        log({"steps": trainer.state.global_step}, step=round(trainer.state.epoch or 0))
        encoder.model = trainer.model
    return encoder
