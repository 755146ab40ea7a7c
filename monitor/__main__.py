"""``python -m monitor`` runs the parkmon command line."""

from monitor.cli import main

if __name__ == "__main__":
    main()
