"""Constants shared by the aggregates (leaf module: no imports, so no import cycle)."""

HASH_SPACE = float(2**64)  # 64-bit hashes of authors and posts (KMV sketches, sampling)
SENTIMENT_NEG = -0.05  # boundaries of the sentiment mix, same as the scorer's labels
SENTIMENT_POS = 0.05
