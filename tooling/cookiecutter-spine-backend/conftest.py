"""Keep pytest out of the template: its files are Jinja, not Python, until rendered.

The repository's pytest collects `tooling/`; the generated package's tests are run by
`packages/spine-backends/tests/test_new_backend.py` after rendering them.
"""

collect_ignore_glob = ["{{cookiecutter.*"]
