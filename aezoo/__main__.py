"""``python -m aezoo``: the aezoo command, as the console script runs it (torchrun starts its workers so)."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="aezoo")
