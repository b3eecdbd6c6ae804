"""MinHash signatures of a page's visible text, for near-duplicate detection without its text.

A signature is NUM_PERM minimum hashes (uint32, little-endian: 512 bytes) of the text's
SHINGLE_WORDS-word shingles; the share of positions where two signatures agree estimates
the Jaccard similarity of the two pages' shingle sets. rensa computes it (Rust, about ten
times quicker than datasketch's pure Python here); the seed is fixed, so pages crawled by
different processes or workers compare.
"""

from __future__ import annotations

import numpy as np
from rensa import RMinHash

NUM_PERM = 128
SHINGLE_WORDS = 3
SEED = 16
#: how a stored signature is laid out
DTYPE = np.dtype("<u4")


def shingles(words: list[str]) -> list[str]:
    """The ``SHINGLE_WORDS``-word shingles of ``words``; a shorter text is one shingle."""
    if len(words) <= SHINGLE_WORDS:
        return [" ".join(words)]
    return list(map(" ".join, zip(*(words[i:] for i in range(SHINGLE_WORDS)))))


def signature(words: list[str]) -> bytes | None:
    """The MinHash signature of a text given as its words; None for no words."""
    if not words:
        return None
    sketch = RMinHash(NUM_PERM, SEED)
    sketch.update(shingles(words))
    return np.asarray(sketch.digest(), dtype=DTYPE).tobytes()


def signatures(blobs) -> np.ndarray:
    """Stored signatures (bytes, all present) as an (n, NUM_PERM) uint32 matrix."""
    if not len(blobs):
        return np.empty((0, NUM_PERM), dtype=DTYPE)
    return np.frombuffer(b"".join(blobs), dtype=DTYPE).reshape(len(blobs), NUM_PERM)
