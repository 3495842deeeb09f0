"""aezoo plugin: the DCGAN for faces of the series (generator and discriminator in one module)."""
