"""aezoo plugin: the convolutional adversarial autoencoder for faces of the series."""
