//! L3 humbly batch verifier (in progress).
