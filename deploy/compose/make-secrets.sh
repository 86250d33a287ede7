#!/usr/bin/env bash
# The secrets of docker-compose.yml, in deploy/compose/secrets/ (git-ignored): a private CA (ca.pem, and
# ca.key, which stays here), the broker's key and certificate for the host names `kafka` and localhost
# (broker.pem), and one SCRAM password per principal (<principal>.password: broker, operator and each
# service). Run it once before the first `docker compose up`, with a Python that has the project's
# dependencies (a checkout's .venv, or `pip install` of the project):
#   PYTHON=.venv/bin/python deploy/compose/make-secrets.sh
# Files that exist are kept: the broker's storage holds the credentials it was formatted with. To start
# over: docker compose -f deploy/compose/docker-compose.yml down -v && rm -r deploy/compose/secrets
#
# Compose bind-mounts a file secret with its host owner and mode (it cannot change them), and the containers
# run as other users (the apache/kafka image as uid 1000, the matchmaker image as uid 10001). So the mounted
# files are made readable (0444) and the folder holding them is the guard: 0700, only its owner enters it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
secrets="$here/secrets"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}" # a checkout works without installing the project

"${PYTHON:-python3}" - "$secrets" <<'PYTHON'
import sys
from pathlib import Path

from services.kafka.credentials import LOCAL_PRINCIPALS, new_password, write_private
from services.kafka.tls import ensure_tls

folder = Path(sys.argv[1])
ensure_tls(folder, dns_names=["kafka"])  # makes the folder 0700
for principal in LOCAL_PRINCIPALS:
    path = folder / f"{principal}.password"
    if not path.exists():
        write_private(path, new_password() + "\n")
PYTHON

chmod 0700 "$secrets"
chmod 0444 "$secrets"/ca.pem "$secrets"/broker.pem "$secrets"/*.password
chmod 0600 "$secrets"/ca.key
echo "secrets for docker compose in $secrets:"
ls -l "$secrets"
