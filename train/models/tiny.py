"""Tiny encoders built locally from the training texts, so the transformer path runs offline.

For a segmented (PhoBERT-style) encoder we learn BPE merges in PhoBERT's own fastBPE
format (`bpe.codes`, `vocab.txt`) and load them with the real `PhobertTokenizer`;
for the other encoder a WordPiece vocabulary (Han characters split one by one, as
in Chinese BERTs). Either gets a small randomly initialised RoBERTa classifier.

    >>> merges = learn_bpe(Counter({"hợp_tác": 9, "hợp": 4}), num_merges=3)
    >>> merges[0]
    (('h', 'ợ'), 13)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from train.models.transformer_config import TinyConfig

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # PhobertTokenizer fixes ids 0-3 for these


def learn_bpe(words: Counter, num_merges: int) -> list[tuple[tuple[str, str], int]]:
    """Sennrich-style BPE: repeatedly merge the most frequent adjacent symbol pair."""
    vocab = {tuple(w[:-1]) + (w[-1] + "</w>",): c for w, c in words.items() if w}
    merges = []
    for _ in range(num_merges):
        pairs: Counter = Counter()
        for word, count in vocab.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best, count = max(pairs.items(), key=lambda item: (item[1], item[0]))
        if count < 2:
            break
        merges.append((best, count))
        vocab = {_merge(word, best): c for word, c in vocab.items()}
    return merges


def _merge(word: tuple, pair: tuple) -> tuple:
    out, i = [], 0
    while i < len(word):
        if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def build_phobert_tokenizer(texts: list[str], directory: Path, vocab_size: int):
    from transformers import PhobertTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    words = Counter(word for text in texts for word in text.split())
    merges = learn_bpe(Counter(dict(words.most_common(4000))), num_merges=vocab_size // 2)
    (directory / "bpe.codes").write_text("".join(f"{a} {b} {c}\n" for (a, b), c in merges), encoding="utf-8")
    # Vocabulary: every character in both positions (so little is unknown) plus every merged symbol.
    pieces: Counter = Counter()
    for char, count in Counter(ch for word in words for ch in word).items():
        pieces[char] += count
        pieces[char + "@@"] += count
    for (a, b), count in merges:
        merged = a + b
        pieces[merged.removesuffix("</w>") if merged.endswith("</w>") else merged + "@@"] += count
    lines = [f"{piece} {count}\n" for piece, count in pieces.most_common() if piece not in SPECIALS]
    (directory / "vocab.txt").write_text("".join(lines), encoding="utf-8")
    return PhobertTokenizer(str(directory / "vocab.txt"), str(directory / "bpe.codes"))


def build_wordpiece_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import BertWordPieceTokenizer, processors
    from transformers import PreTrainedTokenizerFast

    wordpiece = BertWordPieceTokenizer(lowercase=False)
    wordpiece.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1)
    cls_id, sep_id = wordpiece.token_to_id("[CLS]"), wordpiece.token_to_id("[SEP]")
    wordpiece.post_processor = processors.BertProcessing(("[SEP]", sep_id), ("[CLS]", cls_id))
    return PreTrainedTokenizerFast(tokenizer_object=wordpiece._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def build_tiny_encoder(texts: list[str], segmented: bool, tiny: "TinyConfig", max_length: int,
                       labels: list[str], workdir: Path):
    """(tokenizer, model): a tokenizer learned on `texts` and a small random RoBERTa classifier."""
    from transformers import RobertaConfig, RobertaForSequenceClassification

    if segmented:
        tokenizer = build_phobert_tokenizer(texts, workdir, tiny.vocab_size)
    else:
        tokenizer = build_wordpiece_tokenizer(texts, tiny.vocab_size)
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=tiny.hidden_size, num_hidden_layers=tiny.num_layers,
        num_attention_heads=tiny.num_heads, intermediate_size=tiny.intermediate_size,
        max_position_embeddings=max_length + 4, pad_token_id=tokenizer.pad_token_id, type_vocab_size=1,
        num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    return tokenizer, RobertaForSequenceClassification(config)
