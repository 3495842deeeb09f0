"""aezoo plugin: the convolutional variational autoencoder for faces of the series."""
