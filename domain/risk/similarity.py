"""Near-duplicate bid documents (条例第四十条（四）“异常一致”) by MinHash over character shingles.

A document's signature is NUM_PERM minima of salted 61-bit hashes of its k-character shingles (whitespace
removed, so reflowed text still matches). The fraction of equal positions of two signatures estimates the
Jaccard similarity of the shingle sets (Broder 1997). Candidate pairs come from LSH banding: signatures that
agree on all rows of at least one band land in the same bucket, so a project's bids are never compared
all-pairs. Signatures are computed once at import; the text itself need not be kept.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from operator import eq

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
SHINGLE = 5  # characters: about two Chinese words, long enough that shared shingles mean shared phrasing
HEAD = 8  # positions compared first: a random pair almost never matches any of them
DIRECT_LIMIT = 16  # up to this many documents, comparing every pair is cheaper than bucketing
_PRIME = (1 << 61) - 1
_rng = random.Random(20201)  # fixed: signatures computed at different times must stay comparable
_SALTS = tuple((_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(NUM_PERM))


def shingles(text: str, k: int = SHINGLE) -> set[int]:
    compact = "".join(text.split())
    if len(compact) <= k:
        return {_hash(compact)} if compact else set()
    return {_hash(compact[i : i + k]) for i in range(len(compact) - k + 1)}


def _hash(piece: str) -> int:
    return int.from_bytes(hashlib.blake2b(piece.encode(), digest_size=8).digest(), "big")


def document_signature(text: str) -> tuple[int, ...] | None:
    """The MinHash signature of a document's text (None for an empty text: nothing to compare)."""
    hashed = shingles(text)
    if not hashed:
        return None
    return tuple(min((a * h + b) % _PRIME for h in hashed) for a, b in _SALTS)


def estimated_jaccard(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    if not first or len(first) != len(second):
        return 0.0
    return sum(x == y for x, y in zip(first, second, strict=True)) / len(first)


def band_keys(signature: tuple[int, ...]) -> Iterator[tuple[int, tuple[int, ...]]]:
    """(band number, rows) of each LSH band."""
    rows = max(1, len(signature) // BANDS)
    for band in range(len(signature) // rows):
        yield band, signature[band * rows : (band + 1) * rows]


def similar_pairs(signatures: Iterable[tuple[str, tuple[int, ...]]], threshold: float) -> list[tuple[str, str, float]]:
    """Pairs of distinct owners whose signatures' estimated Jaccard reaches the threshold, each pair once.
    A handful of documents (one project's bids) are compared directly; more go through LSH buckets."""
    signed = list(signatures)
    if len(signed) <= DIRECT_LIMIT:
        found: dict[tuple[str, str], float] = {}
        for i, (a, sig_a) in enumerate(signed):
            for b, sig_b in signed[i + 1 :]:
                size = len(sig_a)
                if a == b or size != len(sig_b):
                    continue
                # exact early exit: matches in the first quarter plus every other position can't reach the threshold
                head = sum(map(eq, sig_a[:HEAD], sig_b[:HEAD]))
                if head + size - HEAD < threshold * size:
                    continue
                similarity = sum(map(eq, sig_a, sig_b)) / size
                pair = (a, b) if a < b else (b, a)
                if similarity >= threshold and similarity > found.get(pair, -1.0):
                    found[pair] = similarity
        return sorted((a, b, s) for (a, b), s in found.items())
    buckets: dict[tuple[int, tuple[int, ...]], list[tuple[str, tuple[int, ...]]]] = {}
    for owner, signature in signed:
        entry = (owner, signature)
        if len(signature) == NUM_PERM:
            for band, start in enumerate(range(0, NUM_PERM, ROWS)):
                buckets.setdefault((band, signature[start : start + ROWS]), []).append(entry)
        else:
            for key in band_keys(signature):
                buckets.setdefault(key, []).append(entry)
    seen: dict[tuple[str, str], float] = {}
    for members in buckets.values():
        if len(members) < 2:
            continue
        for i, (a, sig_a) in enumerate(members):
            for b, sig_b in members[i + 1 :]:
                if a == b:
                    continue
                pair = (a, b) if a < b else (b, a)
                if pair not in seen:
                    seen[pair] = estimated_jaccard(sig_a, sig_b)
    return sorted((a, b, s) for (a, b), s in seen.items() if s >= threshold)
