"""aezoo plugin: the fully-connected overcomplete denoising autoencoder of the series."""
