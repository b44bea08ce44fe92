from tests.explaind.explaind_helpers import run  # noqa: F401  (the shared fixture)
