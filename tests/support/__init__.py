"""What the tests and the benchmarks share: a real broker, namespaces, processes, waiting, sample entities.

`bench/` imports from here too, so a benchmark runs the system exactly as the tests do.
"""

from services.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "artifacts"

__all__ = ["ARTIFACTS", "PROJECT_ROOT"]
