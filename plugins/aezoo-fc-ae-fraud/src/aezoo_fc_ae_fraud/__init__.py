"""aezoo plugin: a fully-connected undercomplete autoencoder that detects anomalies (fraud) in tables."""
