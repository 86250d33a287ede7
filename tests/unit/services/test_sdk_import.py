"""The Python SDK is light: a platform that publishes events does not load the matcher's numeric stack."""

import subprocess
import sys

from tests.support import PROJECT_ROOT

CHECK = (
    "import services; from services import Publisher; "
    "from services.kafka.publisher import Publisher as Same, publish_file; "
    "import sys; assert Publisher is Same; "
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'torch', 'sentence_transformers'}); "
    "assert not heavy, heavy"
)


def test_publisher_import_loads_no_model_libraries():
    # a fresh interpreter: this test process has long imported everything
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
