"""Fine-tune one `Encoder` with the Hugging Face Trainer on `datasets` data.

Early stopping on dev macro-F1 keeps the best epoch's weights; warmup then linear
decay; gradient accumulation; bf16 (or fp16) when a GPU is present; length-grouped
batches with dynamic padding. Each evaluation is handed to `log(metrics, step=epoch)`,
which the training run forwards to MLflow.

    >>> train_encoder(encoder, train_records, dev_records, labels, settings, seed=13, log=print)
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Callable

import numpy as np

from train.data import Record
from vnzh_runtime.encoder import Encoder

if TYPE_CHECKING:
    from train.models.transformer import TransformerSettings


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
    return Dataset.from_dict({"input_ids": ids, "label": [labels.index(r.label) for r in records]})


def macro_f1(prediction) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

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


def train_encoder(encoder: Encoder, train: list[Record], dev: list[Record], labels: list[str],
                  settings: "TransformerSettings", seed: int, log: Callable) -> Encoder:
    import torch
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments

    with tempfile.TemporaryDirectory() as checkpoints:
        args = TrainingArguments(
            output_dir=checkpoints, num_train_epochs=settings.epochs, learning_rate=settings.learning_rate,
            per_device_train_batch_size=settings.batch_size, per_device_eval_batch_size=max(64, settings.batch_size),
            gradient_accumulation_steps=settings.grad_accum, warmup_steps=settings.warmup_ratio,
            weight_decay=settings.weight_decay, lr_scheduler_type="linear", seed=seed,
            eval_strategy="epoch", save_strategy="epoch", logging_strategy="epoch", save_total_limit=2,
            load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
            save_only_model=True, dataloader_pin_memory=torch.cuda.is_available(),
            train_sampling_strategy="group_by_length", report_to="none",
            **precision_flags(settings.precision))
        trainer = Trainer(
            model=encoder.model, args=args, train_dataset=to_dataset(encoder, train, labels),
            eval_dataset=to_dataset(encoder, dev, labels), data_collator=DataCollatorWithPadding(encoder.tokenizer),
            compute_metrics=macro_f1,
            callbacks=[EarlyStoppingCallback(settings.early_stopping_patience), epoch_logger(log)])
        trainer.train()
        encoder.model = trainer.model
    return encoder
