"""Training transformer classifiers routed by language: PhoBERT for Vietnamese, another encoder for zh/en.

`model.transformer.routes` maps each language to an encoder key; one encoder for all
languages is a config change (`routes: {vi: multi, zh: multi, en: multi}`). Each encoder
fine-tunes on the records routed to it with the Hugging Face Trainer (early stopping on dev
macro-F1, best checkpoint kept, linear warmup/decay). The runtime side
(`vnzh_runtime.transformer`) tags with what `save` writes.

    >>> trainer = TransformerTrainer(config)   # loads hub names / local dirs, or builds tiny ones
    >>> trainer.fit(train_records, dev_records, on_epoch=run.log_metrics)
    >>> trainer.predict_proba(texts, langs)    # (n, labels), columns in config label order
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from train.data import Record
from train.models.transformer_config import EncoderConfig, TransformerModelConfig, TransformerSettings
from vnzh_runtime.encoder import Encoder, position_limit
from vnzh_runtime.errors import UserError
from vnzh_runtime.langid import detect_lang
from vnzh_runtime.segment import segment
from vnzh_runtime.transformer import RoutedEncoders

if TYPE_CHECKING:
    from train.config import Config


PROBLEM_TYPES = {"single": "single_label_classification", "multilabel": "multi_label_classification"}


def from_pretrained(key: str, cfg: EncoderConfig, labels: list[str], long_text: str, task: str = "single") -> Encoder:
    """An encoder from a hub name or a local directory; no weights there is one line naming the fix.
    Where the hub does not answer, a hub name is looked up in the local cache only: one line at
    once, not after a minute of the hub client's retries."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    name, setting = cfg.name_or_path, f"model.transformer.encoders.{key}.name_or_path"
    path = Path(name).expanduser()
    local = is_local(key, cfg)
    cache_only = {} if local or hub_reachable() else {"local_files_only": True}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **cache_only)
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)}, problem_type=PROBLEM_TYPES[task],
            ignore_mismatched_sizes=True,  # a fine-tuned classifier of other labels: its head is fitted anew
            **cache_only)
    except ImportError as err:  # a tokenizer of sentencepiece or protobuf, neither installed
        raise UserError(f"{setting}: loading {name!r} needs a package that is not installed ({err}); pip install "
                        "it, or name an encoder whose tokenizer.json is saved with it") from None
    except (OSError, ValueError, AttributeError, KeyError) as err:  # AttributeError: a T5 or another non-encoder
        found = str(err).splitlines()[0][:120]
        if local:  # into an empty directory only: not over a trained model or the user's data
            into = name if not any(path.iterdir()) else "<a new directory>, and name that"
            raise UserError(f"{setting}: the directory {name!r} holds no model that loads ({found}); download the "
                            f"model's files (hf download <hub name> --local-dir {into})") from None
        if not cache_only:  # the hub answered: the model is there, and not one a classifier is built on
            raise UserError(f"{setting}: cannot load {name!r} as a text classifier ({found}) (fix: name an encoder "
                            "such as vinai/phobert-base or xlm-roberta-base)") from None
        target = f"/models/{Path(name).name}"
        raise UserError(
            f"{setting}: cannot load {name!r} (no model hub reachable and no local copy: {found}); download it where "
            f"the hub is reachable (hf download {name} --local-dir {target}) and pass "
            f"--set {setting}={target}") from None
    limit = position_limit(model.config)
    if limit is not None and cfg.max_length > limit:  # else an index error in the first batch, hours in on a GPU
        raise UserError(f"model.transformer.encoders.{key}.max_length: {cfg.max_length} is more than {name} reads "
                        f"({limit} tokens) (fix: --set model.transformer.encoders.{key}.max_length={limit})")
    return Encoder(tokenizer, model, cfg.segmenter, cfg.max_length, long_text)


def is_local(key: str, cfg: EncoderConfig) -> bool:
    """Whether an encoder's `name_or_path` is a local directory (else a hub name: `owner/name`, one slash at most);
    a local one that is missing, a file, or weights without a tokenizer is one line, before any weights load
    (a directory of weights alone trained on empty token lists: transformers builds a tokenizer of 5 tokens)."""
    name, setting = cfg.name_or_path, f"model.transformer.encoders.{key}.name_or_path"
    path = Path(name).expanduser()
    if not (name.startswith(("/", ".", "~")) or name.count("/") > 1 or path.exists()):
        return False
    if path.exists() and not path.is_dir():  # a data file, say
        raise UserError(f"{setting}: {name!r} is a file, not a model's directory (fix: name the directory that holds "
                        "its config.json and weights)")
    if not path.is_dir():
        raise UserError(f"{setting}: {name!r} is no directory (fix: download the weights there, hf "
                        f"download <hub name> --local-dir {name}, or correct the path)")
    if (path / "config.json").is_file():
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
        except (OSError, ValueError, AttributeError, KeyError, ImportError):  # from_pretrained says what is wrong
            return True
        if len(tokenizer) <= len(set(tokenizer.all_special_tokens)):  # <s>, </s>, <pad>...: no word to read
            raise UserError(f"{setting}: the directory {name!r} holds a model but no tokenizer (one of "
                            f"{len(tokenizer)} special tokens loads from it); download the model's tokenizer files "
                            f"too (hf download <hub name> --local-dir {name})")
    return True


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the model hub (HF_ENDPOINT, else huggingface.co) accepts a connection."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        socket.create_connection((url.hostname, url.port or (80 if url.scheme == "http" else 443)), timeout=timeout).close()
        return True
    except (OSError, TypeError):  # TypeError: an HF_ENDPOINT without a host
        return False


def check_precision(precision: str) -> None:
    """Half precision needs a CUDA GPU: on the CPU transformers refuses bf16 after the run has opened."""
    import torch

    if precision in ("bf16", "fp16") and not torch.cuda.is_available():
        raise UserError(f"model.transformer.precision: {precision} needs a CUDA GPU, and none is here "
                        "(fix: precision: auto, which trains in fp32 on the CPU)")


def check_device(device: str) -> None:
    """The saved model's device is checked when it loads for evaluation, after the whole fine-tune: checked now."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("predict.device: cuda, and no CUDA device is here: the model would train, then fail to load "
                        "for its evaluation (fix: predict.device: auto, which uses a GPU where there is one)")


class TransformerTrainer:
    Config = TransformerModelConfig

    def __init__(self, config: "Config"):
        self.config = config
        self.labels = list(config.data.labels)
        self.settings: TransformerSettings = config.model.transformer
        self.routes = dict(self.settings.routes)
        check_precision(self.settings.precision)
        check_device(config.predict.device)
        self.scratch: list[tempfile.TemporaryDirectory] = []  # tiny encoders' tokenizer files
        self.languages: dict[str, str] = {}  # record id -> the language detected in its text
        self.encoders: dict[str, Encoder] = {} if self.settings.tiny else self._pretrained(config.task)

    def encoder_of(self, record: Record) -> str:
        """The encoder a record trains: the one its text is routed to when tagged, by the language detected in it
        (a record's `lang` field may say otherwise: Chinese marked vi would train PhoBERT on pyvi-cut Chinese)."""
        return self.routed.route(self.detected(record))

    def detected(self, record: Record) -> str:
        if record.id not in self.languages:  # detected once: records are routed on several passes
            self.languages[record.id] = detect_lang(record.text)
        return self.languages[record.id]

    def check_data(self, train: list) -> None:
        """Every routed encoder has training records: else it would fail after the others had trained (hours on a GPU)."""
        routed = {self.encoder_of(r) for r in train}
        for key in sorted(set(self.routes.values()) - routed):
            langs = ", ".join(lang for lang, to in sorted(self.routes.items()) if to == key)
            raise UserError(f"model.transformer.routes: encoder {key!r} (for {langs}) has no training records: none "
                            f"is in {langs} by the language detected in its text, which routes it as when tagged "
                            f"(fix: add {langs} records to data.files, or route {langs} to another encoder)")
        differ = sum(r.lang != self.detected(r) for r in train)
        if differ:
            print(f"note: {differ} training records' lang is not the language detected in their text; each trains "
                  "the encoder its text is routed to when tagged, by the detected one", file=sys.stderr)

    def _pretrained(self, task: str) -> dict[str, Encoder]:
        """Every routed encoder's weights; where some cannot load, one line with the first's fix that
        names the others too, so that a user fetches them all before trying again."""
        encoders, missing = {}, []
        for key in sorted(set(self.routes.values())):  # every local path checked before any weights load
            is_local(key, self.settings.encoders[key])
        for key in sorted(set(self.routes.values())):
            try:
                encoders[key] = from_pretrained(key, self.settings.encoders[key], self.labels, self.settings.long_text, task)
            except UserError as err:
                missing.append((key, str(err)))
        if missing:
            others = ", ".join(f"model.transformer.encoders.{key}" for key, _ in missing[1:])
            raise UserError(missing[0][1] + (f"; {others} cannot load either" if others else ""))
        return encoders

    @property
    def routed(self) -> RoutedEncoders:
        return RoutedEncoders(self.labels, self.routes, self.encoders, self.config.predict.model_dump(),
                              self.config.task == "multilabel")

    def fit(self, train: list[Record], dev: list[Record], on_epoch: Callable | None = None) -> "TransformerTrainer":
        from train.models.hf_training import train_encoder

        for key in sorted(set(self.routes.values())):
            own_train = [r for r in train if self.encoder_of(r) == key]
            own_dev = [r for r in dev if self.encoder_of(r) == key]
            if not own_dev:  # the Trainer needs an evaluation set to keep its best epoch: say what it is
                langs = ", ".join(sorted(lang for lang, routed in self.routes.items() if routed == key))
                own_dev = own_train[:50]
                print(f"note: no dev record is routed to encoder {key!r} ({langs}): its best epoch is chosen on "
                      f"{len(own_dev)} of its own training paragraphs, and its dev figures are training figures (fix: "
                      "add dev records in those languages)", file=sys.stderr)
            if key not in self.encoders:
                self.encoders[key] = self._tiny(key, own_train)
            train_encoder(self.encoders[key], own_train, own_dev, self.labels, self.settings, self.config.seed,
                          log=lambda metrics, step, key=key: on_epoch and on_epoch(
                              {f"{key}_{name}": value for name, value in metrics.items()}, step=step))
        return self

    def _tiny(self, key: str, records: list[Record]) -> Encoder:
        from train.models.tiny import build_tiny_encoder

        cfg = self.settings.encoders[key]
        texts = segment([r.text for r in records], cfg.segmenter)  # what Encoder.prepare will feed it
        # PhobertTokenizer re-reads its vocab/merges files when saved, so they must outlive this call: they
        # are removed once saved (or when the trainer is collected, or at exit, if it never is).
        scratch = tempfile.TemporaryDirectory(prefix=f"tiny-{key}-")
        self.scratch.append(scratch)
        workdir = Path(scratch.name)
        tokenizer, model = build_tiny_encoder(texts, cfg.segmenter != "none", self.settings.tiny, cfg.max_length,
                                              self.labels, workdir)
        model.config.problem_type = PROBLEM_TYPES[self.config.task]
        return Encoder(tokenizer, model, cfg.segmenter, cfg.max_length, self.settings.long_text)

    def predict_proba(self, texts: list[str], langs: list[str] | None = None):
        return self.routed.predict_proba(texts, langs)

    def save(self, directory: Path) -> dict:
        encoders = {key: encoder.save(Path(directory) / key) for key, encoder in self.encoders.items()}
        for scratch in self.scratch:  # the tokenizers' files are in the model directory now
            scratch.cleanup()
        return {"routes": self.routes, "encoders": encoders}
