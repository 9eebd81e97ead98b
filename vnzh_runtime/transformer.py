"""Transformer classifiers routed by language, at inference.

The spec's `model` section maps each language to an encoder key (`routes`) and gives each
encoder's settings (`encoders`: segmenter, max_length, long_text); `model/<key>/` holds its
safetensors weights and tokenizer files.

    >>> model = load(Path("models/phobert/model"), spec, {"device": "cpu", "cpu_batch_size": 8})
    >>> model.predict_proba(texts, langs)          # (n, labels), columns in spec label order

Batch sizes depend on the device: `batch_size` paragraphs per forward pass on a GPU, and
`cpu_batch_size` on a CPU, which is compute-bound at any batch size, so small
length-sorted batches pad least (bench/RESULTS.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vnzh_runtime.activations import sigmoid, softmax
from vnzh_runtime.encoder import Encoder
from vnzh_runtime.errors import UserError


class RoutedEncoders:
    def __init__(self, labels: list[str], routes: dict[str, str], encoders: dict[str, Encoder], options: dict,
                 multilabel: bool = False):
        self.multilabel = multilabel
        self.labels = list(labels)
        self.routes = dict(routes)
        self.encoders = encoders
        self.options = options

    def route(self, lang: str) -> str:
        return self.routes.get(lang) or sorted(set(self.routes.values()))[0]

    def batch_size(self, encoder: Encoder) -> int:
        on_cpu = encoder.device.type == "cpu"
        return int(self.options["cpu_batch_size"] if on_cpu else self.options["batch_size"])

    def predict_proba(self, texts: list[str], langs: list[str] | None = None) -> np.ndarray:
        return self.predict_both(texts, langs)[0]

    def predict_both(self, texts: list[str], langs: list[str] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(softmax of the logits: the dominant label's scores; their sigmoid for a multi-label model, else None)."""
        from vnzh_runtime.langid import detect_lang

        langs = langs or [detect_lang(t) for t in texts]
        logits = np.zeros((len(texts), len(self.labels)))
        for key, encoder in self.encoders.items():
            members = [i for i, lang in enumerate(langs) if self.route(lang) == key]
            if members:
                logits[members] = encoder.predict_logits([texts[i] for i in members], self.batch_size(encoder))
        return softmax(logits), sigmoid(logits) if self.multilabel else None


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():  # else torch's AssertionError, a traceback
        raise UserError("device cuda (--device, or spec.json's options.device): no CUDA device here (this torch "
                        "is a CPU build, or no GPU is visible); "
                        "fix: --device cpu, or --device auto to use a GPU where there is one")
    return requested


def check_options(options: dict, spec_file: Path) -> None:
    """The runtime options a spec.json (or a caller) gives: a device torch knows, batch sizes of 1 or more."""
    if options.get("device") not in ("auto", "cpu", "cuda"):
        raise UserError(f"{spec_file}: options.device {options.get('device')!r} is not auto, cpu or cuda "
                        "(fix: --device auto, or correct the spec)")
    for name in ("batch_size", "cpu_batch_size"):
        value = options.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{spec_file}: options.{name} {value!r} is not a whole number of 1 or more; correct it")


def check_key(directory: Path, spec: dict, key) -> None:
    """An encoder key names a folder of model/ whose files spec.json lists, and so verifies: never a
    path ("/elsewhere", "../../other") to weights no digest covers."""
    from vnzh_runtime.spec import SPEC_FILE

    folder = f"{directory.name}/{key}/"
    plain = key not in (".", "..") and not any(mark in key for mark in "/\\")  # `load` checked it is a string
    if not plain or not any(name.startswith(folder) for name in spec.get("files") or {}):
        raise UserError(f"{directory.parent}/{SPEC_FILE}: the route to {key!r} names no encoder folder of "
                        f"{directory.name}/ that the spec lists; retrain or re-copy the model")


def load(directory: Path, spec: dict, options: dict) -> RoutedEncoders:
    from vnzh_runtime.spec import SPEC_FILE

    section = spec["model"]
    routes, settings = section.get("routes"), section.get("encoders")
    if not (isinstance(routes, dict) and all(isinstance(key, str) for key in routes.values())
            and isinstance(settings, dict) and all(isinstance(value, dict) for value in settings.values())):
        raise UserError(f"{directory.parent}/{SPEC_FILE}: 'model.routes' must map languages to encoder names, and "
                        "'model.encoders' each name to its settings; retrain or re-copy the model")
    check_options(options, directory.parent / SPEC_FILE)
    device = pick_device(options["device"])
    encoders = {}
    for key in sorted(set(routes.values())):
        check_key(directory, spec, key)
        try:
            encoder = Encoder.load(directory / key, **settings[key])
        except (KeyError, TypeError, ValueError) as err:  # no settings for the key, ones it does not take, or bad
            raise UserError(f"{directory.parent}/{SPEC_FILE}: 'model.encoders.{key}' lacks or garbles {err}; retrain "
                            "or re-copy the model") from None
        except OSError as err:  # no safetensors weights (a pickled pytorch_model.bin is never read), no tokenizer
            raise UserError(f"{directory / key}: cannot load the encoder ({str(err).splitlines()[0][:120]}); "
                            "retrain or re-copy the model") from None
        encoder.model.to(device)
        if device == "cpu" and options["cpu_int8"]:
            encoder.quantize_for_cpu()
        encoders[key] = encoder
    return RoutedEncoders(spec["labels"], routes, encoders, options, spec.get("task") == "multilabel")
