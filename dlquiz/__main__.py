"""``python -m dlquiz`` runs the same CLI as the ``dlquiz`` entry point."""

from dlquiz.cli import main

if __name__ == "__main__":
    main()
