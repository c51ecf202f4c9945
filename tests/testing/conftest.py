"""pytester drives the plugin tests (``test_plugin.py``) in isolated inner pytest runs."""

pytest_plugins = ["pytester"]
