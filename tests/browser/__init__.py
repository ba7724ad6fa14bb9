"""The browser checks of the course website and of JupyterLab (make site-check)."""
