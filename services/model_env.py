"""Environment for the Hugging Face libraries under the embedder: set by each process entry point.

huggingface_hub and transformers read these variables once, when they are first imported, so they
must be in the environment before anything loads a model. Whether a process may reach a model hub or
print download bars is the process's decision, so the entry points (`matchmaker`, the benchmarks, the
test sessions) call `use_offline_models()` first thing; the matcher library does not write
`os.environ` (that would change its host process behind the host's back) and instead passes
`local_files_only=True` when it loads a model. Values already in the environment win.
"""

from __future__ import annotations

import os

MODEL_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # never fetch from a model hub: the default model ships as a package
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no download bars in logs
    "TRANSFORMERS_VERBOSITY": "error",  # no load-time warnings in logs
}


def use_offline_models() -> None:
    """Set the model environment of this process (and of the processes it starts), keeping values already set."""
    for name, value in MODEL_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


__all__ = ["MODEL_ENVIRONMENT", "use_offline_models"]
