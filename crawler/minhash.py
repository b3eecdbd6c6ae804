"""MinHash signatures of a page's visible text, for near-duplicate detection without its text.

A signature is NUM_PERM minimum hashes (uint32, little-endian: 512 bytes) of the hashes of
the text's SHINGLE_WORDS-word shingles; the share of positions where two signatures agree estimates
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
#: odd 64-bit constants, one per place in a shingle
_MIXERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                    0xFF51AFD7ED558CCD], dtype=np.uint64)[:SHINGLE_WORDS]


def shingle_hashes(words: list[str]) -> np.ndarray:
    """A 64-bit hash per ``SHINGLE_WORDS``-word shingle of ``words`` (a shorter text is one
    shingle), from rensa's word hashes mixed in numpy: quicker than joining the shingles into
    strings to hash them (measured: about 40% less time per page)."""
    hashed = RMinHash.hash_token_sets([words])[0]
    words_hashed = np.fromiter(hashed, dtype=np.uint64, count=len(hashed))  # quicker than asarray on a list
    count = max(len(words_hashed) - SHINGLE_WORDS + 1, 1)
    mixed = np.zeros(count, dtype=np.uint64)
    for place in range(min(SHINGLE_WORDS, len(words_hashed))):
        mixed ^= words_hashed[place:place + count] * _MIXERS[place]  # wraps mod 2**64: order counts
    return mixed


def signature(words: list[str]) -> bytes | None:
    """The MinHash signature of a text given as its words; None for no words."""
    if not words:
        return None
    hashes = shingle_hashes(words)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, np.array([0, len(hashes)], dtype=np.uint64),
                                                            NUM_PERM, SEED)
    return np.asarray(matrix.to_rows()[0], dtype=DTYPE).tobytes()


def signatures(blobs) -> np.ndarray:
    """Stored signatures (bytes, all present) as an (n, NUM_PERM) uint32 matrix."""
    if not len(blobs):
        return np.empty((0, NUM_PERM), dtype=DTYPE)
    return np.frombuffer(b"".join(blobs), dtype=DTYPE).reshape(len(blobs), NUM_PERM)
