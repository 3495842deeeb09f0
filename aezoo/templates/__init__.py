"""Files ``aezoo new-plugin`` writes (``aezoo.scaffold``): ``${...}`` placeholders, ``.tmpl`` suffixes."""
