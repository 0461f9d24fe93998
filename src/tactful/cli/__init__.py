"""The command line face of Tactful (Typer + Rich)."""
