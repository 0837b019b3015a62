"""What the notebooks use on top of the library: widgets (user interface only), Colab's Drive
cache and uploader, the run-time estimate, and the exercises' self-checks."""
