"""What kjlab adds to JupyterLab: its settings (settings/overrides.d, no news toast) and terminals set
up for the practice tasks (terminal.py, terminal.bashrc)."""
