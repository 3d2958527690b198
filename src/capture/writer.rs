//! pcapng writer (used by `synth` and, later, `live --write`).
